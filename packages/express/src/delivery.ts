/**
 * Express side of phiguard's delivery features: signed-request verification, watermarked
 * exports and response hardening for PHI routes.
 */
import { BlockList, isIP } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import {
  AuditUnavailableError,
  OptionsError,
  PhiGuardError,
  type AccessContext,
  type AuditEvent,
  type Scanner,
} from '@phiguard/core';
import { didYouMean } from '@phiguard/core/adapter';
import {
  createSignatureCheck,
  exportCsv,
  exportEvent,
  exportJson,
  safeFileName,
  type CsvColumn,
  type ExportDisclosure,
  type ExportMeta,
  type ExportResult,
  type Watermark,
} from '@phiguard/core/delivery';
import { type StateStore } from '@phiguard/core/state';
import { errorBody, requestIdOf } from './errors.js';

// ---------------------------------------------------------------------------------------------
// The delivery API of @phiguard/core used here, by shape (see packages/core/src/delivery).

/** One verification secret (see `VerificationSecret` in @phiguard/core). */
export interface SignatureSecret {
  readonly id?: string;
  readonly secret: string | Uint8Array;
  readonly notAfter?: Date | string | number;
}

/** An accepted signature (see `VerifiedSignature` in @phiguard/core). */
export interface VerifiedSignature {
  readonly ok: true;
  readonly secretId?: string;
  readonly timestamp: number;
}

/** Watermark fields of an export: core's `ExportMeta`. */
export type ExportWatermark = ExportMeta;
/** A CSV column: core's `CsvColumn`. */
export type ExportColumn = CsvColumn;
/** The watermark as written: core's `Watermark`. */
export type SentWatermark = Watermark;

function checkKeys(options: unknown, known: readonly string[], where: string): asserts options is object {
  if (options === null || typeof options !== 'object') throw new OptionsError(`${where}(options): options must be an object`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new OptionsError(`unknown ${where} option "${key}"${didYouMean(key, known)}`);
  }
}

/** Answers with phiguard's error body (a code, never a message), uncached. */
function answer(req: Request, res: Response, status: number, code: string): void {
  res.status(status).setHeader('Cache-Control', 'no-store');
  res.json(errorBody(code, status, requestIdOf(req, res)));
}

function statusAndCode(err: unknown): { status: number; code: string } {
  if (err instanceof PhiGuardError) return { status: err.status, code: err.code };
  return { status: 500, code: 'internal_error' };
}

// ---------------------------------------------------------------------------------------------
// Signed requests and webhooks

/** Options of {@link verifySignature}. */
export interface VerifySignatureOptions {
  /** Current secret first, rotated ones with their `notAfter`. Each at least 32 bytes. */
  readonly secrets: readonly SignatureSecret[];
  /** Remembers accepted requests for the replay window; share it between instances (Redis). */
  readonly store: StateStore;
  /** Accepted clock difference, in seconds. Default 300. */
  readonly toleranceSeconds?: number;
  /** Same as `toleranceSeconds`. */
  readonly tolerance?: number;
  /** Header carrying the signature. Default `X-PhiGuard-Signature`. */
  readonly header?: string;
  /** Largest body read for verification. Default `'1mb'`. */
  readonly limit?: string | number;
  /** Parse the verified body as JSON into `req.body` (400 `invalid_json` when it is not). Default false: `req.body` is the raw Buffer. */
  readonly json?: boolean;
  /** Key prefix in the store. Default `sig:`. */
  readonly prefix?: string;
}

const VERIFY_KEYS = ['secrets', 'store', 'toleranceSeconds', 'tolerance', 'header', 'limit', 'json', 'prefix'];
const verified = new WeakMap<Request, VerifiedSignature>();

/** The accepted signature of a request verified by {@link verifySignature} (`secretId`, `timestamp`). */
export function getVerifiedSignature(req: Request): VerifiedSignature | undefined {
  return verified.get(req);
}

/**
 * Verifies signed requests and webhooks before the handler runs:
 * `app.post('/hooks/results', verifySignature({ secrets, store }), handler)`.
 *
 * It reads the raw body itself (mount it before `express.json()` on the route, or after
 * `express.raw()`; a body already parsed into an object is refused with 500
 * `signature_body_parsed`, since its bytes are gone), verifies the `t=…,v1=…` header over
 * `t.METHOD.originalUrl.sha256(body)`, and answers 401 `signature_invalid` / 401
 * `signature_stale` / 409 `signature_replayed` without calling the handler.
 */
