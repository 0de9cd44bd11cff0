import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Post, Req, type Type } from '@nestjs/common';
import { BREAK_GLASS_DISABLED, BREAK_GLASS_ENDPOINTS, BREAK_GLASS_HEADERS, answerBreakGlass, breakGlassFacts, type BreakGlassEndpoint } from '@phiguard/core/adapter';
import { SkipPhiGuard } from './decorators.js';
import { PhiGuardRefusal } from './errors.js';
import { PhiGuardRuntime, enterRequest, type HttpRequest } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';

const ROUTE = { GET: Get, POST: Post, DELETE: Delete } as const;

/**
 * Break-glass endpoints under `path` (default `break-glass`), the NestJS counterpart of the
 * Express adapter's `breakGlassRoutes()`. List the returned class in a module that imports
 * `PhiGuardModule`:
 * - `POST /` `{ patientId, reason, justification, minutes? }` → 201 `{ grantId, expiresAt }`
 * - `DELETE /:grantId` → 204 (the grant's holder or a reviewer)
 * - `GET /reviews` → 200 grants awaiting after-action review (reviewers)
 * - `POST /:grantId/review` `{ decision: 'appropriate' | 'inappropriate' }` → 204 (reviewers)
 * The caller comes from the module's `context` resolver; core answers and audits every outcome.
 * Requests then invoke a grant with `X-Break-Glass-Grant` on routes marked `@AllowBreakGlass()`.
 */
export function breakGlassController(path = 'break-glass'): Type<unknown> {
  @Controller(path)
  @SkipPhiGuard() // grant bodies carry ids and codes, not PHI
  class PhiGuardBreakGlassController {
    constructor(@Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime) {}

    /** 404 when the policy declares no break-glass; core's typed errors go to the exception filter. */
    protected async answer(endpoint: BreakGlassEndpoint, req: HttpRequest, params: Record<string, unknown>, body: unknown): Promise<unknown> {
      const service = this.runtime.engine.breakGlass;
      if (service === null) throw new PhiGuardRefusal(BREAK_GLASS_DISABLED.code, BREAK_GLASS_DISABLED.status);
      const state = enterRequest(this.runtime, req, undefined, () => null);
      const route = req.route?.path;
      const resolve = () => this.runtime.resolve(req, { resource: null, action: 'break-glass', route, allowBreakGlass: false });
      return (await answerBreakGlass(endpoint, service, breakGlassFacts(state, route, resolve, params, body))).body;
    }
  }
  // One handler per endpoint of core's table (method, path, status), named after the endpoint.
  const proto = PhiGuardBreakGlassController.prototype as unknown as Record<string, unknown>;
  for (const [endpoint, { method, path: route, status }] of Object.entries(BREAK_GLASS_ENDPOINTS)) {
    proto[endpoint] = function (this: PhiGuardBreakGlassController, req: HttpRequest, body: unknown) {
      return this.answer(endpoint as BreakGlassEndpoint, req, req.params ?? {}, body);
    };
    const headers = Object.entries(BREAK_GLASS_HEADERS).map(([k, v]) => Header(k, v));
    Reflect.decorate([ROUTE[method](route), HttpCode(status), ...headers], proto, endpoint, Object.getOwnPropertyDescriptor(proto, endpoint));
    Req()(proto, endpoint, 0);
    Body()(proto, endpoint, 1);
  }
  return PhiGuardBreakGlassController;
}
