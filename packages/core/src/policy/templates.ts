import type { PurposeOfUse } from '../purpose.js';
import type { OperatorSpec } from './types.js';

/** Rules by class selector, so that a template applies to any resource. */
type TemplateRules = Readonly<Partial<Record<'*' | `@${string}`, OperatorSpec>>>;

/**
 * Baseline roles of a lab-results service, as class-level rule sets per purpose of use. Start a
 * role from one with {@link fromTemplate} and tighten or extend it per resource.
 * - ordering provider: everything, for treatment and emergency treatment;
 * - care-team clinician: everything but direct identifiers beyond what care needs (SSN-like
 *   identifiers are the resource's to redact), sensitive fields withheld;
 * - lab technologist and pathologist: clinical data and free text, identifiers to match
 *   specimens only, for operations (the pathologist also for treatment);
 * - billing specialist: codes and dates of service, no results;
 * - release of information: the designated record set for legal requests;
 * - auditor: non-PHI and codes only;
 * - researcher: Safe Harbor (45 CFR 164.514(b)(2)): no direct identifiers, no record ids
 *   (`non-phi` keys still link records), dates to their year and withheld when 90+ years ago,
 *   ZIP codes and ages removed (the `year` rule reads neither), no free text or sensitive data;
 * - patient: their own record, for a patient request.
 */
export const ROLE_TEMPLATES = Object.freeze({
  'ordering-provider': { TREAT: { '*': 'send' }, ETREAT: { '*': 'send' } },
  'care-team-clinician': { TREAT: { '*': 'send', '@sensitive': 'redact' }, ETREAT: { '*': 'send' } },
  'lab-technologist': { HOPERAT: { '@clinical': 'send', '@free-text': 'send', '@quasi-identifier': 'send', '@direct-identifier': 'deny' } },
  pathologist: {
    TREAT: { '@clinical': 'send', '@free-text': 'send', '@quasi-identifier': 'send', '@sensitive': 'send' },
    HOPERAT: { '@clinical': 'send', '@free-text': 'send', '@quasi-identifier': 'send' },
  },
  'billing-specialist': { HPAYMT: { '@quasi-identifier': 'send', '@clinical': 'deny', '@free-text': 'deny' } },
  'release-of-information': { HLEGAL: { '*': 'send' } },
  auditor: { HOPERAT: { '@non-phi': 'send' } },
  researcher: {
    HRESCH: { '@direct-identifier': 'deny', '@quasi-identifier': 'year', '@clinical': 'send', '@free-text': 'deny', '@sensitive': 'deny', '@non-phi': 'deny' },
  },
  patient: { PATRQT: { '*': 'send' } },
} as const satisfies Record<string, Partial<Record<PurposeOfUse, TemplateRules>>>);

/** Names of the built-in role templates. */
export type RoleTemplate = keyof typeof ROLE_TEMPLATES;

/**
 * A role's rule sets from a template, with `overrides` merged per purpose (override selectors
 * win; purposes the template lacks are added). Use in a resource's `disclose`:
 * `nurse: fromTemplate('care-team-clinician', { TREAT: { 'patient.ssn': 'redact' } })`.
 */
export function fromTemplate<const O extends Partial<Record<PurposeOfUse, Readonly<Record<string, OperatorSpec>>>>>(
  template: RoleTemplate,
  overrides?: O,
): Readonly<Partial<Record<PurposeOfUse, Readonly<Record<string, OperatorSpec>>>>> {
  const base = ROLE_TEMPLATES[template] as Partial<Record<PurposeOfUse, TemplateRules>> | undefined;
  if (base === undefined) throw new TypeError(`unknown role template "${String(template)}"; one of ${Object.keys(ROLE_TEMPLATES).join(', ')}`);
  const out: Partial<Record<PurposeOfUse, Record<string, OperatorSpec>>> = {};
  for (const [purpose, rules] of Object.entries(base)) out[purpose as PurposeOfUse] = { ...rules } as Record<string, OperatorSpec>;
  for (const [purpose, rules] of Object.entries(overrides ?? {})) {
    out[purpose as PurposeOfUse] = { ...(out[purpose as PurposeOfUse] ?? {}), ...(rules as Record<string, OperatorSpec>) };
  }
  return out;
}
