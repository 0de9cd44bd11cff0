import { randomUUID } from 'node:crypto';
import { AccessDeniedError, OptionsError, type AccessContext, type PhiGuard } from '@phiguard/core';
import { actionEvent } from '@phiguard/core/audit';
import { type DisclosureBasis } from '@phiguard/core/governance';
import type { ResultsRepository } from '../../../express-lab-results/src/repository.js';
import type { LabResultsView } from '../../../express-lab-results/src/view.js';
import { validateRequest, type ReleaseRequestInput } from './intake.js';
import { RELEASE_AS, type RequesterType } from './policy.js';
import type { Governance } from './governance.js';

/** The legal basis of each request type's disclosure: what the accounting of disclosures lists (164.528(a)(1)). */
const BASIS: Readonly<Record<RequesterType, DisclosureBasis>> = {
  patient: 'individual',
  provider: 'treatment',
  'third-party': 'authorization',
  subpoena: 'judicial',
};

/** FHIR security labels that make a release sensitive (HIV, genetic): a second reviewer must approve it. */
const SENSITIVE_LABELS: Readonly<Record<string, string>> = { HIV: 'HIV', GDIS: 'genetic' };

export type ReleaseStatus = 'pending-review' | 'approved' | 'rejected';

/** A release-of-information request as the desk tracks it. */
export interface ReleaseRequest {
  readonly id: string;
  readonly patientId: string;
  readonly requesterType: RequesterType;
  readonly recipient: string;
  readonly recipientId: string;
  readonly purpose: string;
  readonly asked?: ReleaseRequestInput['asked'];
  readonly authorizationId: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  /** Sensitive categories found in the record: a second review is required when any. */
  readonly sensitive: readonly string[];
  readonly status: ReleaseStatus;
  readonly reviewedBy: string | null;
  readonly reviewedAt: string | null;
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

/** A fulfilled release: the exact bytes sent (whose digest the disclosure event carries). */
export interface Released {
  readonly body: string;
  readonly releaseId: string;
}

/**
 * Release of information: intake with validation, a second review for sensitive records, and
 * fulfilment through the request type's minimum-necessary rule set (its own phiguard engine,
 * `roiPolicy`), audited as `disclose` (45 CFR 164.528: every disclosure can be accounted for).
 */
export class ReleaseOfInformation {
  constructor(
    private readonly engine: PhiGuard,
    private readonly results: ResultsRepository,
    private readonly governance: Governance,
  ) {}

  private now(): Date {
    return new Date(this.governance.now());
  }

  /** The shared deny list the desk's routes check (incident containment). */
  get denyList() {
    return this.governance.denyList;
  }

  /**
   * Intake: validates the request's elements, records a third party's authorization in core
   * (audited, shared by every instance) and flags a sensitive record for second review.
   */
  async intake(staff: AccessContext, input: unknown): Promise<ReleaseRequest> {
    const given = (input ?? {}) as Partial<ReleaseRequestInput>;
    const authId = typeof given.authorization?.id === 'string' ? given.authorization.id : undefined;
    const onFile = authId === undefined ? null : await this.governance.authorizations.get(authId);
    const revoked = new Set(onFile?.revocation !== undefined && authId !== undefined ? [authId] : []);
    const problems = validateRequest(input, revoked, this.now());
    if (problems.length > 0) throw new RoiError('roi_invalid', 422, problems);
    const r = input as ReleaseRequestInput;
    const view = await this.results.find(r.patientId);
    if (view === undefined) throw new RoiError('not_found', 404);
    const sensitive = sensitiveCategories(view);
    if (r.requesterType === 'third-party') {
      const a = r.authorization!;
      // 45 CFR 164.508 and state law: sensitive results leave only if the patient named them.
      const covered = new Set(a.sensitiveCategories ?? []);
      if (sensitive.some((c) => !covered.has(c))) {
        throw new RoiError('roi_invalid', 422, ['authorization.sensitiveCategories does not cover the sensitive results in this record']);
      }
      if (onFile === null) {
        try {
          await this.governance.authorizations.record(staff, {
            id: a.id,
            patientId: r.patientId,
            recipientId: r.recipientId,
            purpose: a.purpose,
            scope: a.scope ?? {},
            ...(a.expiresAt === undefined ? {} : { expiresAt: a.expiresAt }),
            ...(a.expirationEvent === undefined ? {} : { expirationEvent: a.expirationEvent }),
            signedAt: a.signedAt,
            ...(a.sensitiveCategories === undefined ? {} : { sensitiveCategories: a.sensitiveCategories }),
          });
        } catch (err) {
          // Core names the missing elements; they carry no values.
          if (err instanceof OptionsError) throw new RoiError('roi_invalid', 422, [err.message]);
          throw err;
        }
      } else if (onFile.patientRef !== this.engine.policy.patientRef(r.patientId) || onFile.recipientId !== r.recipientId) {
        throw new RoiError('roi_invalid', 422, ['authorization.id is on file for another patient or recipient']);
      }
    }
    const request: ReleaseRequest = {
      id: `roi_${randomUUID()}`,
      patientId: r.patientId,
      requesterType: r.requesterType,
      recipient: r.recipient,
      recipientId: r.recipientId,
      purpose: r.purpose,
      ...(r.asked === undefined ? {} : { asked: r.asked }),
      authorizationId: r.authorization?.id ?? null,
      createdBy: staff.principal.id,
      createdAt: this.now().toISOString(),
      sensitive,
      status: sensitive.length > 0 ? 'pending-review' : 'approved',
      reviewedBy: null,
      reviewedAt: null,
    };
    // 45 CFR 164.530(j): the request itself is documentation; recorded before it is acted on.
    await this.engine.write(
      actionEvent('create', staff, {
        resource: { type: 'ReleaseRequest', id: request.id },
        // How the requester was verified is part of the record (164.514(h)); the method, not the document.
        reason: r.identityVerification === undefined ? `intake:${request.requesterType}` : `intake:${request.requesterType}:${r.identityVerification.method}`,
        patientRef: this.engine.policy.patientRef(request.patientId),
      }),
    );
    await this.save(request);
    return request;
  }

