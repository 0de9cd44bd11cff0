/** Types of matrix.mjs. */
/** One case of the evasion matrix: the disguised identifier is text[start, end). */
export interface MatrixCase {
  readonly type: 'SSN' | 'PHONE' | 'CREDIT_CARD' | 'EMAIL';
  /** The disguise, or two joined by '+' (applied in that order). */
  readonly disguise: string;
  readonly setting: 'label' | 'prose' | 'json' | 'key-value' | 'xml';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}
/** `perCell` cases for every (kind, disguise or pair, setting), from `seed`. */
export function generateEvasionMatrix(seed?: number, perCell?: number): MatrixCase[];
/** Number-rich clinical lines that hold no identifier. */
export function generateMatrixNegatives(seed?: number, count?: number): string[];
/** One case of the context-bound matrix: the value after its label is text[start, end). */
export interface ContextCase {
  readonly type: 'MRN' | 'HEALTH_PLAN_ID' | 'ACCOUNT_NUMBER' | 'LICENSE_NUMBER' | 'DEVICE_ID' | 'VEHICLE_ID';
  /** The label's words, space-separated (written in the case's own style). */
  readonly label: string;
  readonly setting: 'prose' | 'json' | 'key-value' | 'xml';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}
/** `perCell` cases for every (type, label, setting), from `seed`. */
export function generateContextMatrix(seed?: number, perCell?: number): ContextCase[];
/** One case of the date matrix: the date is text[start, end). */
export interface DateCase {
  readonly type: 'DATE';
  /** How the date is written ("M/D/YYYY", "Month D, YYYY", "DDMMMYYYY", "ISO8601", …). */
  readonly form: string;
  readonly setting: 'cue' | 'prose' | 'json' | 'key-value' | 'xml';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}
/** `perCell` cases for every (form, setting), from `seed`. */
export function generateDateMatrix(seed?: number, perCell?: number): DateCase[];
/** One case of the phone matrix: the number (with its country code and extension) is text[start, end). */
export interface PhoneCase {
  readonly type: 'PHONE' | 'FAX';
  /** How the number is written ("(AAA) EEE-SSSS", "+1AAAEEESSSS", "AAA-EEE-SSSS ext. NN", …). */
  readonly form: string;
  readonly setting: 'label' | 'prose' | 'json' | 'key-value' | 'xml';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}
/** `perCell` cases for every (form, setting), from `seed`. */
export function generatePhoneMatrix(seed?: number, perCell?: number): PhoneCase[];
/** One case of the name matrix: the name is text[start, end). */
export interface NameCase {
  readonly type: 'PERSON_NAME';
  /** How the name is written ("Given Family", "Family, Given", "FAMILY, GIVEN", "G. Family", …). */
  readonly form: string;
  readonly setting: 'title' | 'label' | 'relation' | 'signature' | 'email-header' | 'json' | 'prose';
  readonly text: string;
  readonly start: number;
  readonly end: number;
}
/** `perCell` cases for every (form, setting), from `seed`. */
export function generateNameMatrix(seed?: number, perCell?: number): NameCase[];
/** True when one finding of the case's type covers its span (surrounding spaces, and a person name's trailing "Jr.", aside). */
export function covered(
  findings: readonly { readonly type: string; readonly start: number; readonly end: number }[],
  c: { readonly type: string; readonly text: string; readonly start: number; readonly end: number },
): boolean;
