import { Readable } from 'node:stream';
import { Inject, Injectable, StreamableFile, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, mergeMap, takeLast, type Observable } from 'rxjs';
import { admitRequest, isAnswer, isRawValue, releaseReturned, routeInfoOf } from '@phiguard/core/adapter';
import { PhiGuardAnswer } from './errors.js';
import { PhiGuardRuntime, phiRequestState, type HttpRequest, type Narrowing, type PhiRequestState } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';

/**
 * Decides and releases, after every guard: resolves the context (the application's AuthGuard has
 * run), lets core decide, applies request DLP, then runs the handler and releases what it returns
 * (a value, a promise or an Observable) through the caller's plan; the response gate lets only
 * that released body out. Raw bodies (strings, Buffers, streams, `StreamableFile`) leave only
 * where the resource declares `rawBody: 'allow'`. Members are protected so an application can
 * extend it.
 */
@Injectable()
export class PhiGuardInterceptor implements NestInterceptor {
  constructor(
    @Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<HttpRequest>();
    const state = phiRequestState(req);
    if (state === null || state.exchange.kind !== 'phi') return next.handle();
    const { exchange } = state;
    const admitted = await admitRequest(exchange, () => this.runtime.resolve(req, routeInfoOf(exchange)), String(req.headers['content-type'] ?? ''), req.body);
    if (isAnswer(admitted)) throw new PhiGuardAnswer(admitted);
    if (admitted.body !== req.body) req.body = admitted.body; // request DLP redacted it
    // The guard compiled (or found) the handler's narrowing when it claimed the route.
    const narrowing = this.runtime.narrowings.get(ctx.getHandler()) ?? null;
    // Nest sends the last value of an Observable: only that one is released (and audited).
    return next.handle().pipe(
      takeLast(1),
      mergeMap((value) => from(this.protect(state, value, narrowing))),
    );
  }

  /** Releases one value (core decides what passes the gate); a refusal becomes an exception the filter answers. */
  protected async protect(state: PhiRequestState, value: unknown, narrowing: Narrowing | null): Promise<unknown> {
    const released = await releaseReturned(state, value, isRaw(value), narrowing);
    if (!isAnswer(released)) return released.body;
    if (value instanceof Readable) value.destroy();
    throw new PhiGuardAnswer(released);
  }
}

/** Strings, binary data and streams (core's raw values, and Nest's `StreamableFile`): nothing phiguard can project field by field. */
export function isRaw(value: unknown): boolean {
  return value instanceof StreamableFile || isRawValue(value);
}
