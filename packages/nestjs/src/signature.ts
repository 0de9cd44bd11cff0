import { Injectable, mixin, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { createRequestVerifier, signatureHeaderName, type VerificationSecret, type VerifiedRequest } from '@phiguard/core/delivery';
import { type StateStore } from '@phiguard/core/state';
import { PhiGuardRefusal } from './errors.js';
import type { HttpRequest } from './runtime.js';

/** Options of {@link SignatureGuard}. */
export interface SignatureGuardOptions {
  /** Current secret first, rotated ones with their `notAfter`. Each at least 32 bytes. */
  readonly secrets: readonly VerificationSecret[];
  /** Remembers accepted requests for the replay window; share it between instances (Redis). */
  readonly store: StateStore;
  /** Accepted clock difference, in seconds. Default 300. */
  readonly toleranceSeconds?: number;
  /** The signature header. Default `x-phiguard-signature`, as the Express middleware. */
  readonly header?: string;
}

/** What a verified request carries for the handler (`req.phiguardSignature`). */
export type VerifiedSignature = VerifiedRequest;

/**
 * A guard that verifies signed data-sharing requests and webhooks (`t=…,v1=…` over timestamp,
 * method, path and body; replay window; key rotation) before the handler runs, as the Express
 * `verifySignature()` does: `@UseGuards(SignatureGuard({ secrets, store }))`. The signature covers
 * the raw bytes, so create the app with `{ rawBody: true }`. Refusals answer 401
 * `signature_invalid` / `signature_stale` and 409 `signature_replayed` through the exception filter.
 */
export function SignatureGuard(options: SignatureGuardOptions): Type<CanActivate> {
  const verifier = createRequestVerifier({
    secrets: options.secrets,
    store: options.store,
    ...(options.toleranceSeconds === undefined ? {} : { toleranceSeconds: options.toleranceSeconds }),
  });
  const header = signatureHeaderName(options.header, 'SignatureGuard');

  @Injectable()
  class PhiGuardSignatureGuard implements CanActivate {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const req = context.switchToHttp().getRequest<HttpRequest & { rawBody?: Buffer; phiguardSignature?: VerifiedSignature }>();
      const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
      // Without the raw bytes the body cannot be checked: refuse rather than verify a re-serialization.
      if (hasBody && !Buffer.isBuffer(req.rawBody)) throw new PhiGuardRefusal('signature_body_parsed', 500);
      req.phiguardSignature = await verifier.verify({
        header: req.headers[header],
        method: req.method,
        path: req.originalUrl ?? req.url ?? '/',
        ...(Buffer.isBuffer(req.rawBody) ? { body: req.rawBody } : {}),
      });
      return true;
    }
  }
  return mixin(PhiGuardSignatureGuard);
}
