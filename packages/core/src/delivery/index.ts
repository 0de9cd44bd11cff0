/** Delivery of PHI to patients and partners: pickup links, signed requests, notifications, exports. */
export { createPickupLinks } from './links.js';
export type { PickupLinkOptions, PickupLinkRequest, PickupLinks, PickupReference } from './links.js';
export { DeliveryError, ExportError, NotificationPhiError, PickupLinkError, SignatureError } from './errors.js';
export type { DeliveryErrorCode } from './errors.js';
export type { DeliveryAuditEvent, DeliveryAuditSink } from './audit.js';
export type { SecretInput } from './util.js';
export { createRequestVerifier, signRequest, signWebhook, signingInput, verifySignedRequest } from './signing.js';
export type {
  PreparedVerifier,
  SignRequestInput,
  SignWebhookInput,
  SignedBody,
  SignedWebhook,
  VerificationSecret,
  VerifiedRequest,
  VerifySignedRequestInput,
} from './signing.js';
export { buildNotification } from './notify.js';
export type { Notification, NotificationChannel, NotificationInput, NotificationTemplate } from './notify.js';
export { exportCsv, exportEvent, exportJson, safeFileName } from './export.js';
export type { CsvColumn, ExportDisclosure, ExportMeta, ExportResult, Watermark } from './export.js';
