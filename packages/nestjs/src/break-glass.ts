import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, Req, type Type } from '@nestjs/common';
import { AuthenticationRequiredError, type AccessContext, type BreakGlassService } from '@phiguard/core';
import { SkipPhiGuard } from './decorators.js';
import { PhiGuardRefusal } from './errors.js';
import { PhiGuardRuntime, enterRequest, type HttpRequest } from './runtime.js';
import { PHIGUARD_RUNTIME } from './tokens.js';


type Fields = Record<string, unknown>;
const fieldsOf = (body: unknown): Fields => (body !== null && typeof body === 'object' ? (body as Fields) : {});

/**
 * Break-glass endpoints under `path` (default `break-glass`), the NestJS counterpart of the
 * Express adapter's `breakGlassRoutes()`. List the returned class in a module that imports
 * `PhiGuardModule`:
 * - `POST /` `{ patientId, reason, justification, minutes? }` → 201 `{ grantId, expiresAt }`
 * - `DELETE /:grantId` → 204 (the grant's holder or a reviewer)
 * - `GET /reviews` → 200 grants awaiting after-action review (reviewers)
 * - `POST /:grantId/review` `{ decision: 'appropriate' | 'inappropriate' }` → 204 (reviewers)
 * The caller comes from the module's `context` resolver; every outcome is audited by core.
 * Requests then invoke a grant with `X-Break-Glass-Grant` on routes marked `@AllowBreakGlass()`.
 */
export function breakGlassController(path = 'break-glass'): Type<unknown> {
  @Controller(path)
  @SkipPhiGuard() // grant bodies carry ids and codes, not PHI
  class PhiGuardBreakGlassController {
    constructor(@Inject(PHIGUARD_RUNTIME) protected readonly runtime: PhiGuardRuntime) {}

    @Post()
    @HttpCode(201)
    @Header('Cache-Control', 'no-store')
    async grant(@Req() req: HttpRequest, @Body() body: unknown) {
      const [context, service] = await this.enter(req);
      const b = fieldsOf(body);
      return service.grant(context, {
        patientId: b.patientId as string,
        reason: b.reason as string,
        justification: b.justification as string,
        ...(b.minutes === undefined ? {} : { minutes: Number(b.minutes) }),
      });
    }

    @Get('reviews')
    @Header('Cache-Control', 'no-store')
    async reviews(@Req() req: HttpRequest) {
      const [context, service] = await this.enter(req);
      return service.pendingReviews(context);
    }

    @Delete(':grantId')
    @HttpCode(204)
    @Header('Cache-Control', 'no-store')
    async revoke(@Req() req: HttpRequest, @Param('grantId') grantId: string): Promise<void> {
      const [context, service] = await this.enter(req);
      await service.revoke(context, String(grantId));
    }

    @Post(':grantId/review')
    @HttpCode(204)
    @Header('Cache-Control', 'no-store')
    async review(@Req() req: HttpRequest, @Param('grantId') grantId: string, @Body() body: unknown): Promise<void> {
      const [context, service] = await this.enter(req);
      await service.review(context, String(grantId), fieldsOf(body).decision as 'appropriate' | 'inappropriate');
    }

    /** The caller (401 when the resolver refuses) and the service (404 when the policy declares no break-glass). */
    protected async enter(req: HttpRequest): Promise<[AccessContext, BreakGlassService]> {
      const service = this.runtime.engine.breakGlass;
      if (service === null) throw new PhiGuardRefusal('break_glass_disabled', 404);
      const state = enterRequest(this.runtime, req, undefined, () => null);
      let resolved: AccessContext | null | undefined;
      try {
        resolved = await this.runtime.resolve(req, { resource: null, action: 'break-glass', route: req.route?.path, allowBreakGlass: false });
      } catch {
        throw new AuthenticationRequiredError();
      }
      if (resolved === null || typeof resolved !== 'object') throw new AuthenticationRequiredError();
      const ua = req.headers['user-agent'];
      const request = { method: req.method, route: req.route?.path, ip: req.ip, userAgent: typeof ua === 'string' ? ua : undefined, requestId: state.requestId };
      return [{ ...resolved, request: { ...request, ...resolved.request } }, service];
    }
  }
  return PhiGuardBreakGlassController;
}
