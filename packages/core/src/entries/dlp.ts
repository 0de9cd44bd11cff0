/**
 * @phiguard/core/dlp: find and redact HIPAA identifiers in text, JSON, logs and headers.
 * `createScanner` and its types are in the root entry.
 * @packageDocumentation
 */
export type { Finding, PhiType } from '../dlp/types.js';
export { PHI_TYPES, redact, redactObject, scanObject } from '../dlp/scanner.js';
export type { CustomDetector, DetectedSpan, FunctionDetector, InstitutionPattern, PatternDetector } from '../dlp/scanner.js';
export { countByType, formatPath } from '../dlp/walk.js';
export type {
  JsonPath,
  ObjectFinding,
  RedactObjectOptions,
  RedactObjectResult,
  RedactOptions,
  RedactStyle,
  ScanObjectOptions,
  WalkLimits,
} from '../dlp/walk.js';
export { dlpLogFormatter, dlpLogMethod, dlpPinoOptions, dlpStreamWrite } from '../dlp/pino.js';
export type { DlpLogOptions } from '../dlp/pino.js';
export { safeContentDisposition, scrubHeaders } from '../dlp/headers.js';
export type { HeaderTarget } from '../dlp/headers.js';
