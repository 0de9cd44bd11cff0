import { Catch, HttpException, Inject, Injectable, Optional, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { refusal, type Answer } from '@phiguard/core/adapter';
import { PhiGuardAnswer, PhiGuardRefusal } from './errors.js';
import { PhiGuardRuntime, enterRequest, type HttpRequest } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';

/**
 * Answers errors on PHI routes, unclaimed routes and unknown URLs through the exchange: a code, the
 * status, a reason code and the request id, never a message (messages often quote PHI: a parse
 * error quotes the body, a database error the values); failures on PHI routes are audited once.
 * Controllers marked `@SkipPhiGuard()` keep Nest's own error handling.
 */
@Catch()
@Injectable()
export class PhiGuardExceptionFilter extends BaseExceptionFilter {
  constructor(
    @Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime,
    @Optional() @Inject(HttpAdapterHost) adapters?: HttpAdapterHost,
  ) {
    super(adapters?.httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<{ headersSent?: boolean; destroy?(): unknown; status(code: number): unknown; setHeader(n: string, v: string): unknown; json(b: unknown): unknown }>();
    // Errors before the guard (unknown route, unparsable body) start the exchange here.
    const state = enterRequest(this.runtime, req, res, () => null);
    if (state.exchange.kind === 'non-phi' && exception instanceof HttpException && (this.applicationRef ?? this.httpAdapterHost?.httpAdapter) !== undefined) {
      // Nest's own answer on routes that carry no PHI (the app's own error format, FHIR
      // OperationOutcome…). Other errors still get a code only: Nest's default logs their messages.
      return super.catch(exception, host);
    }
    const answer: Answer =
      exception instanceof PhiGuardAnswer
        ? exception.answer
        : exception instanceof PhiGuardRefusal
          ? refusal(state, exception.status, exception.code)
          : state.exchange.fail(exception);
    if (state.gate !== null) return state.gate.answer(answer);
    if (res.headersSent === true) {
      res.destroy?.();
      return;
    }
    for (const [k, v] of Object.entries(answer.headers)) res.setHeader(k, v);
    res.status(answer.status);
    res.json(answer.body);
  }
}
