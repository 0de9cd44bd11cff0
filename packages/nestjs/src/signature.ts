import { Injectable, mixin, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { createSignatureCheck, type SignatureCheckOptions, type VerifiedRequest } from '@phiguard/core/delivery';
import { PhiGuardRefusal } from './errors.js';
import type { HttpRequest } from './runtime.js';

/** Options of {@link SignatureGuard}: core's signature check options (`secrets`, `store`, `toleranceSeconds`, `header`). */
export type SignatureGuardOptions = Omit<SignatureCheckOptions, 'prefix'>;

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
  const check = createSignatureCheck(options, 'SignatureGuard');

  @Injectable()
  class PhiGuardSignatureGuard implements CanActivate {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const req = context.switchToHttp().getRequest<HttpRequest & { rawBody?: Buffer; phiguardSignature?: VerifiedSignature }>();
      const hasBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0';
      // Without the raw bytes the body cannot be checked: refuse rather than verify a re-serialization.
      if (hasBody && !Buffer.isBuffer(req.rawBody)) throw new PhiGuardRefusal('signature_body_parsed', 500);
      const body = Buffer.isBuffer(req.rawBody) ? req.rawBody : undefined;
      req.phiguardSignature = await check.verify({ headers: req.headers, method: req.method, path: req.originalUrl ?? req.url ?? '/', body });
      return true;
    }
  }
  return mixin(PhiGuardSignatureGuard);
}
