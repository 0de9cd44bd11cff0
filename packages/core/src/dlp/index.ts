/** DLP scanning: find HIPAA identifiers in text and JSON. */

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

export { PHI_TYPES, createScanner, redact, redactObject, scanObject } from './scanner.js';
export type {
  CustomDetector,
  DetectedSpan,
  FunctionDetector,
  InstitutionPattern,
  PatternDetector,
  Scanner,
  ScannerOptions,
} from './scanner.js';
export { countByType, formatPath } from './walk.js';
export type {
  JsonPath,
  ObjectFinding,
  RedactObjectOptions,
  RedactObjectResult,
  RedactOptions,
  RedactStyle,
  ScanObjectOptions,
  WalkLimits,
} from './walk.js';
export { dlpLogFormatter, dlpLogMethod, dlpPinoOptions, dlpStreamWrite } from './pino.js';
export type { DlpLogOptions } from './pino.js';
export { safeContentDisposition, scrubHeaders } from './headers.js';
export type { HeaderTarget } from './headers.js';
