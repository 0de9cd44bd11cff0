import { HttpException } from '@nestjs/common';
import { PhiGuardError } from '@phiguard/core';

/** A refusal the adapter itself makes (a route or body phiguard cannot vouch for). */
export class PhiGuardRefusal extends Error {
  override name = 'PhiGuardRefusal';
  constructor(
    readonly code: 'unmapped_route' | 'raw_body_denied' | 'dlp_unscannable' | 'break_glass_disabled' | 'signature_body_parsed',
    readonly status: number,
  ) {
    super(`phiguard refused the response (${code}).`);
  }
}

/** The only error body phiguard sends: codes and a request id, never a message. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly status: number; readonly reason?: string; readonly requestId?: string };
}

const CODE = /^[a-z][a-z0-9_.-]{0,63}$/i;

function codeIn(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { code?: unknown; error?: unknown };
  const nested = b.error !== null && typeof b.error === 'object' ? (b.error as { code?: unknown }).code : undefined;
  for (const c of [nested, b.code]) if (typeof c === 'string' && CODE.test(c)) return c;
  return undefined;
}

/** Status to answer: phiguard's own, an HttpException's, an HTTP error's `status`, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof PhiGuardError || err instanceof PhiGuardRefusal) return err.status;
  if (err instanceof HttpException) return err.getStatus();
  const s = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s >= 400 && s <= 599 ? s : 500;
}

/** A machine code: phiguard's, a token-like code in an HttpException body or error `type`/`code`, else generic. */
export function errorCode(err: unknown, status: number): string {
  if (err instanceof PhiGuardError || err instanceof PhiGuardRefusal) return err.code;
  if (err instanceof HttpException) {
    const c = codeIn(err.getResponse());
    if (c !== undefined) return c;
  } else {
    const e = err as { type?: unknown; code?: unknown } | null;
    for (const c of [e?.type, e?.code]) if (typeof c === 'string' && CODE.test(c)) return c;
  }
  return status === 404 ? 'not_found' : status < 500 ? 'request_error' : 'internal_error';
}

export function errorBody(code: string, status: number, requestId: string | undefined, reason?: string): ErrorBody {
  return { error: reason === undefined ? { code, status, requestId } : { code, status, reason, requestId } };
}
