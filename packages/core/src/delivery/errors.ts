import { PhiGuardError, type DeliveryErrorCode } from '../errors.js';

export type { DeliveryErrorCode };

/** Base of the delivery errors: a {@link PhiGuardError} whose `code` is a {@link DeliveryErrorCode}. */
export class DeliveryError extends PhiGuardError {
  /** The same value as `code`, typed as a delivery code. */
  readonly deliveryCode: DeliveryErrorCode;
  constructor(code: DeliveryErrorCode, message: string, status: number) {
    super(code, message, status);
    this.deliveryCode = code;
  }
}

/**
 * A pickup link cannot be redeemed. `link_invalid` (404) covers every malformed, tampered,
 * wrong-key or wrong-audience token without saying which; `link_expired`, `link_used` and
 * `link_revoked` answer 410 Gone.
 */
export class PickupLinkError extends DeliveryError {
  constructor(code: 'link_invalid' | 'link_expired' | 'link_used' | 'link_revoked') {
    const messages = {
      link_invalid: 'This link is not valid. Ask the sender for a new one.',
      link_expired: 'This link has expired. Ask the sender for a new one.',
      link_used: 'This link has already been used. Ask the sender for a new one.',
      link_revoked: 'This link was withdrawn. Ask the sender for a new one.',
    } as const;
    super(code, messages[code], code === 'link_invalid' ? 404 : 410);
  }
}

/**
 * A signed request or webhook was refused: `signature_invalid` (401: missing, malformed, wrong
 * key, body or path changed, secret past its `notAfter`), `signature_stale` (401: timestamp
 * outside the tolerance), `signature_replayed` (409: this exact signature was already accepted).
 */
export class SignatureError extends DeliveryError {
  constructor(code: 'signature_invalid' | 'signature_stale' | 'signature_replayed') {
    const messages = {
      signature_invalid: 'Request signature missing or invalid: sign the exact method, path and body with a current secret.',
      signature_stale: 'Request signature timestamp outside the accepted window: check the sender clock and sign at send time.',
      signature_replayed: 'Request signature already used: sign every request afresh.',
    } as const;
    super(code, messages[code], code === 'signature_replayed' ? 409 : 401);
  }
}

/**
 * A notification would carry something the DLP scanner flags (status 422). `field` names the
 * input (`recipientName`, `link`, …), never its value.
 */
export class NotificationPhiError extends DeliveryError {
  constructor(
    readonly field: string,
    readonly types: readonly string[],
  ) {
    super('notification_phi', `Notification refused: input \`${field}\` contains identifiers (${types.join(', ')}); notifications carry a generic message and the pickup link only.`, 422);
  }
}

/** An export's watermark or columns are invalid (status 500: a programming error, not a client one). */
export class ExportError extends DeliveryError {
  constructor(message: string) {
    super('export_invalid', message, 500);
  }
}
