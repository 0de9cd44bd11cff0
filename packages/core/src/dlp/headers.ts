import { ServerResponse } from 'node:http';
import type { Scanner } from './scanner.js';

/** Headers whose values the server or phiguard generates; every other header is scanned on PHI routes. */
const SYSTEM_HEADERS = new Set([
  'content-type', 'content-length', 'cache-control', 'pragma', 'expires', 'etag', 'last-modified', 'date', 'vary',
  'x-request-id', 'connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'set-cookie', 'www-authenticate',
  'strict-transport-security', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy',
  'x-powered-by',
]);

/** The parts of a Node response the scrubber uses. */
export interface HeaderTarget {
  getHeaderNames?(): string[];
  getHeader?(name: string): unknown;
  setHeader(name: string, value: string | string[]): unknown;
}

/**
 * Keeps identifiers out of response headers on PHI routes (both adapters call it): values of
 * headers the application set are scanned and
 * their identifiers replaced by `[TYPE]`; a Content-Disposition file name is rebuilt from a
 * redacted, ASCII-only version of the name.
 */
export function scrubHeaders(res: HeaderTarget, scanner: Scanner): void {
  // A ServerResponse needs no method check (each read walks an Express response's prototype chain).
  if (!(res instanceof ServerResponse) && (typeof res.getHeaderNames !== 'function' || typeof res.getHeader !== 'function')) return;
  for (const name of res.getHeaderNames!()) {
    if (SYSTEM_HEADERS.has(name) || name.startsWith('access-control-')) continue;
    const value = res.getHeader!(name);
    if (name === 'content-disposition' && typeof value === 'string') {
      res.setHeader(name, safeContentDisposition(value, scanner));
    } else if (typeof value === 'string') {
      const redacted = scanner.redact(value);
      if (redacted !== value) res.setHeader(name, redacted);
    } else if (Array.isArray(value)) {
      const values = value.map(String);
      const redacted = values.map((v) => scanner.redact(v));
      if (redacted.some((v, i) => v !== values[i])) res.setHeader(name, redacted);
    }
  }
}

const FILENAME_STAR = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]*)/;
const FILENAME = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/;

/**
 * A Content-Disposition value whose file name carries no identifier the scanner finds: each one
 * replaced by its type name, the rest reduced to ASCII letters, digits, `.`, `-`, `_` and spaces,
 * the extension kept.
 */
export function safeContentDisposition(value: string, scanner: Scanner): string {
  const kind = /^\s*inline\b/i.test(value) ? 'inline' : 'attachment';
  let name: string | undefined;
  const star = FILENAME_STAR.exec(value);
  if (star) {
    try {
      name = decodeURIComponent(star[1]!);
    } catch {
      name = undefined;
    }
  }
  if (name === undefined) {
    const plain = FILENAME.exec(value);
    name = plain ? (plain[1] ?? plain[2] ?? '').replace(/\\(.)/g, '$1') : undefined;
  }
  if (name === undefined || name === '') return kind;
  // The extension is kept apart: an e-mail or URL detector would otherwise take `.pdf` along.
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '';
  const stem = name.slice(0, name.length - ext.length);
  let out = '';
  let at = 0;
  for (const f of scanner.scan(stem)) {
    out += `${stem.slice(at, f.start)}${f.type}`;
    at = f.end;
  }
  out += stem.slice(at);
  return `${kind}; filename="${(out.replace(/[^\w.\- ]/g, '_').slice(0, 120) || 'download') + ext}"`;
}
