/** DLP scanning: find HIPAA identifiers in text and JSON. */

export type { Finding, PhiType } from './types.js';
export { PHI_TYPES, createScanner, redact, redactObject, scanObject } from './scanner.js';
export type {
  CustomDetector,
  DetectedSpan,
  FunctionDetector,
  InstitutionPattern,
  PatternDetector,
  ScanOptions,
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
