import { randomUUID } from 'node:crypto';
import { AccessDeniedError, actionEvent, type AccessContext, type PhiGuard } from '@phiguard/core';
import type { ResultsRepository } from '../../../express-lab-results/src/repository.js';
import type { LabResultsView } from '../../../express-lab-results/src/view.js';
import { authorizationProblems, validateRequest, type ReleaseRequestInput } from './intake.js';
import { RELEASE_AS, type RequesterType } from './policy.js';

/** FHIR security labels that make a release sensitive (HIV, genetic): a second reviewer must approve it. */
const SENSITIVE_LABELS: Readonly<Record<string, string>> = { HIV: 'HIV', GDIS: 'genetic' };

export type ReleaseStatus = 'pending-review' | 'approved' | 'rejected';

/** A release-of-information request as the desk tracks it. */
export interface ReleaseRequest {
  readonly id: string;
  readonly patientId: string;
  readonly requesterType: RequesterType;
  readonly recipient: string;
  readonly purpose: string;
  readonly authorizationId: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  /** Sensitive categories found in the record: a second review is required when any. */
  readonly sensitive: readonly string[];
  status: ReleaseStatus;
  reviewedBy: string | null;
  reviewedAt: string | null;
}

/** The refusals the desk answers with (no values in them). */
/** The desk's refusal codes: constants (never values), listed as phiguard `errorCodes` so clients see them. */
export const ROI_ERROR_CODES = ['authorization_invalid', 'roi_invalid', 'roi_not_pending', 'roi_rejected', 'roi_review_required'] as const;

export class RoiError extends Error {
  override name = 'RoiError';
  constructor(
    readonly code: string,
    readonly status: number,
    readonly problems: readonly string[] = [],
  ) {
    super(`release of information refused (${code})`);
  }
}

/** The watermarked export: the projected record under a metadata block naming the release. */
export interface ReleaseExport {
  readonly metadata: {
    readonly watermark: string;
    readonly releaseId: string;
    readonly requestId: string | undefined;
    readonly requesterType: RequesterType;
    readonly purposeOfUse: string;
    readonly purpose: string;
    readonly recipient: string;
    readonly releasedBy: string;
    readonly releasedAt: string;
    readonly authorizationId: string | null;
    readonly reviewedBy: string | null;
  };
  readonly record: unknown;
}

/**
 * Release of information: intake with validation, a second review for sensitive records, and
 * fulfilment through the request type's minimum-necessary rule set (its own phiguard engine,
 * `roiPolicy`), audited as `disclose` (45 CFR 164.528: every disclosure can be accounted for).
 */
export class ReleaseOfInformation {
  private readonly requests = new Map<string, ReleaseRequest>();
  private readonly revoked = new Set<string>();
  /** Authorizations by id, as captured at intake, for re-validation at fulfilment. */
  private readonly authorizations = new Map<string, ReleaseRequestInput['authorization']>();

