import { systemClock, type Clock } from '../base/clock.js';
import { option, optionsSchema } from '../options.js';
import { createHash } from 'node:crypto';
import { OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { SignatureError } from './errors.js';
import { checkKeys, hmac, safeEqual, secretBytes, type SecretInput } from './util.js';

/** A request body as signed: the exact bytes sent (a string is taken as UTF-8). Absent means empty. */
export type SignedBody = string | Uint8Array | null | undefined;

/** What {@link signRequest} signs. */
export interface SignRequestInput {
  /** Shared secret, at least 32 bytes. */
  readonly secret: SecretInput;
  /** HTTP method; upper-cased before signing. */
  readonly method: string;
  /** Path and query exactly as sent (`/hooks/results?x=1`), without scheme and host. */
  readonly path: string;
  readonly body?: SignedBody;
  /** Signing time in seconds since the epoch. Default now. */
  readonly timestamp?: number;
}

/** One verification secret. During a rotation list the new and the old one. */
export interface VerificationSecret {
  /** Name reported back on success (`2026-q4`), for logs and metrics. */
  readonly id?: string;
  readonly secret: SecretInput;
  /**
   * End of this secret's overlap: after it, signatures made with it are refused. A Date, an
   * ISO-8601 string or milliseconds since the epoch.
   */
  readonly notAfter?: Date | string | number;
}

/** What {@link verifySignedRequest} checks. */
export interface VerifySignedRequestInput {
  /** The signature header's value (`t=…,v1=…`); missing means refused. */
  readonly header: string | readonly string[] | null | undefined;
  readonly method: string;
  readonly path: string;
  readonly body?: SignedBody;
  readonly secrets: readonly VerificationSecret[];
  /** Accepted clock difference, in seconds, either way. Default 300. */
  readonly toleranceSeconds?: number;
  /** Remembers accepted signatures for the replay window; share it between instances. */
  readonly store: StateStore;
  /** Key prefix in the store. Default `sig:`. */
  readonly prefix?: string;
  /** The time signature timestamps are checked against. Default: the wall clock. */
  readonly clock?: Clock;
}

/** An accepted signature. */
export interface VerifiedRequest {
  readonly ok: true;
  /** `id` of the secret that verified it, when it has one. */
  readonly secretId?: string;
  /** Signing time, seconds since the epoch. */
  readonly timestamp: number;
}

const MAX_HEADER = 1024;
const MAX_SIGNATURES = 8;
const HEX64 = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const METHOD = /^[A-Za-z]{1,16}$/;

function bodyBytes(body: SignedBody): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  throw new OptionsError('signed body must be the raw bytes (Buffer/Uint8Array) or a string; a parsed object cannot be verified');
}

/**
 * The string signed, documented in DELIVERY.md:
 * `${t}.${METHOD}.${path}.${hex(sha256(body))}`.
 */
export function signingInput(timestamp: number, method: string, path: string, body: SignedBody): string {
  if (!METHOD.test(method)) throw new OptionsError('signed request: `method` must be an HTTP method name');
  if (typeof path !== 'string' || !path.startsWith('/')) throw new OptionsError('signed request: `path` must start with "/" (path and query, no host)');
  const digest = createHash('sha256').update(bodyBytes(body)).digest('hex');
  return `${timestamp}.${method.toUpperCase()}.${path}.${digest}`;
}

const mac = (secret: Buffer, input: string) => hmac(secret, input);

/**
 * Signs a request: returns the header value `t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * {@link signingInput}. Send it as `X-PhiGuard-Signature`.
 */
export function signRequest(input: SignRequestInput): string {
  checkKeys(input, ['secret', 'method', 'path', 'body', 'timestamp'], 'signRequest');
  const secret = secretBytes(input.secret, 'signRequest', 'secret');
  const t = input.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(t) || t < 0) throw new OptionsError('signRequest: timestamp must be whole seconds since the epoch');
  return `t=${t},v1=${mac(secret, signingInput(t, input.method, input.path, input.body)).toString('hex')}`;
}

