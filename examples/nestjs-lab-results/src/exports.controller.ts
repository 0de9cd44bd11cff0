import { BadRequestException, Controller, Get, Header, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { type AccessContext, type PhiGuard } from '@phiguard/core';
import { createSafeHarbor, type SafeHarbor } from '@phiguard/core/deid';
import { exportCsv, exportEvent, type ExportDisclosure } from '@phiguard/core/delivery';
import { DISCLOSURE_BASES, type DisclosureBasis } from '@phiguard/core/governance';
import { PHIGUARD_ENGINE, PhiAccessContext, PhiResource } from '@phiguard/nestjs';
import { PATIENTS } from '../../express-lab-results/src/data.js';
import { RESULT_COLUMNS, resultRows } from '../../express-lab-results/src/exports.js';
import { abnormalResultsReport } from '../../express-lab-results/src/reports.js';
import type { ResultsRepository } from '../../express-lab-results/src/repository.js';
import { RESULTS } from './results.controller.js';
import { GOVERNANCE } from './roi/governance.controller.js';
import type { Governance } from './roi/governance.js';

/**
 * The export, extract and report routes of the Express example, with the same resources: the
 * policy's sensitive categories withhold HIV and genetic results on each of them as on the JSON
 * view, and ask for the second factor where it does.
 */
@Controller()
export class ExportsController {
  private readonly deidentify: SafeHarbor;

  constructor(
    @Inject(RESULTS) private readonly results: ResultsRepository,
    @Inject(PHIGUARD_ENGINE) private readonly engine: PhiGuard,
    @Inject(GOVERNANCE) private readonly governance: Governance,
  ) {
    // Safe Harbor for research: identifiers removed or generalized, free text removed.
    this.deidentify = createSafeHarbor({ resource: 'PatientResults', policy: engine.policy, freeText: 'remove' });
  }

  /**
   * Watermarked CSV for records requests: rows filtered through the policy for this caller,
   * audited as an export. With `recipient` (a registry id), the export leaves the organization:
   * the registry admits the recipient (403 `recipient_unknown` / `agreement_missing`, audited),
   * and the export event carries the disclosure record (`basis`, the purpose `statement`, the
   * digest of the exact bytes), so the accounting of disclosures lists it or not by 164.528.
   */
  @Get('patients/:id/results.csv')
  @PhiResource('ResultsExport')
  @Header('Content-Type', 'text/csv; charset=utf-8; header=present')
  // A generated name: the file name carries no identifier.
  @Header('Content-Disposition', 'attachment; filename="results.csv"')
  async csv(
    @Param('id') id: string,
    @Query('recipient') recipient: unknown,
    @Query('basis') basis: unknown,
    @Query('statement') statement: unknown,
    @PhiAccessContext() context: AccessContext,
  ): Promise<string> {
    const record = PATIENTS.get(id);
    if (record === undefined) throw new NotFoundException({ error: { code: 'not_found' } });
    const patientRef = this.engine.policy.patientRef(id);
    let disclosure: ExportDisclosure | undefined;
    if (typeof recipient === 'string' && recipient.length > 0) {
      if (typeof basis !== 'string' || !(DISCLOSURE_BASES as readonly string[]).includes(basis) || typeof statement !== 'string' || statement.trim() === '') {
        throw new BadRequestException({ error: { code: 'disclosure_invalid', problems: ['an export to a recipient needs `basis` (a disclosure basis) and `statement` (brief purpose)'] } });
      }
      // 45 CFR 164.502(e): refused (and audited) without a current agreement where one is needed.
      const admitted = await this.governance.recipients.admit(context, recipient, { patientRef, resource: 'ResultsExport', action: 'export' });
      disclosure = { recipient: admitted, basis: basis as DisclosureBasis, purpose: statement, deliveryMethod: 'download', description: { recordTypes: ['lab'] } };
    }
    const { value } = this.engine.policy.protect<Record<string, unknown>[]>(resultRows(record), context, 'ResultsExport');
    const result = exportCsv(value, RESULT_COLUMNS, {
      purpose: context.purposeOfUse ?? 'unknown',
      recipient: disclosure?.recipient.id ?? 'requester',
      user: context.principal.id,
      requestId: context.request?.requestId ?? 'unknown',
    });
    const event = exportEvent(result, { format: 'csv', resource: 'ResultsExport', context, patientRef, ...(disclosure === undefined ? {} : { disclosure }) });
    // A disclosure goes to the release trail the accounting reads (the same log, and the durable store).
    await (disclosure === undefined ? this.engine.write(event) : this.governance.recordDisclosure(event));
    return result.body;
  }

  /** Safe Harbor records of every patient, NDJSON; sensitive categories applied for the caller. */
  @Get('research/extract')
  @PhiResource('ResearchExtract')
  @Header('Content-Type', 'application/x-ndjson')
  async extract(@PhiAccessContext() context: AccessContext): Promise<string> {
    const lines: string[] = [];
    for (const id of PATIENTS.keys()) {
      const view = await this.results.find(id);
      if (view !== undefined) lines.push(JSON.stringify(this.deidentify(view, { context }).value));
    }
    return `${lines.join('\n')}\n`;
  }

  @Get('reports/abnormal-results')
  @PhiResource('AbnormalResultsReport')
  report() {
    return abnormalResultsReport();
  }
}
