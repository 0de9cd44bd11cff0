/**
 * HL7 v3 PurposeOfUse codes (code system 2.16.840.1.113883.5.8) that policies may use.
 * @see https://terminology.hl7.org/ValueSet-v3-PurposeOfUse.html
 */
export const PURPOSES_OF_USE = [
  'TREAT',
  'ETREAT',
  'HPAYMT',
  'HOPERAT',
  'HRESCH',
  'PATRQT',
  'PUBHLTH',
  'HLEGAL',
] as const;

/** An HL7 v3 PurposeOfUse code. */
export type PurposeOfUse = (typeof PURPOSES_OF_USE)[number];

const known: ReadonlySet<string> = new Set(PURPOSES_OF_USE);

/** True when `value` is a PurposeOfUse code phiguard knows. */
export function isPurposeOfUse(value: unknown): value is PurposeOfUse {
  return typeof value === 'string' && known.has(value);
}
