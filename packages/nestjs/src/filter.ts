import { Catch, HttpException, Inject, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AccessDeniedError, PhiGuardError, StepUpRequiredError } from '@phiguard/core';
import { errorBody, errorCode, statusOf } from './errors.js';
import { PhiGuardRuntime, enterRequest } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';

interface HttpRequest {
  method?: string;
  headers: Record<string, unknown>;
  route?: { path?: string };
}
interface HttpResponse {
  headersSent?: boolean;
  setHeader(name: string, value: string): unknown;
  status(code: number): HttpResponse;
  json(body: unknown): unknown;
  destroy?(): unknown;
}

/**
 * Answers every error with `{ error: { code, status, reason?, requestId } }` and logs only the
 * error's name, code and status: messages and stacks are never sent or logged, since they often
 * quote PHI (a parse error quotes the body, a database error the values). Errors on PHI routes
 * not already audited are audited with their code.
 */
@Catch()
@Injectable()
export class PhiGuardExceptionFilter implements ExceptionFilter {
  constructor(@Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<HttpResponse>();
    // Errors before the guard (unknown route, unparsable body) get a request id here.
    const state = enterRequest(req, res);
    const status = statusOf(exception);
    const code = errorCode(exception, status);
    const reason = exception instanceof AccessDeniedError || exception instanceof StepUpRequiredError ? exception.reason : undefined;
    // Decisions (401/403/422) are audited, not logged; anything else is an operational error.
    if (!(exception instanceof PhiGuardError) || status >= 500) {
      this.runtime.logger?.error(
        { err: { type: exception instanceof Error ? exception.name : typeof exception, code, status }, requestId: state.requestId, route: req.route?.path },
        'request failed',
      );
    }
    // 45 CFR 164.312(b): a failure while serving PHI is recorded; a deliberate 4xx answer
    // (not found, bad request) is the handler's reply, as in the Express adapter.
    const deliberate = exception instanceof HttpException && status < 500;
    if (state.kind === 'phi' && state.resource !== null && !state.audited && !deliberate) {
      this.runtime.engine.recordError(state.context, state.resource, state.action, code);
      state.audited = true;
    }
    if (res.headersSent) {
      res.destroy?.();
      return;
    }
    if (exception instanceof StepUpRequiredError) {
      // RFC 9470: the client re-authenticates with a second factor, no older than max_age.
      res.setHeader(
        'WWW-Authenticate',
        `Bearer error="insufficient_user_authentication", error_description="A recent second factor is required", max_age=${exception.maxAgeSeconds}`,
      );
    } else if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).json(errorBody(code, status, state.requestId, reason));
  }
}
