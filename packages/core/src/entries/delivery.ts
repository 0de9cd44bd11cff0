/**
 * @phiguard/core/delivery: delivering PHI to patients and partners (pickup links, signed requests
 * and webhooks, notifications without PHI, CSV/JSON exports).
 * @packageDocumentation
 */
export { createPickupLinks } from '../delivery/links.js';
export type { PickupLinkOptions, PickupLinkRequest, PickupLinks, PickupReference } from '../delivery/links.js';
export { DeliveryError, ExportError, NotificationPhiError, PickupLinkError, SignatureError } from '../delivery/errors.js';
export type { DeliveryErrorCode } from '../delivery/errors.js';
export type { DeliveryAuditEvent, DeliveryAuditSink } from '../delivery/audit.js';
export type { SecretInput } from '../delivery/util.js';
export { createRequestVerifier, createSignatureCheck, signRequest, signWebhook, signatureHeaderName, signingInput, verifySignedRequest } from '../delivery/signing.js';
export type {
  SignRequestInput,
  SignWebhookInput,
  SignedBody,
  SignedWebhook,
  VerificationSecret,
  SignatureCheck,
  SignatureCheckOptions,
  VerifiedRequest,
  VerifySignedRequestInput,
} from '../delivery/signing.js';
export { buildNotification } from '../delivery/notify.js';
export type { Notification, NotificationChannel, NotificationInput, NotificationTemplate } from '../delivery/notify.js';
export { exportCsv, exportEvent, exportJson, safeFileName } from '../delivery/export.js';
export type { CsvColumn, ExportDisclosure, ExportMeta, ExportResult, Watermark } from '../delivery/export.js';