function parseHeader(header: VerifySignedRequestInput['header']): { t: number; signatures: Buffer[] } | null {
  // Two signature headers is an ambiguity, not a choice.
  const value = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : header;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HEADER) return null;
  let t: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== null || !TIMESTAMP.test(val)) return null;
      t = Number(val);
    } else if (key === 'v1') {
      if (!HEX64.test(val) || signatures.length === MAX_SIGNATURES) return null;
      signatures.push(Buffer.from(val, 'hex'));
    }
    // Other schemes (`v0`, future versions) are ignored, never trusted.
  }
  return t === null || signatures.length === 0 ? null : { t, signatures };
}

function deadline(value: VerificationSecret['notAfter'], index: number): number {
  if (value === undefined) return Infinity;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new OptionsError(`secrets[${index}].notAfter must be a Date, an ISO-8601 string or epoch milliseconds`);
  return ms;
}

const VERIFIER = 'createRequestVerifier';
const VERIFIER_OPTIONS = optionsSchema<Omit<VerifySignedRequestInput, 'header' | 'method' | 'path' | 'body'>>(VERIFIER, {
  secrets: option.required(
    option.array('a list of at least one { secret, id?, notAfter? } (the current secret first, then rotated ones with their notAfter)', (l) => l.length > 0),
  ),
  toleranceSeconds: option.integer(1, 3600),
  store: option.required(option.implementing('a StateStore shared by every instance (replay protection)', 'setIfAbsent')),
  prefix: option.string(),
  clock: option.clock(),
});
const SECRET_OPTIONS = optionsSchema<VerificationSecret>(`${VERIFIER} secret`, {
  id: option.string(),
  secret: option.any(),
  notAfter: option.any(),
});

/**
 * The request header a verifier reads, lower-cased as Node delivers headers: `header`, or
 * `x-phiguard-signature` by default. Anything but a header name is an OptionsError naming `label`.
 */
export function signatureHeaderName(header: string | undefined, label: string): string {
  const name = (header ?? 'x-phiguard-signature').toLowerCase();
  if (!/^[a-z0-9-]{1,64}$/.test(name)) throw new OptionsError(`${label}: \`header\` must be a header name`);
  return name;
}

/** The options a framework's signature check takes (Express `verifySignature`, Nest `SignatureGuard`). */
export interface SignatureCheckOptions {
  /** Current secret first, rotated ones with their `notAfter`. Each at least 32 bytes. */
  readonly secrets: readonly VerificationSecret[];
  /** Remembers accepted requests for the replay window; share it between instances (Redis). */
  readonly store: StateStore;
  /** Accepted clock difference, in seconds. Default 300. */
  readonly toleranceSeconds?: number;
  /** The signature header. Default `x-phiguard-signature`. */
  readonly header?: string;
  /** Key prefix in the store. Default `sig:`. */
  readonly prefix?: string;
}

/** A signature check for requests as a framework delivers them: the header is read from `headers`. */
export interface SignatureCheck {
  verify(request: { readonly headers: Readonly<Record<string, string | string[] | undefined>>; readonly method: string; readonly path: string; readonly body?: SignedBody }): Promise<VerifiedRequest>;
}

/** Validates a framework's signature options once (`label` names the API in messages) and returns the check. */
export function createSignatureCheck(options: SignatureCheckOptions, label: string): SignatureCheck {
  const { header: name, ...rest } = options;
  const verifier = createRequestVerifier(Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Omit<SignatureCheckOptions, 'header'>);
  const header = signatureHeaderName(name, label);
  return { verify: (request) => verifier.verify({ header: request.headers[header], method: request.method, path: request.path, body: request.body }) };
}

/** @internal Validated, precomputed verification options (shared by the Express middleware). */
export interface PreparedVerifier {
  verify(request: { header: VerifySignedRequestInput['header']; method: string; path: string; body?: SignedBody }): Promise<VerifiedRequest>;
}

/**
 * Validates verification options once and returns a verifier: the work behind
 * {@link verifySignedRequest}, for callers that verify many requests with the same secrets.
 */
