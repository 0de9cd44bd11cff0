import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  AccessDeniedError,
  AuthenticationRequiredError,
  PhiGuardError,
  actionForMethod,
  denialEvent,
  type AccessContext,
  type AuditAction,
  type PurposeOfUse,
  type RequestInfo,
} from '@phiguard/core';
import type { MinimumNecessaryRules } from './decorators.js';
import { PhiGuardRefusal } from './errors.js';
import { PhiGuardRuntime, enterRequest, type PhiRequestState } from './runtime.js';
import { METADATA, PHIGUARD_RUNTIME } from './tokens.js';

/** The parts of an Express request the guard reads. */
interface HttpRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, unknown>;
  body?: unknown;
  ip?: string;
  route?: { path?: string };
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\b/i;

/**
 * Decides access before the handler runs: resolves the context, asks the engine, refuses with
 * 401 or 403 (through the exception filter), and applies the resource's request-body DLP.
 * Registered app-wide by `PhiGuardModule`; routes without `@PhiResource` pass. Members are
 * protected so an application can extend it.
 */
@Injectable()
export class PhiGuardGuard implements CanActivate {
  constructor(
    @Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<HttpRequest>();
    const state = enterRequest(req, ctx.switchToHttp().getResponse());
    const targets = [ctx.getHandler(), ctx.getClass()];
    state.route = req.route?.path;
    if (this.reflector.getAllAndOverride<boolean>(METADATA.skip, targets)) {
      state.kind = 'non-phi';
      return true;
    }
    const resource = this.reflector.getAllAndOverride<string>(METADATA.resource, targets);
    if (resource === undefined) {
      state.kind = this.runtime.onUnmappedRoute === 'pass' ? 'non-phi' : 'unmapped';
      return true;
    }
    state.kind = 'phi';
    state.resource = resource;
    state.action = this.reflector.getAllAndOverride<AuditAction>(METADATA.auditAction, targets) ?? actionForMethod(req.method);
    state.allowBreakGlass = this.reflector.getAllAndOverride<boolean>(METADATA.breakGlass, targets) === true;
    const rules = this.reflector.getAllAndOverride<MinimumNecessaryRules>(METADATA.minimumNecessary, targets);
    if (rules !== undefined) {
      // Compiled at bootstrap by the explorer; this finds it in the cache.
      state.narrowing = this.runtime.narrowingFor(ctx.getHandler(), resource, rules, describe(ctx));
    }
    const resolved = await this.resolveContext(req, state, this.reflector.getAllAndOverride<PurposeOfUse>(METADATA.purpose, targets));
    const { engine } = this.runtime;
    const compiled = engine.policy.resources.get(resource)!;
    const raw = compiled.subjectParam === null ? undefined : req.params?.[compiled.subjectParam];
    const subject = typeof raw === 'string' ? raw : undefined;
    state.context = resolved;
    // A break-glass grant to validate or a relationship to look up: the state store or the
    // relationship resolver answers first; when it cannot, the request fails closed.
    let context: AccessContext;
    try {
      context = await engine.resolve(this.withGrant(req, state, resolved), resource, subject);
    } catch (err) {
      engine.recordError(resolved, resource, state.action, (err as { code?: string }).code ?? 'internal_error');
      state.audited = true;
      throw err;
    }
    state.context = context;
    const decision = engine.authorize(context, resource, state.action, subject);
    if (decision.effect === 'deny') {
      state.audited = true; // authorize() recorded the denial
      await decision.pending; // an asynchronous sink has it before the client hears of it
      throw new AccessDeniedError(decision.reason);
    }
    state.plan = decision.plan;
    if (compiled.dlp !== null && hasBody(req)) await this.inspectBody(req, state);
    return true;
  }

