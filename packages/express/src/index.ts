/**
 * @phiguard/express: `app.use(phiguard({ policy, context, audit }))`.
 * @packageDocumentation
 */
export { getAccessContext, nonPhi, phiResource, phiguard, phiguardErrorHandler } from './middleware.js';
export type { PhiGuardExpressOptions } from './middleware.js';
export type { ErrorBody, ErrorLogger } from './errors.js';
export { breakGlassRoutes } from './break-glass.js';
export { getClientIdentity, getVerifiedSignature, hardenPhiResponses, sendExport, verifySignature } from './delivery.js';
export type {
  ClientIdentity,
  ExportColumn,
  ExportWatermark,
  HardenOptions,
  SendExportOptions,
  SentWatermark,
  SignatureSecret,
  VerifiedSignature,
  VerifySignatureOptions,
} from './delivery.js';
