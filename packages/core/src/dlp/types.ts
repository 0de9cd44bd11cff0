/**
 * The DLP vocabulary, in a module of its own so that the scanner, walker and detectors import it
 * without importing the `dlp/index.ts` entry that imports them (no cycle).
 */

/** The kinds of identifier the scanner reports (HIPAA Safe Harbor identifiers it can see in text). */
export type PhiType =
  | 'PERSON_NAME'
  | 'STREET_ADDRESS'
  | 'ZIP_CODE'
  | 'DATE'
  | 'AGE_OVER_89'
  | 'PHONE'
  | 'FAX'
  | 'EMAIL'
  | 'SSN'
  | 'MRN'
  | 'HEALTH_PLAN_ID'
  | 'ACCOUNT_NUMBER'
  | 'LICENSE_NUMBER'
  | 'NPI'
  | 'DEA_NUMBER'
  | 'VEHICLE_ID'
  | 'DEVICE_ID'
  | 'URL'
  | 'IP_ADDRESS'
  | 'CREDIT_CARD';

/** One identifier found: offsets in UTF-16 code units of the original text, end exclusive. */
export interface Finding {
  readonly type: PhiType;
  readonly start: number;
  readonly end: number;
  /** 0..1; context words raise it. */
  readonly confidence: number;
}