  /**
   * The break-glass grant the request invokes (`X-Break-Glass-Grant`, unless the resolver set
   * one), honoured only on routes marked `@AllowBreakGlass()`; elsewhere any claim is dropped,
   * so the ordinary decision applies.
   */
  protected withGrant(req: HttpRequest, state: PhiRequestState, context: AccessContext): AccessContext {
    if (!state.allowBreakGlass) {
      if (context.breakGlass === undefined) return context;
      const { breakGlass: _dropped, ...rest } = context;
      return rest;
    }
    const header = req.headers['x-break-glass-grant'];
    if (context.breakGlass !== undefined || typeof header !== 'string' || header.length === 0) return context;
    return { ...context, breakGlass: { grantId: header.slice(0, 64) } };
  }

  /** Resolves the context with the route's default purpose and the request facts; 401 when it fails. */
  protected async resolveContext(req: HttpRequest, state: PhiRequestState, defaultPurpose: PurposeOfUse | undefined): Promise<AccessContext> {
    let resolved: AccessContext | null | undefined;
    try {
      resolved = await this.runtime.resolve(req, {
        resource: state.resource!,
        action: state.action,
        route: state.route,
        allowBreakGlass: state.allowBreakGlass,
      });
    } catch (err) {
      throw this.unauthenticated(req, state, err);
    }
    if (resolved === null || typeof resolved !== 'object') throw this.unauthenticated(req, state, undefined);
    const purpose = resolved.purposeOfUse === undefined || resolved.purposeOfUse === null || resolved.purposeOfUse === '' ? defaultPurpose ?? resolved.purposeOfUse : resolved.purposeOfUse;
    return { ...resolved, purposeOfUse: purpose ?? null, request: { ...requestInfo(req, state), ...resolved.request } };
  }

  /** The resolver's own PhiGuardError, or 401; audited with no actor. */
  protected unauthenticated(req: HttpRequest, state: PhiRequestState, err: unknown): PhiGuardError {
    const e = err instanceof PhiGuardError ? err : new AuthenticationRequiredError();
    const anonymous = { principal: undefined, roles: [], request: requestInfo(req, state) } as unknown as AccessContext;
    try {
      void this.runtime.engine.write(denialEvent(state.action, anonymous, state.resource!, e.code))?.catch(() => undefined);
    } catch {
      /* refused either way */
    }
    state.audited = true;
    return e;
  }

  /** Request-body DLP: 422 on block (audited by core), the redacted body on redact, 415 on bodies it cannot read. */
  protected async inspectBody(req: HttpRequest, state: PhiRequestState): Promise<void> {
    const type = String(req.headers['content-type'] ?? '');
    const readable = JSON_TYPE.test(type) || (/^text\//i.test(type) && typeof req.body === 'string');
    if (!readable) {
      state.audited = true; // refused before anything was read, as the Express adapter does: no event
      throw new PhiGuardRefusal('dlp_unscannable', 415);
    }
    let inspection;
    try {
      inspection = this.runtime.engine.inspect(state.context, state.resource!, state.action, req.body);
    } catch (err) {
      state.audited = true; // a block is recorded by core, with counts by type
      throw err;
    }
    if (inspection === null) return;
    req.body = inspection.value;
    if (inspection.pending !== undefined) {
      await inspection.pending.catch((err: unknown) => {
        state.audited = true; // the audit store is down: recording the failure would fail too
        throw err;
      });
    }
  }
}

function hasBody(req: HttpRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function requestInfo(req: HttpRequest, state: PhiRequestState): RequestInfo {
  const traceparent = req.headers.traceparent;
  const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  const ua = req.headers['user-agent'];
  return {
    method: req.method,
    route: state.route,
    ip: req.ip,
    userAgent: typeof ua === 'string' ? ua : undefined,
    requestId: state.requestId,
    traceId: trace?.[1],
  };
}

/** @internal `Controller.method`, for messages. */
export function describe(ctx: Pick<ExecutionContext, 'getClass' | 'getHandler'>): string {
  return `${ctx.getClass().name}.${ctx.getHandler().name}()`;
}