export function verifySignature(options: VerifySignatureOptions): RequestHandler {
  /* Precondition: called, not passed bare to app.use. */
  if (arguments.length === 3 && typeof arguments[2] === 'function') throw new OptionsError('verifySignature must be called: app.post(path, verifySignature({ secrets, store }), handler)');
  checkKeys(options, VERIFY_KEYS, 'verifySignature');
  if (options.tolerance !== undefined && options.toleranceSeconds !== undefined) throw new OptionsError('verifySignature: give `toleranceSeconds` or `tolerance`, not both');
  const tolerance = options.toleranceSeconds ?? options.tolerance;
  const { secrets, store, header, prefix } = options;
  const signature = createSignatureCheck({ secrets, store, header, prefix, ...(tolerance === undefined ? {} : { toleranceSeconds: tolerance }) }, 'verifySignature');
  const json = options.json ?? false;
  // Every content type: the signature covers the bytes, whatever they are.
  const raw = express.raw({ type: () => true, limit: options.limit ?? '1mb' });

  async function check(req: Request, res: Response, next: NextFunction): Promise<void> {
    const body: unknown = req.body;
    if (body !== undefined && !Buffer.isBuffer(body)) return answer(req, res, 500, 'signature_body_parsed');
    let result: VerifiedSignature;
    try {
      result = await signature.verify({ headers: req.headers, method: req.method, path: req.originalUrl, body: Buffer.isBuffer(body) ? body : undefined });
    } catch (err) {
      const { status, code } = statusAndCode(err);
      return answer(req, res, status, code);
    }
    verified.set(req, result);
    if (json) {
      try {
        req.body = Buffer.isBuffer(body) && body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        return answer(req, res, 400, 'invalid_json');
      }
    }
    next();
  }

  return function phiguardVerifySignature(req, res, next) {
    if (Buffer.isBuffer(req.body)) {
      void check(req, res, next);
      return;
    }
    raw(req, res, (err?: unknown) => {
      if (err) {
        const status = (err as { status?: number }).status;
        return answer(req, res, status === 413 ? 413 : 400, status === 413 ? 'payload_too_large' : 'invalid_body');
      }
      void check(req, res, next);
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Watermarked exports

/** Options of {@link sendExport}. */
export interface SendExportOptions {
  readonly format: 'csv' | 'json';
  /** Suggested file name; sent through `safeFileName` (identifiers out, ASCII, extension kept). */
  readonly filename: string;
  /** The records (JSON) or rows (CSV), already filtered for the recipient (minimum necessary). */
  readonly rows: readonly unknown[];
  /** CSV columns; required for `csv`. */
  readonly columns?: readonly ExportColumn[];
  /** Watermark: purpose, recipient, user, requestId (time and exportId default). */
  readonly meta: ExportWatermark;
  /** Receives the `export` audit event before any byte is sent; a failure answers 503. */
  readonly audit?: { write(event: AuditEvent): void | Promise<void> };
  /** Resource type recorded in the audit event. Default `export`. */
  readonly resource?: string;
  /** Who exports, for the audit event (default: built from `meta.user`). */
  readonly context?: AccessContext | null;
  /** Keyed patient reference, when the export concerns one patient. */
  readonly patientRef?: string;
  /** Scanner for the file name (your names list). Default: the default scanner. */
  readonly scanner?: Scanner;
  /**
   * For an export that leaves the organization: the disclosure record (recipient, purpose
   * statement, basis, authorization, delivery method), as on `disclose` events; the digest of
   * the exact bytes sent is added. Needs `audit`.
   */
  readonly disclosure?: ExportDisclosure;
}

const EXPORT_KEYS = ['format', 'filename', 'rows', 'columns', 'meta', 'audit', 'resource', 'context', 'patientRef', 'scanner', 'disclosure'];

/**
 * Sends a watermarked CSV or JSON export as an attachment: builds it with `exportCsv` /
 * `exportJson`, writes the `export` audit event (45 CFR 164.312(b); a failing sink answers 503
 * `audit_unavailable` and nothing is sent), and sets `Content-Type`, a `Content-Disposition`
 * whose file name carries no identifier, `Cache-Control: no-store`, `Pragma: no-cache` and
 * `X-Content-Type-Options: nosniff`. Resolves the watermark, or null when it answered an error.
 */
export async function sendExport(res: Response, options: SendExportOptions): Promise<SentWatermark | null> {
  checkKeys(options, EXPORT_KEYS, 'sendExport');
  const req = res.req;
  let result: ExportResult;
  try {
    if (options.format === 'csv') {
      if (!Array.isArray(options.columns)) throw new OptionsError('sendExport: `columns` are required for format csv');
      result = exportCsv(options.rows, options.columns, options.meta);
    } else if (options.format === 'json') {
      result = exportJson(options.rows, options.meta);
    } else {
      throw new OptionsError('sendExport: `format` must be "csv" or "json"');
    }
    // A disclosure nobody records would leave the accounting incomplete.
    if (options.disclosure !== undefined && options.audit === undefined) throw new OptionsError('sendExport: `disclosure` needs `audit`');
    if (options.audit !== undefined) {
      const event = exportEvent(result, {
        ...(options.disclosure === undefined ? {} : { disclosure: options.disclosure }),
        format: options.format,
        ...(options.resource === undefined ? {} : { resource: options.resource }),
        ...(options.context === undefined ? {} : { context: options.context }),
        ...(options.patientRef === undefined ? {} : { patientRef: options.patientRef }),
      });
      try {
        await options.audit.write(event);
      } catch {
        throw new AuditUnavailableError();
      }
    }
  } catch (err) {
    const { status, code } = statusAndCode(err);
    if (!res.headersSent) answer(req, res, status, code);
    return null;
  }
  const ext = options.format === 'csv' ? '.csv' : '.json';
  let name = safeFileName(String(options.filename ?? ''), options.scanner);
  if (!name.toLowerCase().endsWith(ext)) name = `${name.replace(/\.[A-Za-z0-9]{1,8}$/, '')}${ext}`;
  res.status(200);
  res.setHeader('Content-Type', result.contentType);
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-PhiGuard-Export-Id', result.watermark.exportId);
  res.send(Buffer.from(result.body, 'utf8'));
  return result.watermark;
}

// ---------------------------------------------------------------------------------------------
// Response hardening

/** A verified TLS client, as mapped by `mtls.principalFromSubject`. */
export interface ClientIdentity {
  /** What `principalFromSubject` returned: use it as the principal id in your context resolver. */
  readonly principal: string;
  /** The certificate subject (`{ CN, O, OU, … }`). */
  readonly subject: Readonly<Record<string, string | string[]>>;
  readonly fingerprint256: string;
  readonly serialNumber: string;
  readonly validTo: string;
}

/** Options of {@link hardenPhiResponses}. */
export interface HardenOptions {
  /** Refuse plain HTTP with 403 `https_required`. Default true. */
  readonly requireHttps?: boolean;
  /**
   * Addresses (IPs or CIDR blocks: `10.0.0.5`, `10.0.0.0/8`, `::1`) of the TLS-terminating
   * proxies whose `X-Forwarded-Proto` is honoured. From any other peer the header is ignored.
   */
  readonly trustProxy?: readonly string[];
  /**
   * Mutual TLS: require a client certificate verified by the server's `ca`, and map its
   * subject to a principal (null refuses with 403 `client_not_allowed`). The identity is on
   * `req.phiguardClient` and {@link getClientIdentity}.
   */
  readonly mtls?: { readonly principalFromSubject: (subject: Readonly<Record<string, string | string[]>>, certificate: PeerCertificate) => string | null };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified TLS client on routes under `hardenPhiResponses({ mtls })`. */
      phiguardClient?: ClientIdentity;
    }
  }
}

/** The verified TLS client of a request under `hardenPhiResponses({ mtls })`, if any. */
export function getClientIdentity(req: Request): ClientIdentity | undefined {
  return req.phiguardClient;
}

const HARDEN_KEYS = ['requireHttps', 'trustProxy', 'mtls'];

function plainAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  // IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d.
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Hardens responses on PHI routes: `Cache-Control: no-store` and `Pragma: no-cache` on every
 * response (errors included), plain HTTP refused with 403 `https_required` (a trusted proxy's
 * `X-Forwarded-Proto: https` counts as HTTPS), and, with `mtls`, a verified client
 * certificate required and mapped to `req.phiguardClient`.
 */
export function hardenPhiResponses(options: HardenOptions = {}): RequestHandler {
  /* Precondition: called, not passed bare to app.use. */
  if (arguments.length === 3 && typeof arguments[2] === 'function') throw new OptionsError('hardenPhiResponses must be called: app.use(hardenPhiResponses({ … }))');
  checkKeys(options, HARDEN_KEYS, 'hardenPhiResponses');
  const requireHttps = options.requireHttps ?? true;
  if (typeof requireHttps !== 'boolean') throw new OptionsError('hardenPhiResponses: requireHttps must be a boolean');
  const proxies = new BlockList();
  const trustProxy = options.trustProxy ?? [];
  if (!Array.isArray(trustProxy)) throw new OptionsError('hardenPhiResponses: trustProxy must be an array of IP addresses or CIDR blocks');
  for (const entry of trustProxy) {
    const [ip, bits, extra] = String(entry).split('/');
    const family = isIP(ip ?? '');
    const prefix = bits === undefined ? undefined : Number(bits);
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)))) {
      throw new OptionsError(`hardenPhiResponses: trustProxy entry "${String(entry)}" is not an IP address or CIDR block (names like "loopback" are not accepted)`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) proxies.addAddress(ip!, type);
    else proxies.addSubnet(ip!, prefix, type);
  }
  const mtls = options.mtls;
  if (mtls !== undefined && typeof mtls?.principalFromSubject !== 'function') throw new OptionsError('hardenPhiResponses: mtls needs principalFromSubject(subject) => principal | null');

  function trusted(address: string | undefined): boolean {
    const ip = plainAddress(address);
    if (ip === undefined) return false;
    const family = isIP(ip);
    return family !== 0 && proxies.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  function isHttps(req: Request): boolean {
    if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
    if (!trusted(req.socket.remoteAddress)) return false;
    const forwarded = req.headers['x-forwarded-proto'];
    const value = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    // The last entry is the one the nearest (trusted) proxy wrote.
    const last = value?.split(',').pop()?.trim().toLowerCase();
    return last === 'https';
  }

  return function phiguardHardenPhiResponses(req, res, next) {
    // 45 CFR 164.312(e)(1): no copies in shared caches or the browser cache. Set now and again
    // when the head is written, so a handler's own caching header cannot win.
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    const writeHead = res.writeHead as (...args: unknown[]) => Response;
    res.writeHead = function phiguardNoStore(this: Response, ...args: unknown[]) {
      // Caching headers passed to writeHead are dropped from a copy (the caller's object is left alone).
      const cleaned = args.map((arg) =>
        arg !== null && typeof arg === 'object' && !Array.isArray(arg)
          ? Object.fromEntries(Object.entries(arg).filter(([key]) => !/^(cache-control|pragma|expires)$/i.test(key)))
          : arg,
      );
      this.setHeader('Cache-Control', 'no-store');
      this.setHeader('Pragma', 'no-cache');
      return writeHead.apply(this, cleaned);
    } as Response['writeHead'];
    // 45 CFR 164.312(e)(1): transmission security.
    if (requireHttps && !isHttps(req)) return answer(req, res, 403, 'https_required');
    if (mtls === undefined) return next();
    const socket = req.socket as Partial<TLSSocket>;
    // A client certificate counts only when this process verified it (not a proxy header).
    if (socket.encrypted !== true || socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') {
      return answer(req, res, 401, 'client_certificate_required');
    }
    const cert = socket.getPeerCertificate();
    if (!cert || cert.subject === undefined || Object.keys(cert).length === 0) return answer(req, res, 401, 'client_certificate_required');
    const subject = { ...cert.subject } as Record<string, string | string[]>;
    let principal: string | null;
    try {
      principal = mtls.principalFromSubject(subject, cert);
    } catch {
      principal = null;
    }
    if (typeof principal !== 'string' || principal.length === 0) return answer(req, res, 403, 'client_not_allowed');
    req.phiguardClient = { principal, subject, fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber, validTo: cert.valid_to };
    next();
  };
}
