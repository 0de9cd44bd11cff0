import { createScanner, type Scanner } from '../dlp/scanner.js';
import type { PhiType } from '../dlp/index.js';
import type { Canary } from './canaries.js';
import { canaryDetectors } from './canaries.js';
import type { Captured } from './capture.js';

/** One canary found where it should not be. */
export interface Leak {
  readonly channel: string;
  readonly location: string;
  /** The canary's field (`ssn`, `mrn`…), or `scanner:<TYPE>` for a DLP finding. */
  readonly field: string;
  /** The value with all but its last two characters masked, safe to print. */
  readonly masked: string;
}

/** What a search may ignore. */
export interface LeakOptions {
  /** Canary values to look for (from `createCanaries` or `canariesFrom`). */
  readonly canaries?: readonly Canary[];
  /** Also run the DLP scanner (with the canary detectors) for these types. Default: none. */
  readonly scan?: readonly PhiType[] | boolean;
  /**
   * Allowed: `{ channel, fields }` pairs (a role that may receive the SSN in the body:
   * `{ channel: 'http.body', fields: ['ssn'] }`).
   */
  readonly allow?: readonly { readonly channel: string; readonly fields: readonly string[] }[];
  readonly scanner?: Scanner;
}

/** Masks all but the last two characters. */
export function maskValue(value: string): string {
  return value.length <= 2 ? '**' : '*'.repeat(Math.min(value.length - 2, 12)) + value.slice(-2);
}

let testScanner: Scanner | null = null;

/** Every leak of a canary (and, with `scan`, every DLP finding) in the captured items. */
export function findLeaks(captured: readonly Captured[], options: LeakOptions = {}): Leak[] {
  const leaks: Leak[] = [];
  const allowed = (channel: string, field: string) =>
    (options.allow ?? []).some((a) => (a.channel === channel || a.channel === '*') && (a.fields.includes(field) || a.fields.includes('*')));
  const canaries = options.canaries ?? [];
  const scanner = options.scan ? (options.scanner ?? (testScanner ??= createScanner({ detectors: [...canaryDetectors] }))) : null;
  const types = Array.isArray(options.scan) ? new Set(options.scan) : null;
  for (const item of captured) {
    if (typeof item.text !== 'string' || item.text.length === 0) continue;
    // JSON escapes and URL encoding must not hide a value.
    const views = [item.text, unescapeJson(item.text)];
    for (const c of canaries) {
      if (allowed(item.channel, c.field)) continue;
      if (views.some((v) => v.includes(c.value))) leaks.push({ channel: item.channel, location: item.location, field: c.field, masked: maskValue(c.value) });
    }
    if (scanner !== null) {
      for (const f of scanner.scan(item.text)) {
        if (types !== null && !types.has(f.type)) continue;
        const field = `scanner:${f.type}`;
        if (allowed(item.channel, field)) continue;
        leaks.push({ channel: item.channel, location: item.location, field, masked: maskValue(item.text.slice(f.start, f.end)) });
      }
    }
  }
  return leaks;
}

function unescapeJson(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\(["\\/])/g, '$1');
}

/** A readable report of leaks, one per line. */
export function formatLeaks(leaks: readonly Leak[]): string {
  return leaks.map((l) => `- ${l.field} in ${l.channel} at ${l.location}: ${l.masked}`).join('\n');
}

/**
 * Throws when any canary (or, with `scan`, any DLP finding) is in the captured items, naming
 * each channel, location and field with the value masked. Works with any test runner.
 */
export function expectNoPhi(captured: readonly Captured[], options: LeakOptions = {}): void {
  const leaks = findLeaks(captured, options);
  if (leaks.length > 0) {
    const err = new Error(`PHI leaked (${leaks.length}):\n${formatLeaks(leaks)}`);
    err.name = 'PhiLeakError';
    throw err;
  }
}

/**
 * Vitest/Jest matchers: `expect.extend(phiMatchers)`, then
 * `expect(captured).toContainNoPhi({ canaries })`.
 */
export const phiMatchers = {
  toContainNoPhi(received: readonly Captured[], options: LeakOptions = {}) {
    const leaks = findLeaks(received, options);
    return {
      pass: leaks.length === 0,
      message: () => (leaks.length === 0 ? 'expected PHI to leak, but none did' : `PHI leaked (${leaks.length}):\n${formatLeaks(leaks)}`),
    };
  },
};

/** One request of a sweep. */
export interface SweepCase {
  readonly route: string;
  readonly role: string;
  readonly purpose: string;
}

/**
 * Runs `request` for every route × role × purpose and collects the leaks per case. `request`
 * performs the call and returns everything captured for it (response, log lines, spans…);
 * `allow(case)` says what that case may legitimately receive.
 */
export async function sweep(options: {
  readonly routes: readonly string[];
  readonly roles: readonly { readonly role: string; readonly purposes: readonly string[] }[];
  readonly request: (c: SweepCase) => Promise<readonly Captured[]>;
  readonly canaries: readonly Canary[];
  readonly allow?: (c: SweepCase) => LeakOptions['allow'];
  readonly scan?: LeakOptions['scan'];
}): Promise<{ readonly cases: number; readonly leaks: readonly (Leak & SweepCase)[] }> {
  const leaks: (Leak & SweepCase)[] = [];
  let cases = 0;
  for (const route of options.routes) {
    for (const { role, purposes } of options.roles) {
      for (const purpose of purposes) {
        const c = { route, role, purpose };
        cases++;
        const captured = await options.request(c);
        for (const leak of findLeaks(captured, { canaries: options.canaries, allow: options.allow?.(c), scan: options.scan })) leaks.push({ ...leak, ...c });
      }
    }
  }
  return { cases, leaks };
}
