import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { OptionsError } from '@phiguard/core';
import { accountingOfDisclosures } from '@phiguard/core/audit';
import { type DenyTarget, type RecipientInput } from '@phiguard/core/governance';
import { PHIGUARD_RUNTIME, SkipPhiGuard, type PhiGuardRuntime } from '@phiguard/nestjs';
import { callerWith, type HttpRequest } from './controller.js';
import { ROLES, type Governance } from './governance.js';

/** Injection token of the governance services. */
export const GOVERNANCE = 'lab-results:governance';

interface HttpResponse {
  status(code: number): unknown;
}
type Fields = Record<string, unknown>;
const fields = (body: unknown): Fields => (body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Fields) : {});

/**
 * The privacy and security offices' routes. Bodies carry registry ids, codes and dates, not PHI,
 * so phiguard's route pipeline skips them; core checks the roles and audits every change.
 * - `POST /governance/recipients` `{ id, type, name, address?, agreement? }` → 201 (privacy officer)
 * - `POST /governance/authorizations/:id/revoke` → 204 (privacy officer; effective on every instance)
 * - `GET /governance/patients/:id/disclosures?from&to` → 200 the accounting of disclosures (45 CFR 164.528)
 * - `POST /governance/legal-holds` `{ id, patientId?, caseRef? }` → 201; `DELETE /governance/legal-holds/:id` → 204
 * - `POST /governance/retention/purge` → 200 what was purged and held, per store
 * - `POST /governance/deny-list/disable` `{ principal | client, reason }`, `/enable` `{ principal | client }` → 204 (security officer)
 * - `POST /governance/break-glass/:grantId/approve` → 200 `{ expiresAt }` (a break-glass reviewer, not the requester)
 */
@Controller('governance')
@SkipPhiGuard()
export class GovernanceController {
  constructor(
    @Inject(GOVERNANCE) private readonly governance: Governance,
    @Inject(PHIGUARD_RUNTIME) private readonly runtime: PhiGuardRuntime,
  ) {}

  @Post('recipients')
  @Header('Cache-Control', 'no-store')
  async register(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Body() body: unknown) {
    const officer = await callerWith(this.runtime, req, ROLES.privacy, this.governance.denyList);
    return this.answer(res, 201, async () => {
      const e = await this.governance.recipients.register(officer, fields(body) as unknown as RecipientInput);
      return { id: e.id, type: e.type, agreement: e.agreement?.status ?? null };
    });
  }

  @Post('authorizations/:id/revoke')
  @HttpCode(204)
  async revoke(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Param('id') id: string) {
    const officer = await callerWith(this.runtime, req, ROLES.privacy, this.governance.denyList);
    return this.answer(res, 204, async () => {
      await this.governance.authorizations.revoke(officer, id);
      return undefined;
    });
  }

  @Get('patients/:id/disclosures')
  @Header('Cache-Control', 'no-store')
  async accounting(@Req() req: HttpRequest, @Param('id') id: string, @Query('from') from?: string, @Query('to') to?: string) {
    await callerWith(this.runtime, req, ROLES.privacy, this.governance.denyList);
    return accountingOfDisclosures(this.governance.accountingSource, {
      patientRef: this.runtime.engine.policy.patientRef(id),
      rule: '164.528',
      recipientName: this.governance.recipients.nameOf,
      ...(typeof from === 'string' ? { from } : {}),
      ...(typeof to === 'string' ? { to } : {}),
    });
  }

  @Post('legal-holds')
  @Header('Cache-Control', 'no-store')
  async hold(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Body() body: unknown) {
    const officer = await callerWith(this.runtime, req, ROLES.privacy, this.governance.denyList);
    const b = fields(body);
    return this.answer(res, 201, async () => {
      const h = await this.governance.holds.place(officer, {
        id: b.id as string,
        ...(b.patientId === undefined ? {} : { patientId: b.patientId as string }),
        ...(b.caseRef === undefined ? {} : { caseRef: b.caseRef as string }),
      });
      return { id: h.id };
    });
  }

  @Delete('legal-holds/:id')
  @HttpCode(204)
  async release(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Param('id') id: string) {
    const officer = await callerWith(this.runtime, req, ROLES.privacy, this.governance.denyList);
    return this.answer(res, 204, async () => {
      await this.governance.holds.release(officer, id);
      return undefined;
    });
  }

  @Post('retention/purge')
  @HttpCode(200)
  async purge(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse) {
    const officer = await callerWith(this.runtime, req, ROLES.privacy, this.governance.denyList);
    if (this.governance.purge === null) {
      res.status(404);
      return { error: { code: 'retention_not_configured', status: 404 } };
    }
    return this.governance.purge.run(officer);
  }

  @Post('deny-list/:op')
  @HttpCode(204)
  @Header('Cache-Control', 'no-store')
  async contain(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Param('op') op: string, @Body() body: unknown) {
    const officer = await callerWith(this.runtime, req, ROLES.security, this.governance.denyList);
    const b = fields(body);
    const target = (typeof b.principal === 'string' ? { principal: b.principal } : { client: b.client }) as DenyTarget;
    return this.answer(res, 204, async () => {
      if (op === 'disable') await this.governance.denyList.disable(officer, target, b.reason as string);
      else if (op === 'enable') await this.governance.denyList.enable(officer, target);
      else throw new OptionsError('deny-list operation must be "disable" or "enable"');
      return undefined;
    });
  }

  @Post('break-glass/:grantId/approve')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async approve(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpResponse, @Param('grantId') grantId: string) {
    const service = this.runtime.engine.breakGlass;
    // Reviewer roles are the policy's (core checks them and audits a refusal); any authenticated caller may ask.
    const reviewer = await callerWith(this.runtime, req, null, this.governance.denyList);
    if (service === null) {
      res.status(404);
      return { error: { code: 'break_glass_disabled', status: 404 } };
    }
    return this.answer(res, 200, () => service.approve(reviewer, grantId));
  }

  /** Runs a change; option problems (field names and rules, never values) answer 422. */
  private async answer<T>(res: HttpResponse, status: number, run: () => Promise<T>): Promise<T | { error: { code: string; status: number; problems: string[] } }> {
    try {
      const out = await run();
      res.status(status);
      return out;
    } catch (err) {
      if (err instanceof OptionsError) {
        res.status(422);
        return { error: { code: 'governance_invalid', status: 422, problems: [err.message] } };
      }
      throw err;
    }
  }
}
