import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, Req, applyDecorators, type Type } from '@nestjs/common';
import { BREAK_GLASS_DISABLED, BREAK_GLASS_ENDPOINTS, BREAK_GLASS_HEADERS, answerBreakGlass, breakGlassFacts, type BreakGlassEndpoint } from '@phiguard/core/adapter';
import { SkipPhiGuard } from './decorators.js';
import { PhiGuardRefusal } from './errors.js';
import { PhiGuardRuntime, enterRequest, type HttpRequest } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';

/** Nest declares status and headers statically: read them from core's endpoint table. */
const answers = (endpoint: BreakGlassEndpoint) =>
  applyDecorators(HttpCode(BREAK_GLASS_ENDPOINTS[endpoint].status), ...Object.entries(BREAK_GLASS_HEADERS).map(([k, v]) => Header(k, v)));

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

    @Post()
    @answers('grant')
    grant(@Req() req: HttpRequest, @Body() body: unknown) {
      return this.answer('grant', req, {}, body);
    }

    @Get('reviews')
    @answers('reviews')
    reviews(@Req() req: HttpRequest) {
      return this.answer('reviews', req, {}, undefined);
    }

    @Delete(':grantId')
    @answers('revoke')
    revoke(@Req() req: HttpRequest, @Param('grantId') grantId: string) {
      return this.answer('revoke', req, { grantId }, undefined);
    }

    @Post(':grantId/review')
    @answers('review')
    review(@Req() req: HttpRequest, @Param('grantId') grantId: string, @Body() body: unknown) {
      return this.answer('review', req, { grantId }, body);
    }

    /** 404 when the policy declares no break-glass; core's typed errors go to the exception filter. */
    protected async answer(endpoint: BreakGlassEndpoint, req: HttpRequest, params: Record<string, string>, body: unknown): Promise<unknown> {
      const service = this.runtime.engine.breakGlass;
      if (service === null) throw new PhiGuardRefusal(BREAK_GLASS_DISABLED.code, BREAK_GLASS_DISABLED.status);
      const state = enterRequest(this.runtime, req, undefined, () => null);
      const route = req.route?.path;
      const resolve = () => this.runtime.resolve(req, { resource: null, action: 'break-glass', route, allowBreakGlass: false });
      return (await answerBreakGlass(endpoint, service, breakGlassFacts(state, route, resolve, params, body))).body;
    }
  }
  return PhiGuardBreakGlassController;
}
