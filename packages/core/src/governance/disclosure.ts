/**
 * What a disclosure record carries beyond the engine's event (45 CFR 164.528(b)(2)): to whom,
 * why, on what basis, under which authorization, how it was delivered, and a digest of the
 * exact bytes that left. References and codes only: the recipient's name sits in the registry
 * and is named here by a keyed reference.
 */
import { createHash } from 'node:crypto';

/** Kinds of recipient a registry holds. */
export const RECIPIENT_TYPES = [
  'individual',
  'personal-representative',
  'provider',
  'health-plan',
  'business-associate',
  'public-health-authority',
  'health-oversight-agency',
  'court',
  'law-enforcement',
  'researcher',
  'insurer',
  'attorney',
  'employer',
  'other',
] as const;
export type RecipientType = (typeof RECIPIENT_TYPES)[number];

/** The recipient as recorded in an event: registry id and a keyed reference of the name (`rn_…`). */
export interface Recipient {
  readonly type: RecipientType;
  readonly id: string;
  readonly nameRef: string;
}

/**
 * The legal basis of a disclosure, which decides whether the accounting lists it. The bases
 * 164.528(a)(1) exempts are in {@link ACCOUNTING_EXEMPT}; every other basis is accounted for.
 */
export const DISCLOSURE_BASES = [
  // Exempt (164.528(a)(1)).
  'treatment',
  'payment',
  'operations',
  'individual',
  'incidental',
  'authorization',
  'facility-directory',
  'national-security',
  'correctional',
  'limited-data-set',
  // Accounted for.
  'required-by-law',
  'public-health',
  'abuse-report',
  'health-oversight',
  'judicial',
  'law-enforcement',
  'decedent',
  'organ-donation',
  'research',
  'serious-threat',
  'workers-compensation',
  // A disclosure the rule did not permit (a breach) is accounted for as well.
  'impermissible',
] as const;
export type DisclosureBasis = (typeof DISCLOSURE_BASES)[number];

/** Bases the accounting leaves out, each with the paragraph that exempts it. */
export const ACCOUNTING_EXEMPT: Readonly<Partial<Record<DisclosureBasis, string>>> = Object.freeze({
  treatment: '164.528(a)(1)(i)',
  payment: '164.528(a)(1)(i)',
  operations: '164.528(a)(1)(i)',
  individual: '164.528(a)(1)(ii)',
  incidental: '164.528(a)(1)(iii)',
  authorization: '164.528(a)(1)(iv)',
  'facility-directory': '164.528(a)(1)(v)',
  'national-security': '164.528(a)(1)(vi)',
  correctional: '164.528(a)(1)(vii)',
  'limited-data-set': '164.528(a)(1)(viii)',
});

/** How the bytes left. `unsecured-*` need a recorded channel exception (164.524(c)(2)). */
export const DELIVERY_METHODS = ['download', 'portal', 'api', 'secure-email', 'sftp', 'fax', 'mail', 'media', 'in-person', 'unsecured-email', 'unsecured-sms'] as const;
export type DeliveryMethod = (typeof DELIVERY_METHODS)[number];

/** The `disclosure` block of a `disclose` or `export` audit event. */
export interface DisclosureDetails {
  readonly recipient: Recipient;
  /** Brief statement of purpose (164.528(b)(2)(iv)); checked by DLP to hold no identifier. */
  readonly purpose: string;
  readonly basis: DisclosureBasis;
  /** The authorization it was made under (164.508), when any. */
  readonly authorizationRef?: string;
  readonly deliveryMethod: DeliveryMethod;
  /** `sha256:<hex>` of the exact bytes released. */
  readonly digest: string;
  readonly bytes: number;
  /** Id of the encrypted copy kept in the copy store, when one was. */
  readonly copyRef?: string;
  /** Description of what was disclosed (164.528(b)(2)(iii)): record types, date range, count. */
  readonly description: { readonly recordTypes: readonly string[]; readonly from?: string; readonly to?: string; readonly records: number };
  /** The patient's recorded request for an unsecured channel, when delivered over one. */
  readonly channelExceptionRef?: string;
}

/** `sha256:<hex>` of bytes (strings are UTF-8). */
export function disclosureDigest(bytes: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
