import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type PurposeOfUse } from '@phiguard/core';
import { actionForMethod, runUnclaimed } from '@phiguard/core/adapter';
import { type AuditAction } from '@phiguard/core/audit';
import type { MinimumNecessaryRules } from './decorators.js';
import { PhiGuardRuntime, enterRequest, type HttpRequest, type PhiRequestState } from './runtime.js';
import { METADATA, PHIGUARD_RUNTIME } from './tokens.js';
import { PhiGuardAnswer } from './errors.js';

/**
 * Classifies the route before anything else runs: starts the request's exchange, puts the
 * response behind phiguard's gate, and claims the route for its `@PhiResource` (or skips it,
 * `@SkipPhiGuard`). The access decision itself is taken by {@link PhiGuardInterceptor}, after
 * every guard (the application's AuthGuard included). Registered app-wide by `PhiGuardModule`.
 * Members are protected so an application can extend it.
 */
@Injectable()
export class PhiGuardGuard implements CanActivate {
  constructor(
    @Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const http = ctx.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const targets = [ctx.getHandler(), ctx.getClass()];
    const resource = this.reflector.getAllAndOverride<string>(METADATA.resource, targets);
    const route = routeOf(req);
    const action = this.reflector.getAllAndOverride<AuditAction>(METADATA.auditAction, targets) ?? actionForMethod(req.method);
    const allowBreakGlass = this.reflector.getAllAndOverride<boolean>(METADATA.breakGlass, targets) === true;
    const state: PhiRequestState = enterRequest(this.runtime, req, http.getResponse(), () =>
      // An outer interceptor (a response cache) answered without running phiguard's: decide now.
      state.exchange.admit(() => this.runtime.resolve(req, { resource: resource ?? null, action, route, allowBreakGlass })),
    );
    if (this.reflector.getAllAndOverride<boolean>(METADATA.skip, targets)) {
      state.exchange.skip();
      return true;
    }
    if (resource === undefined) {
      const refused = runUnclaimed(state.exchange, req.method, route);
      if (refused !== null) throw new PhiGuardAnswer(refused);
      return true;
    }
    const rules = this.reflector.getAllAndOverride<MinimumNecessaryRules>(METADATA.minimumNecessary, targets);
    // Compiled at bootstrap by the explorer; this finds it in the cache.
    const narrowing = rules === undefined ? null : this.runtime.narrowingFor(ctx.getHandler(), resource, rules, describe(ctx));
    const defaultPurpose = this.reflector.getAllAndOverride<PurposeOfUse>(METADATA.purpose, targets);
    state.exchange.claim({
      resource,
      route,
      params: req.params ?? {},
      action,
      allowBreakGlass,
      ...(defaultPurpose === undefined ? {} : { defaultPurpose }),
      ...(narrowing === null ? {} : { narrow: (value) => narrowing.before(value) }),
    });
    return true;
  }
}

/** The route pattern Nest matched (`/patients/:id/results`), never the concrete URL. */
export function routeOf(req: HttpRequest): string | undefined {
  return typeof req.route?.path === 'string' ? req.route.path : undefined;
}

/** @internal `Controller.method`, for messages. */
export function describe(ctx: Pick<ExecutionContext, 'getClass' | 'getHandler'>): string {
  return `${ctx.getClass().name}.${ctx.getHandler().name}()`;
}
