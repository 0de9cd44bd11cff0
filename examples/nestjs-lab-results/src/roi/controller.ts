import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { AccessDeniedError, AuthenticationRequiredError, type AccessContext } from '@phiguard/core';
import { PHIGUARD_RUNTIME, SkipPhiGuard, phiRequestState, type PhiGuardRuntime } from '@phiguard/nestjs';
import { RoiError, type ReleaseOfInformation, type ReleaseRequest } from './service.js';

/** Injection token of the release-of-information service. */
export const ROI = 'lab-results:release-of-information';
/** The role allowed to work the release-of-information desk. */
const DESK_ROLE = 'release-of-information';

interface HttpRequest {
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
 * - `POST /roi/authorizations/:id/revoke` → 204
 * - `GET /roi/requests/:id/export` → 200 the watermarked JSON export (audited `disclose`)
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

  @Post('authorizations/:id/revoke')
  @HttpCode(204)
  async revoke(@Req() req: HttpRequest, @Param('id') id: string): Promise<void> {
    await this.staff(req);
    this.roi.revoke(id);
  }

  @Get('requests/:id/export')
  @Header('Cache-Control', 'no-store')
  async export(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Param('id') id: string) {
    const staff = await this.staff(req);
    const released = await this.roi.fulfil(staff, id);
    // The file name names the release, never the patient.
    res.setHeader('Content-Disposition', `attachment; filename="${released.metadata.releaseId}.json"`);
    return released;
  }

  /** The caller, who must work the desk (role `release-of-information`). */
  private async staff(req: HttpRequest): Promise<AccessContext> {
    let resolved: AccessContext;
    try {
      resolved = await this.runtime.resolve(req, { resource: null, action: 'disclose', route: req.route?.path, allowBreakGlass: false });
    } catch {
      throw new AuthenticationRequiredError();
    }
    if (!resolved.roles.includes(DESK_ROLE)) throw new AccessDeniedError('purpose_not_permitted');
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
}
