import type { Request, Response } from 'express';
import { PhiGuardError } from '@phiguard/core';

/** The only error body phiguard sends: codes and a request id, never a message from the app. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly status: number;
    readonly reason?: string;
    readonly requestId?: string;
  };
}

const CODE = /^[a-z][a-z0-9_.-]{0,63}$/i;

/** A short machine code taken from an app's error body, if it has one; never free text. */
export function codeOf(body: unknown, status: number): string {
  if (body !== null && typeof body === 'object') {
    const b = body as { code?: unknown; error?: unknown };
    const nested = b.error !== null && typeof b.error === 'object' ? (b.error as { code?: unknown }).code : undefined;
    for (const c of [nested, b.code, typeof b.error === 'string' ? b.error : undefined]) {
      if (typeof c === 'string' && CODE.test(c)) return c;
    }
  }
  return status === 404 ? 'not_found' : status < 500 ? 'request_error' : 'internal_error';
}

/** Status to answer for an error thrown by the app or by phiguard. */
export function statusOf(err: unknown): number {
  if (err instanceof PhiGuardError) return err.status;
  const s = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s >= 400 && s <= 599 ? s : 500;
}

/** Machine code for an error: phiguard's own code, an HTTP error's `type`/`code` if it is a token, else generic. */
export function errorCode(err: unknown, status: number): string {
  if (err instanceof PhiGuardError) return err.code;
  const e = err as { type?: unknown; code?: unknown } | null;
  for (const c of [e?.type, e?.code]) if (typeof c === 'string' && CODE.test(c)) return c;
  return status < 500 ? 'request_error' : 'internal_error';
}

export function errorBody(code: string, status: number, requestId: string | undefined, reason?: string): ErrorBody {
  return { error: reason === undefined ? { code, status, requestId } : { code, status, reason, requestId } };
}

/** Minimal logger for PHI-free operational lines. */
export interface ErrorLogger {
  error(obj: object, msg?: string): void;
}

export function requestIdOf(req: Request, res: Response): string | undefined {
  return (res.getHeader('X-Request-Id') as string | undefined) ?? (req.headers['x-request-id'] as string | undefined);
}
