import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type PurposeOfUse } from '@phiguard/core';
import { actionForMethod, classifyRoute, routeInfoOf, type Claim } from '@phiguard/core/adapter';
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
    const read = <T>(key: string) => this.reflector.getAllAndOverride<T | undefined>(key, targets);
    const state: PhiRequestState = enterRequest(this.runtime, req, http.getResponse(), () =>
      // An outer interceptor (a response cache) answered without running phiguard's: decide now.
      state.exchange.admit(() => this.runtime.resolve(req, routeInfoOf(state.exchange))),
    );
    const route = routeOf(req);
    const resource = read<string>(METADATA.resource);
    const declared = read<boolean>(METADATA.skip) ? 'non-phi' : resource === undefined ? undefined : claimOf(this.runtime, ctx, req, resource, route, read);
    const refused = classifyRoute(state.exchange, req.method, route, declared);
    // A write nobody classified is refused before its handler runs (no side effect to repeat).
    if (refused !== null) throw new PhiGuardAnswer(refused);
    return true;
  }
}

/** The claim a `@PhiResource` handler makes, with its decorators' action, break-glass, purpose and narrowing. */
function claimOf(runtime: PhiGuardRuntime, ctx: ExecutionContext, req: HttpRequest, resource: string, route: string | undefined, read: <T>(key: string) => T | undefined): Claim {
  const rules = read<MinimumNecessaryRules>(METADATA.minimumNecessary);
  // Compiled at bootstrap by the explorer; this finds it in the cache.
  const narrowing = rules === undefined ? null : runtime.narrowingFor(ctx.getHandler(), resource, rules, describe(ctx));
  const defaultPurpose = read<PurposeOfUse>(METADATA.purpose);
  return {
    resource,
    route,
    params: req.params ?? {},
    action: read<AuditAction>(METADATA.auditAction) ?? actionForMethod(req.method),
    allowBreakGlass: read<boolean>(METADATA.breakGlass) === true,
    ...(defaultPurpose === undefined ? {} : { defaultPurpose }),
    ...(narrowing === null ? {} : { narrow: (value) => narrowing.before(value) }),
  };
}

/** The route pattern Nest matched (`/patients/:id/results`), never the concrete URL. */
export function routeOf(req: HttpRequest): string | undefined {
  return typeof req.route?.path === 'string' ? req.route.path : undefined;
}

/** @internal `Controller.method`, for messages. */
export function describe(ctx: Pick<ExecutionContext, 'getClass' | 'getHandler'>): string {
  return `${ctx.getClass().name}.${ctx.getHandler().name}()`;
}
