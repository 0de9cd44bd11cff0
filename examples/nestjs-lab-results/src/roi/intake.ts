import type { RequesterType } from './policy.js';
import { REQUESTER_TYPES } from './policy.js';

/** A HIPAA authorization (45 CFR 164.508(c)) as captured at intake. */
export interface Authorization {
  readonly id: string;
  /** The patient who signed it: must be the patient of the record. */
  readonly patientId: string;
  /** (c)(1)(i) A specific description of the information to be disclosed. */
  readonly information: string;
  /** (c)(1)(ii) Who may disclose. */
  readonly discloser: string;
  /** (c)(1)(iii) To whom. */
  readonly recipient: string;
  /** (c)(1)(iv) The purpose ("at the request of the individual" suffices). */
  readonly purpose: string;
  /** (c)(1)(v) Expiration date (ISO 8601) … */
  readonly expiresAt?: string;
  /** … or expiration event. */
  readonly expirationEvent?: string;
  /** (c)(1)(vi) Signature and date. */
  readonly signedBy: string;
  readonly signedAt: string;
  /** (c)(2) Required statements: right to revoke, (non-)conditioning, potential redisclosure. */
  readonly statements: { readonly revocation: boolean; readonly conditioning: boolean; readonly redisclosure: boolean };
  /** Sensitive categories (HIV, genetic…) the patient explicitly agreed to release. */
  readonly sensitiveCategories?: readonly string[];
  /**
   * (c)(1)(i) in machine terms: the report types (LOINC panel codes) and the dates covered.
   * Enforced on the data by core: reports outside it are never released.
   */
  readonly scope?: { readonly recordTypes?: readonly string[]; readonly from?: string; readonly to?: string };
}

/** A subpoena or order (45 CFR 164.512(e)). */
export interface LegalProcess {
  readonly court: string;
  readonly docket: string;
  readonly issuedAt: string;
  /** An order of a court or tribunal … */
  readonly courtOrder?: boolean;
  /** … or satisfactory assurance of notice to the patient or of a qualified protective order. */
  readonly satisfactoryAssurance?: boolean;
}

/** What a release-of-information request carries. */
export interface ReleaseRequestInput {
  readonly patientId: string;
  readonly requesterType: RequesterType;
  /** Who receives the export (a name or organization: recorded in the watermark, never audited). */
  readonly recipient: string;
  /** The recipient's id in the governance registry (its agreement is checked before release). */
  readonly recipientId: string;
  /** The report types and dates asked for; refused when the authorization does not cover them. */
  readonly asked?: { readonly recordTypes?: readonly string[]; readonly from?: string; readonly to?: string };
  /** The requester's stated purpose, in words. */
  readonly purpose: string;
  /**
   * patient: how the desk verified the requester's identity (45 CFR 164.514(h)): the method,
   * recorded in the intake's audit event, never the document's number.
   */
  readonly identityVerification?: { readonly method: IdentityMethod };
  /** provider: the requesting provider's NPI (10 digits). */
  readonly npi?: string;
  /** third-party: the signed authorization. */
  readonly authorization?: Authorization;
  /** subpoena: the legal process. */
  readonly legalProcess?: LegalProcess;
}

/** Ways the desk verifies a requester's identity (164.514(h)(1)). */
export const IDENTITY_METHODS = ['photo-id', 'portal-login', 'knowledge-based', 'notarized-request', 'known-to-staff'] as const;
export type IdentityMethod = (typeof IDENTITY_METHODS)[number];

const str = (v: unknown, max = 500): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;
const date = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/**
 * Checks a request's required elements. Returns the problems (field names and rules, never
 * values): empty means valid. `revoked` holds revoked authorization ids; `now` for expiry.
 */
export function validateRequest(input: unknown, revoked: ReadonlySet<string>, now: Date): string[] {
  const problems: string[] = [];
  const r = (input ?? {}) as Partial<Record<keyof ReleaseRequestInput, unknown>>;
  if (!str(r.patientId, 64)) problems.push('patientId is required');
  if (!REQUESTER_TYPES.includes(r.requesterType as RequesterType)) problems.push(`requesterType must be one of ${REQUESTER_TYPES.join(', ')}`);
  if (!str(r.recipient)) problems.push('recipient is required');
  if (typeof r.recipientId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(r.recipientId)) problems.push('recipientId is required (the registry id of the recipient)');
  if (!str(r.purpose)) problems.push('purpose is required');
  switch (r.requesterType) {
    case 'patient':
      if (!IDENTITY_METHODS.includes((r.identityVerification as { method?: IdentityMethod } | undefined)?.method as IdentityMethod)) {
        problems.push(`identityVerification.method must be one of ${IDENTITY_METHODS.join(', ')}: the patient must be identified before a release (45 CFR 164.514(h))`);
      }
      break;
    case 'provider':
      if (typeof r.npi !== 'string' || !/^\d{10}$/.test(r.npi)) problems.push('npi must be the 10-digit NPI of the requesting provider');
      break;
    case 'third-party':
      problems.push(...authorizationProblems(r.authorization, r.patientId, revoked, now));
      break;
    case 'subpoena':
      problems.push(...legalProcessProblems(r.legalProcess));
      break;
  }
  return problems;
}

/** 45 CFR 164.508(b)(2), (c): an authorization missing a core element, expired or revoked is invalid. */
export function authorizationProblems(value: unknown, patientId: unknown, revoked: ReadonlySet<string>, now: Date): string[] {
  if (value === null || typeof value !== 'object') return ['authorization is required for a third-party request (45 CFR 164.508)'];
  const a = value as Partial<Record<keyof Authorization, unknown>>;
  const problems: string[] = [];
  if (!str(a.id, 64)) problems.push('authorization.id is required');
  if (a.patientId !== patientId) problems.push('authorization.patientId must be the patient of the request');
  for (const key of ['information', 'discloser', 'recipient', 'purpose', 'signedBy'] as const) {
    if (!str(a[key])) problems.push(`authorization.${key} is required (45 CFR 164.508(c)(1))`);
  }
  if (!date(a.signedAt)) problems.push('authorization.signedAt must be a date');
  if (a.expiresAt === undefined && !str(a.expirationEvent)) problems.push('authorization needs expiresAt or expirationEvent (45 CFR 164.508(c)(1)(v))');
  if (a.expiresAt !== undefined && (!date(a.expiresAt) || Date.parse(a.expiresAt) <= now.getTime())) problems.push('authorization has expired');
  const s = (a.statements ?? {}) as Record<string, unknown>;
  for (const key of ['revocation', 'conditioning', 'redisclosure']) {
    if (s[key] !== true) problems.push(`authorization.statements.${key} is required (45 CFR 164.508(c)(2))`);
  }
  if (typeof a.id === 'string' && revoked.has(a.id)) problems.push('authorization has been revoked');
  return problems;
}

function legalProcessProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return ['legalProcess is required for a subpoena (45 CFR 164.512(e))'];
  const l = value as Partial<Record<keyof LegalProcess, unknown>>;
  const problems: string[] = [];
  if (!str(l.court)) problems.push('legalProcess.court is required');
  if (!str(l.docket, 128)) problems.push('legalProcess.docket is required');
  if (!date(l.issuedAt)) problems.push('legalProcess.issuedAt must be a date');
  if (l.courtOrder !== true && l.satisfactoryAssurance !== true) {
    problems.push('legalProcess needs a court order or satisfactory assurance (45 CFR 164.512(e)(1)(ii))');
  }
  return problems;
}