  /** Second review of a sensitive release, by another member of the desk (separation of duties); audited. */
  async review(staff: AccessContext, id: string, decision: unknown): Promise<ReleaseRequest> {
    const request = await this.get(id);
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
    const reviewed: ReleaseRequest = { ...request, status: decision === 'approve' ? 'approved' : 'rejected', reviewedBy: staff.principal.id, reviewedAt: this.now().toISOString() };
    await this.save(reviewed);
    return reviewed;
  }

  /** A request by id, from the shared store: any instance can review or fulfil it. */
  async get(id: string): Promise<ReleaseRequest> {
    const raw = typeof id === 'string' && /^roi_[0-9a-f-]{36}$/.test(id) ? await this.governance.store.get(`roi:request:${id}`) : null;
    if (raw === null) throw new RoiError('not_found', 404);
    return JSON.parse(raw) as ReleaseRequest;
  }

  private async save(request: ReleaseRequest): Promise<void> {
    // Kept as long as the documentation of the release (45 CFR 164.530(j)).
    await this.governance.store.set(`roi:request:${request.id}`, JSON.stringify(request), 6 * 366 * 86_400_000);
  }

  /**
   * Fulfilment through core's governed disclosure: the recipient's agreement, the authorization
   * (re-verified now, on whichever instance) and its scope, the request type's minimum-necessary
   * rule set, and one `disclose` event whose digest is of exactly the bytes returned.
   */
  async fulfil(staff: AccessContext, id: string): Promise<Released> {
    const request = await this.get(id);
    if (request.status !== 'approved') throw new RoiError(request.status === 'rejected' ? 'roi_rejected' : 'roi_review_required', 409);
    const as = RELEASE_AS[request.requesterType];
    const bindsPatient = request.requesterType === 'patient' || request.requesterType === 'third-party';
    const context: AccessContext = {
      ...staff,
      principal: { id: staff.principal.id, patientId: bindsPatient ? request.patientId : null },
      // The desk's role is recorded in audit; the request type's role is what the matrix decides on.
      roles: [...staff.roles, as.role],
      purposeOfUse: as.purpose,
    };
    const view = await this.results.find(request.patientId);
    if (view === undefined) throw new RoiError('not_found', 404);
    const metadata: ReleaseExport['metadata'] = {
      watermark: `RELEASE OF INFORMATION ${request.id}: confidential health information disclosed under 45 CFR 164; redisclosure may be prohibited.`,
      releaseId: request.id,
      requestId: staff.request?.requestId,
      requesterType: request.requesterType,
      purposeOfUse: as.purpose,
      purpose: request.purpose,
      recipient: request.recipient,
      releasedBy: staff.principal.id,
      releasedAt: this.now().toISOString(),
      authorizationId: request.authorizationId,
      reviewedBy: request.reviewedBy,
    };
    const out = await this.governance.disclosures.disclose(context, {
      resource: 'PatientResults',
      value: view,
      patientId: request.patientId,
      recipientId: request.recipientId,
      // The accounting's purpose statement is the request type's, not the requester's own words.
      purpose: PURPOSE_STATEMENT[request.requesterType],
      basis: BASIS[request.requesterType],
      ...(request.authorizationId === null ? {} : { authorizationId: request.authorizationId }),
      ...(request.asked === undefined ? {} : { asked: request.asked }),
      deliveryMethod: 'download',
      keepCopy: this.governance.purge !== null,
      serialize: (record) => JSON.stringify({ metadata, record } satisfies ReleaseExport),
    });
    return { body: out.body, releaseId: request.id };
  }
}

/** The brief statements of purpose the accounting gives the patient (164.528(b)(2)(iv)). */
const PURPOSE_STATEMENT: Readonly<Record<RequesterType, string>> = {
  patient: 'Copy of your records at your request',
  provider: 'Continuity of care with another provider',
  'third-party': 'Disclosure under your signed authorization',
  subpoena: 'Response to a court order or subpoena',
};

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
