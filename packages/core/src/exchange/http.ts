/**
 * How phiguard answers in HTTP: one mapping from errors to status, code, body and headers, used by
 * the exchange for every adapter. Bodies and codes never carry text from the application: its
 * messages and codes may name a patient (`no_chart_for_MRN…`).
 */
import { AccessDeniedError, PhiGuardError, StepUpRequiredError } from '../errors.js';

/** The only error body phiguard sends: a code, the status, a reason code and the request id. */
export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly status: number;
    readonly reason?: string;
    readonly requestId?: string;
  };
}

/** A complete answer phiguard gives in the application's place. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
}

const GENERIC: Readonly<Record<number, string>> = Object.freeze({
  400: 'bad_request',
  401: 'authentication_required',
  403: 'access_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  410: 'gone',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_content',
  429: 'throttled',
  503: 'service_unavailable',
});

/** Token-shaped codes an application lists in `errorCodes` may pass to clients. */
export const APP_CODE = /^[a-z][a-z0-9_.-]{0,63}$/i;

/**
 * Status for an error thrown by the app or by phiguard: phiguard's own, an HTTP error's
 * `status`/`statusCode` (http-errors, Nest's HttpException `getStatus()`), else 500.
 */
export function statusOf(err: unknown): number {
  if (err instanceof PhiGuardError) return err.status;
  const e = err as { status?: unknown; statusCode?: unknown; getStatus?: unknown } | null;
  const s = typeof e?.getStatus === 'function' ? (e.getStatus as () => unknown)() : (e?.status ?? e?.statusCode);
  return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
}

/** The generic code of a status: what clients see for an application's own error. */
export function genericCode(status: number): string {
  return GENERIC[status] ?? (status < 500 ? 'request_error' : 'internal_error');
}

/**
 * The public code of an error: phiguard's own code, an application code the integrator allowed
 * (`errorCodes`), else the generic code of its status. Codes found on the error (`code`, `type`,
 * an HttpException's body) pass only when allowed.
 */
export function codeOf(err: unknown, status: number, allowed: ReadonlySet<string>): string {
  if (err instanceof PhiGuardError) return err.code;
  if (allowed.size > 0) for (const c of candidateCodes(err)) if (allowed.has(c)) return c;
  return genericCode(status);
}

/** Token-shaped codes carried by an error or an error body, nearest first. */
export function candidateCodes(value: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== 'object' || depth > 2) return;
    const o = v as { code?: unknown; type?: unknown; error?: unknown; getResponse?: unknown };
    if (typeof o.getResponse === 'function') visit((o.getResponse as () => unknown)(), depth + 1);
    if (o.error !== null && typeof o.error === 'object') visit(o.error, depth + 1);
    for (const c of [o.code, o.type, typeof o.error === 'string' ? o.error : undefined]) if (typeof c === 'string' && APP_CODE.test(c)) out.push(c);
  };
  visit(value, 0);
  return out;
}

/** `application/json` and `application/<x>+json`: the media types phiguard parses and projects. */
export const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json(?:\s*;|\s*$)/i;

/** Whether a step's result is an Answer (a Released value or a proceed has no status). */
export function isAnswer(v: unknown): v is Answer {
  return v !== null && typeof v === 'object' && typeof (v as Answer).status === 'number' && 'body' in v && 'headers' in v;
}

export function errorBody(code: string, status: number, requestId: string | undefined, reason?: string): ErrorBody {
  return { error: reason === undefined ? { code, status, requestId } : { code, status, reason, requestId } };
}

/** The deny or step-up reason code an error carries, for the body. */
export function reasonOf(err: unknown): string | undefined {
  return err instanceof AccessDeniedError || err instanceof StepUpRequiredError ? err.reason : undefined;
}

/** Headers that go with an error answer: never cached; how to authenticate on 401. */
export function errorHeaders(err: unknown, status: number): Record<string, string> {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' };
  if (err instanceof StepUpRequiredError) {
    // RFC 9470: the client re-authenticates with a second factor, no older than max_age.
    headers['WWW-Authenticate'] =
      `Bearer error="insufficient_user_authentication", error_description="A recent second factor is required", max_age=${err.maxAgeSeconds}`;
  } else if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
  return headers;
}