  constructor(
    private readonly engine: PhiGuard,
    private readonly results: ResultsRepository,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Intake: validates the request's elements and flags a sensitive record for second review. */
  async intake(staff: AccessContext, input: unknown): Promise<ReleaseRequest> {
    const problems = validateRequest(input, this.revoked, this.now());
    if (problems.length > 0) throw new RoiError('roi_invalid', 422, problems);
    const r = input as ReleaseRequestInput;
    const view = await this.results.find(r.patientId);
    if (view === undefined) throw new RoiError('not_found', 404);
    const sensitive = sensitiveCategories(view);
    if (r.requesterType === 'third-party') {
      // 45 CFR 164.508 and state law: sensitive results leave only if the patient named them.
      const covered = new Set(r.authorization!.sensitiveCategories ?? []);
      if (sensitive.some((c) => !covered.has(c))) {
        throw new RoiError('roi_invalid', 422, ['authorization.sensitiveCategories does not cover the sensitive results in this record']);
      }
      this.authorizations.set(r.authorization!.id, r.authorization);
    }
    const request: ReleaseRequest = {
      id: `roi_${randomUUID()}`,
      patientId: r.patientId,
      requesterType: r.requesterType,
      recipient: r.recipient,
      purpose: r.purpose,
      authorizationId: r.authorization?.id ?? null,
      createdBy: staff.principal.id,
      createdAt: this.now().toISOString(),
      sensitive,
      status: sensitive.length > 0 ? 'pending-review' : 'approved',
      reviewedBy: null,
      reviewedAt: null,
    };
    this.requests.set(request.id, request);
    return request;
  }

  /** Second review of a sensitive release, by another member of the desk (separation of duties); audited. */
  async review(staff: AccessContext, id: string, decision: unknown): Promise<ReleaseRequest> {
    const request = this.get(id);
    if (request.status !== 'pending-review') throw new RoiError('roi_not_pending', 409);
    if (decision !== 'approve' && decision !== 'reject') throw new RoiError('roi_invalid', 422, ['decision must be "approve" or "reject"']);
    if (staff.principal.id === request.createdBy) throw new AccessDeniedError('separation_of_duties');
    // On record before it takes effect: a release decision is part of the accounting trail.
    await this.engine.write(
      actionEvent('update', staff, {
        resource: { type: 'ReleaseRequest', id: request.id },
        reason: `review:${decision}`,
        patientRef: this.engine.policy.patientRef(request.patientId),
      }),
    );
    request.status = decision === 'approve' ? 'approved' : 'rejected';
    request.reviewedBy = staff.principal.id;
    request.reviewedAt = this.now().toISOString();
    return request;
  }

  /** Records a revocation (45 CFR 164.508(b)(5)): later intakes and fulfilments under it are refused. */
  revoke(id: string): void {
    this.revoked.add(id);
  }

  get(id: string): ReleaseRequest {
    const request = this.requests.get(id);
    if (request === undefined) throw new RoiError('not_found', 404);
    return request;
  }

  /**
   * Fulfilment: re-validates the authorization, decides and projects the record under the
   * request type's rule set, audits the disclosure (`disclose`), and wraps it in the watermark.
   */
  async fulfil(staff: AccessContext, id: string): Promise<ReleaseExport> {
    const request = this.get(id);
    if (request.status !== 'approved') throw new RoiError(request.status === 'rejected' ? 'roi_rejected' : 'roi_review_required', 409);
    if (request.authorizationId !== null) {
      const problems = authorizationProblems(this.authorizations.get(request.authorizationId), request.patientId, this.revoked, this.now());
      if (problems.length > 0) throw new RoiError('authorization_invalid', 403, problems);
    }
    const as = RELEASE_AS[request.requesterType];
    const bindsPatient = request.requesterType === 'patient' || request.requesterType === 'third-party';
    const context: AccessContext = {
      ...staff,
      principal: { id: staff.principal.id, patientId: bindsPatient ? request.patientId : null },
      // The desk's role is recorded in audit; the request type's role is what the matrix decides on.
      roles: [...staff.roles, as.role],
      purposeOfUse: as.purpose,
    };
    const decision = this.engine.authorize(context, 'PatientResults', 'disclose', request.patientId);
    if (decision.effect === 'deny') throw new AccessDeniedError(decision.reason);
    const view = await this.results.find(request.patientId);
    if (view === undefined) throw new RoiError('not_found', 404);
    const plaintexts = await this.engine.prepare(decision.plan, view);
    const release = this.engine.release(decision.plan, view, context, 'disclose', plaintexts);
    if (release.pending !== undefined) await release.pending;
    const releasedAt = this.now().toISOString();
    return {
      metadata: {
        watermark: `RELEASE OF INFORMATION ${request.id}: confidential health information disclosed under 45 CFR 164; redisclosure may be prohibited.`,
        releaseId: request.id,
        requestId: staff.request?.requestId,
        requesterType: request.requesterType,
        purposeOfUse: as.purpose,
        purpose: request.purpose,
        recipient: request.recipient,
        releasedBy: staff.principal.id,
        releasedAt,
        authorizationId: request.authorizationId,
        reviewedBy: request.reviewedBy,
      },
      record: release.value,
    };
  }
}

/** Sensitive categories present in a view, from its FHIR security labels. */
export function sensitiveCategories(view: LabResultsView): string[] {
  const found = new Set<string>();
  for (const report of view.reports) {
    for (const meta of [report.meta, ...report.observations.map((o) => o.meta)]) {
      for (const label of meta?.security ?? []) {
        const category = SENSITIVE_LABELS[label.code];
        if (category !== undefined) found.add(category);
      }
    }
  }
  return [...found].sort();
}
