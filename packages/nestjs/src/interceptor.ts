import { Readable } from 'node:stream';
import { Inject, Injectable, StreamableFile, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, mergeMap, takeLast, type Observable } from 'rxjs';
import { PhiGuardRefusal } from './errors.js';
import { disclosureEvent, scrubHeaders, type HeaderTarget } from '@phiguard/core';
import { PhiGuardRuntime, narrow, phiRequestState, strip, type PhiRequestState } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';

type HttpResponse = HeaderTarget;

/**
 * Runs the response pipeline on what a PHI route's handler returns (a value, a promise or an
 * Observable): decrypts the fields the caller's plan reads (`prepare`), projects and audits
 * (`release`), and emits only after the audit write has resolved. Raw bodies (strings, Buffers,
 * streams, `StreamableFile`) are refused unless the resource declares `rawBody: 'allow'`. Members
 * are protected so an application can extend it.
 */
@Injectable()
export class PhiGuardInterceptor implements NestInterceptor {
  constructor(@Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const http = ctx.switchToHttp();
    const state = phiRequestState(http.getRequest<object>());
    if (state === null || state.kind === 'non-phi') return next.handle();
    const res = http.getResponse<HttpResponse>();
    // Nest sends the last value of an Observable: only that one is released (and audited).
    return next.handle().pipe(
      takeLast(1),
      mergeMap((value) => from(this.protect(state, res, value))),
    );
  }

  /** The pipeline for one value. Rejections reach the exception filter, which answers with a code. */
  protected async protect(state: PhiRequestState, res: HttpResponse, value: unknown): Promise<unknown> {
    if (state.kind === 'unmapped') return this.unmapped(state, value);
    res.setHeader('Cache-Control', 'no-store');
    scrubHeaders(res, this.runtime.engine.scanner);
    if (isRaw(value)) return this.raw(state, value);
    const { engine } = this.runtime;
    const context = state.context!;
    const narrowing = state.narrowing;
    const body = narrowing === null ? value : narrow(narrowing, value, context);
    let plaintexts = null;
    try {
      plaintexts = await engine.prepare(state.plan!, body);
    } catch (err) {
      // A key service or ciphertext failure: audited here, answered 503/500 by the filter.
      engine.recordError(context, state.resource!, state.action, (err as { code?: string }).code ?? 'internal_error');
      state.audited = true;
      throw err;
    }
    state.audited = true; // release() audits its own failures (denial, limits, audit outage)
    const release = engine.release(state.plan!, body, context, state.action, plaintexts);
    if (release.pending !== undefined) await release.pending;
    state.audited = false;
    const out = narrowing === null ? release.value : strip(narrowing, release.value);
    // A value that projects to nothing is sent as null, as the Express adapter does.
    return out === undefined ? null : out;
  }

  /** A body on a route nobody classified: refused (500) unless `onUnmappedRoute: 'pass'`. */
  protected unmapped(state: PhiRequestState, value: unknown): unknown {
    if (value === undefined || value === null) return value;
    const route = state.route ?? '(unknown route)';
    const { logger, warned } = this.runtime;
    if (logger && !warned.has(route) && warned.size < 1000) {
      warned.add(route);
      logger.error(
        { route, code: 'unmapped_route' },
        'phiguard refused a body on a route no resource claims: add @PhiResource(…) or @SkipPhiGuard() to the controller or handler',
      );
    }
    throw new PhiGuardRefusal('unmapped_route', 500);
  }

  /** Raw bodies: phiguard cannot look inside, so they leave only where the resource allows it (audited as `(raw body)`). */
  protected async raw(state: PhiRequestState, value: unknown): Promise<unknown> {
    const { engine } = this.runtime;
    const resource = engine.policy.resources.get(state.resource!)!;
    if (resource.rawBody !== 'allow') {
      engine.recordError(state.context, state.resource!, state.action, 'raw_body_denied');
      state.audited = true;
      if (value instanceof Readable) value.destroy();
      throw new PhiGuardRefusal('raw_body_denied', 500);
    }
    const context = state.context!;
    const event = disclosureEvent(state.action, context, {
      resource: state.resource!,
      purposeOfUse: state.plan!.purposeOfUse,
      roles: state.plan!.roles,
      disclosed: ['(raw body)'],
      transforms: {},
    }, {});
    state.audited = true;
    await engine.write(event);
    state.audited = false;
    return value;
  }
}

/** Strings, binary data and streams: nothing phiguard can project field by field. */
export function isRaw(value: unknown): boolean {
  if (typeof value === 'string' || value instanceof StreamableFile || value instanceof Readable) return true;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  return value !== null && typeof value === 'object' && typeof (value as { pipe?: unknown }).pipe === 'function';
}
