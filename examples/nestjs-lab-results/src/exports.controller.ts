import { Controller, Get, Header, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { type AccessContext, type PhiGuard } from '@phiguard/core';
import { createSafeHarbor, type SafeHarbor } from '@phiguard/core/deid';
import { exportCsv, exportEvent } from '@phiguard/core/delivery';
import { PHIGUARD_ENGINE, PhiAccessContext, PhiResource } from '@phiguard/nestjs';
import { PATIENTS } from '../../express-lab-results/src/data.js';
import { RESULT_COLUMNS, resultRows } from '../../express-lab-results/src/exports.js';
import { abnormalResultsReport } from '../../express-lab-results/src/reports.js';
import type { ResultsRepository } from '../../express-lab-results/src/repository.js';
import { RESULTS } from './results.controller.js';

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
  ) {
    // Safe Harbor for research: identifiers removed or generalized, free text removed.
    this.deidentify = createSafeHarbor({ resource: 'PatientResults', policy: engine.policy, freeText: 'remove' });
  }

  /** Watermarked CSV for records requests: rows filtered through the policy for this caller, audited as an export. */
  @Get('patients/:id/results.csv')
  @PhiResource('ResultsExport')
  @Header('Content-Type', 'text/csv; charset=utf-8; header=present')
  // A generated name: the file name carries no identifier.
  @Header('Content-Disposition', 'attachment; filename="results.csv"')
  async csv(@Param('id') id: string, @Query('recipient') recipient: unknown, @PhiAccessContext() context: AccessContext): Promise<string> {
    const record = PATIENTS.get(id);
    if (record === undefined) throw new NotFoundException({ error: { code: 'not_found' } });
    const { value } = this.engine.policy.protect<Record<string, unknown>[]>(resultRows(record), context, 'ResultsExport');
    const result = exportCsv(value, RESULT_COLUMNS, {
      purpose: context.purposeOfUse ?? 'unknown',
      recipient: typeof recipient === 'string' && recipient.length > 0 ? recipient : 'requester',
      user: context.principal.id,
      requestId: context.request?.requestId ?? 'unknown',
    });
    await this.engine.write(exportEvent(result, { format: 'csv', resource: 'ResultsExport', context, patientRef: this.engine.policy.patientRef(id) }));
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