export function createRequestVerifier(options: Omit<VerifySignedRequestInput, 'header' | 'method' | 'path' | 'body'>): PreparedVerifier {
  VERIFIER_OPTIONS.parse(options);
  /* Precondition: at least one secret, each of at least 32 bytes. */
  const secrets = options.secrets.map((s: VerificationSecret, i: number) => {
    SECRET_OPTIONS.parse(s);
    return { id: s.id, key: secretBytes(s.secret, VERIFIER, `secrets[${i}].secret`), notAfter: deadline(s.notAfter, i) };
  });
  /* Precondition: a store (the schema requires one), so that a replay is caught on every instance. */
  const { store, toleranceSeconds: tolerance = 300, prefix = 'sig:', clock = systemClock } = options;
  const now = () => clock.now();

  return {
    async verify(request) {
      const parsed = parseHeader(request.header);
      if (parsed === null) throw new SignatureError('signature_invalid');
      let input: string;
      try {
        input = signingInput(parsed.t, request.method, request.path, request.body);
      } catch {
        throw new SignatureError('signature_invalid');
      }
      const at = now();
      let matched: { id?: string } | null = null;
      // Every secret against every signature, no early exit: the time taken does not tell which matched.
      for (const s of secrets) {
        const expected = mac(s.key, input);
        for (const sig of parsed.signatures) {
          if (safeEqual(expected, sig) && matched === null && at <= s.notAfter) matched = { id: s.id };
        }
      }
      if (matched === null) throw new SignatureError('signature_invalid');
      if (Math.abs(at / 1000 - parsed.t) > tolerance) throw new SignatureError('signature_stale');
      // Accepted requests are remembered for as long as their timestamp stays within tolerance.
      // The key is the signed content, not the signature: a request signed under two secrets
      // cannot be replayed with the other signature.
      const remaining = Math.ceil((parsed.t + tolerance) * 1000 - at) + 1000;
      const id = createHash('sha256').update(input).digest('hex');
      const fresh = await store.setIfAbsent(`${prefix}seen:${id}`, '1', Math.max(1000, remaining));
      if (!fresh) throw new SignatureError('signature_replayed');
      return matched.id === undefined ? { ok: true, timestamp: parsed.t } : { ok: true, secretId: matched.id, timestamp: parsed.t };
    },
  };
}

/**
 * Verifies a signed request or webhook: the signature (any listed secret still within its
 * `notAfter`), the timestamp (within `toleranceSeconds`) and single use (a hash of the signed
 * content is stored with `setIfAbsent` for the tolerance window). Resolves `{ ok: true }` or rejects with
 * {@link SignatureError}: `signature_invalid` (401), `signature_stale` (401),
 * `signature_replayed` (409).
 */
export function verifySignedRequest(input: VerifySignedRequestInput): Promise<VerifiedRequest> {
  const { header, method, path, body, ...options } = input;
  return createRequestVerifier(options).verify({ header, method, path, body });
}

/** What {@link signWebhook} sends. */
export interface SignWebhookInput {
  readonly secret: SecretInput;
  /** Absolute https URL of the receiver; its path and query are signed. */
  readonly url: string;
  /** The payload: an object is serialized as JSON, a string or bytes are sent as they are. */
  readonly body: unknown;
  /** Default `POST`. */
  readonly method?: string;
  readonly timestamp?: number;
  /** Signature header name. Default `X-PhiGuard-Signature`. */
  readonly header?: string;
}

/** A signed outbound webhook, ready for `fetch(url, { method, headers, body })`. */
export interface SignedWebhook {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/**
 * Signs an outbound webhook: serializes the body once and signs those exact bytes, so what is
 * verified is what was sent. The receiver verifies with {@link verifySignedRequest}.
 */
export function signWebhook(input: SignWebhookInput): SignedWebhook {
  checkKeys(input, ['secret', 'url', 'body', 'method', 'timestamp', 'header'], 'signWebhook');
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new OptionsError('signWebhook: `url` must be an absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'))) {
    throw new OptionsError('signWebhook: `url` must use https (plain http only to loopback, for development)');
  }
  const isRaw = typeof input.body === 'string' || input.body instanceof Uint8Array;
  const body = isRaw ? (input.body as string | Uint8Array) : JSON.stringify(input.body);
  if (body === undefined) throw new OptionsError('signWebhook: `body` must be JSON-serializable');
  const method = (input.method ?? 'POST').toUpperCase();
  const signature = signRequest({ secret: input.secret, method, path: url.pathname + url.search, body, timestamp: input.timestamp });
  const headers: Record<string, string> = { [input.header ?? 'X-PhiGuard-Signature']: signature };
  if (!isRaw) headers['Content-Type'] = 'application/json';
  return { url: url.href, method, headers, body };
}
