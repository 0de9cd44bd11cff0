import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { AccessDeniedError, AuthenticationRequiredError, type AccessContext } from '@phiguard/core';
import { denialEvent } from '@phiguard/core/audit';
import { type DenyList } from '@phiguard/core/governance';
import { PHIGUARD_RUNTIME, SkipPhiGuard, phiRequestState, type PhiGuardRuntime } from '@phiguard/nestjs';
import { RoiError, type ReleaseOfInformation, type ReleaseRequest } from './service.js';
import { ROLES } from './governance.js';

/** Injection token of the release-of-information service. */
export const ROI = 'lab-results:release-of-information';

export interface HttpRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  route?: { path?: string };
}
interface HttpResponse {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

/** What intake and review answer: the request's state, without the authorization's contents. */
const summary = (r: ReleaseRequest) => ({
  id: r.id,
  requesterType: r.requesterType,
  status: r.status,
  reviewRequired: r.sensitive.length > 0,
  createdBy: r.createdBy,
  reviewedBy: r.reviewedBy,
});

/**
 * The release-of-information desk. Its own routes carry request metadata, not PHI, so phiguard's
 * route pipeline skips them; the export is projected and audited by the service through the
 * release matrix (`roi/policy.ts`) instead.
 *
 * - `POST /roi/requests` intake → 201 `{ id, status, reviewRequired }` or 422 `{ error: { code: 'roi_invalid', problems } }`
 * - `POST /roi/requests/:id/review` `{ decision: 'approve' | 'reject' }` → 200 (another desk member)
 * - `GET /roi/requests/:id/export` → 200 the watermarked JSON export (audited `disclose`, with its digest)
 * Revocations, recipients, holds and the accounting are the privacy office's (`/governance`).
 */
@Controller('roi')
@SkipPhiGuard()
export class RoiController {
  constructor(
    @Inject(ROI) private readonly roi: ReleaseOfInformation,
    @Inject(PHIGUARD_RUNTIME) private readonly runtime: PhiGuardRuntime,
  ) {}

  @Post('requests')
  @Header('Cache-Control', 'no-store')
  async intake(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Body() body: unknown) {
    const staff = await this.staff(req);
    try {
      const request = await this.roi.intake(staff, body);
      res.status(201);
      return summary(request);
    } catch (err) {
      // Problems name fields and rules, never values: the desk needs them to fix the request.
      if (err instanceof RoiError && err.problems.length > 0) {
        res.status(err.status);
        return { error: { code: err.code, status: err.status, problems: err.problems } };
      }
      throw err;
    }
  }

  @Post('requests/:id/review')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async review(@Req() req: HttpRequest, @Param('id') id: string, @Body() body: unknown) {
    const staff = await this.staff(req);
    return summary(await this.roi.review(staff, id, (body as { decision?: unknown } | undefined)?.decision));
  }

  @Get('requests/:id/export')
  @Header('Cache-Control', 'no-store')
  async export(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Param('id') id: string) {
    const staff = await this.staff(req);
    const released = await this.roi.fulfil(staff, id);
    // The file name names the release, never the patient. The body is sent as is: its digest is on record.
    res.setHeader('Content-Disposition', `attachment; filename="${released.releaseId}.json"`);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    return released.body;
  }

  /** The caller, who must work the desk (role `release-of-information`). */
  private async staff(req: HttpRequest): Promise<AccessContext> {
    return callerWith(this.runtime, req, ROLES.desk, this.roi.denyList);
  }
}

/**
 * The caller resolved from the bearer token, who must hold `role` when given (401 without a
 * token, 403 without the role) and not be on the deny list (403 `principal_disabled`): these
 * routes skip phiguard's pipeline, so they check containment themselves.
 */
export async function callerWith(runtime: PhiGuardRuntime, req: HttpRequest, role: string | null, denyList?: DenyList): Promise<AccessContext> {
  let resolved: AccessContext;
  try {
    resolved = await runtime.resolve(req, { resource: null, action: 'disclose', route: req.route?.path, allowBreakGlass: false });
  } catch {
    throw new AuthenticationRequiredError();
  }
  if (role !== null && !resolved.roles.includes(role)) throw new AccessDeniedError('purpose_not_permitted');
  const disabled = denyList === undefined ? null : await denyList.check(resolved);
  if (disabled !== null) {
    // Recorded like the PHI pipeline records it, before the refusal answers.
    await runtime.engine.write(denialEvent('update', { ...resolved, request: { method: req.method, route: req.route?.path } }, 'governance', disabled));
    throw new AccessDeniedError(disabled);
  }
  const ua = req.headers['user-agent'];
  return {
    ...resolved,
    request: {
      method: req.method,
      route: req.route?.path,
      ip: req.ip,
      userAgent: typeof ua === 'string' ? ua : undefined,
      // The id phiguard answered with in X-Request-Id, repeated in the audit event and the watermark.
      requestId: phiRequestState(req)?.requestId,
    },
  };
}
