import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { CHAIN_GENESIS, canonicalJson, chainHash, createChainSink, verifyChain } from '@phiguard/core/audit';

/**
 * Known-answer vectors of the audit hash chain (AUDIT.md, "Hash chain"). chain.vectors.json was
 * computed once from the document's text with raw node:crypto, not by the library: the
 * canonical JSON of each event with `chain = { stream, seq, prev }`, and its HMAC-SHA256. This
 * file checks the vectors against a second reading of the spec, then the library against them.
 */
interface ChainVectors {
  keyHex: string;
  stream: string;
  genesis: string;
  events: Record<string, unknown>[];
  links: { canonical: string; link: { stream: string; seq: number; prev: string; hash: string } }[];
}
const file = JSON.parse(readFileSync(join(__dirname, 'chain.vectors.json'), 'utf8')) as ChainVectors;
const key = Buffer.from(file.keyHex, 'hex');

/**
 * The events as the vectors were computed: JSON cannot carry `undefined` or -0, so the second
 * event gets back its omitted member and its negative zero here.
 */
const events: AuditEvent[] = file.events.map((e, i) =>
  i === 1 ? ({ ...e, extra: { ...(e.extra as object), nothing: undefined, a: -0 } } as unknown as AuditEvent) : (e as unknown as AuditEvent),
);

// ---- the spec, read again: "keys sorted by UTF-16 code units, recursively; no whitespace;
// strings escaped as JSON.stringify escapes them; undefined members omitted, null kept" ----
function specCanonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : specCanonical(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const members = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${JSON.stringify(k)}:${specCanonical(o[k])}`);
  return `{${members.join(',')}}`;
}
const specHash = (event: AuditEvent, { stream, seq, prev }: { stream: string; seq: number; prev: string }) =>
  createHmac('sha256', key).update(specCanonical({ ...event, chain: { stream, seq, prev } }), 'utf8').digest('hex');

describe('audit hash chain known-answer vectors (AUDIT.md)', () => {
  it('the vectors follow the spec text: canonical JSON, HMAC-SHA256 in lowercase hex, prev links from the 64-zero genesis', () => {
    expect(file.genesis).toBe('0'.repeat(64));
    let prev = file.genesis;
    file.links.forEach(({ canonical, link }, i) => {
      expect(link).toMatchObject({ stream: file.stream, seq: i + 1, prev });
      expect(specCanonical({ ...events[i], chain: { stream: link.stream, seq: link.seq, prev: link.prev } })).toBe(canonical);
      expect(specHash(events[i]!, link)).toBe(link.hash);
      expect(link.hash).toMatch(/^[0-9a-f]{64}$/);
      prev = link.hash;
    });
    // The tricky parts are really in the vectors: UTF-16 key order (U+1F600 before U+FF61), escapes, -0, omitted undefined.
    const second = file.links[1]!.canonical;
    expect(second.indexOf('"\u{1F600}"')).toBeLessThan(second.indexOf('"\uFF61"'));
    expect(second).toContain('"a":0,');
    expect(second).toContain('\\u0001');
    expect(second).not.toContain('nothing');
    expect(second).toContain('"nil":null');
  });

  it('canonicalJson and chainHash give the vectors', () => {
    expect(CHAIN_GENESIS).toBe(file.genesis);
    file.links.forEach(({ canonical, link }, i) => {
      const { hash: _hash, ...unhashed } = link;
      expect(canonicalJson({ ...events[i], chain: unhashed })).toBe(canonical);
      expect(chainHash(events[i]!, unhashed, key)).toBe(link.hash);
    });
  });

  it('createChainSink links the events exactly as the vectors (replacing a forged chain it is handed), leaving its input unmodified', async () => {
    const written: AuditEvent[] = [];
    const sink = createChainSink({ write: (e) => void written.push(e) }, { key, stream: file.stream });
    const before = JSON.stringify(file.events[2]);
    for (const e of events) await sink.write(e);
    expect(written.map((e) => (e as AuditEvent & { chain: unknown }).chain)).toEqual(file.links.map((l) => l.link));
    expect(JSON.stringify(events[2])).toBe(before);
    expect(sink.head()).toEqual({ stream: file.stream, seq: 3, hash: file.links[2]!.link.hash });
  });

  it('verifyChain accepts the vector chain after a JSON round trip, and names what was changed', () => {
    const stored = file.events.map((e, i) => JSON.parse(JSON.stringify({ ...(i === 1 ? events[1] : e), chain: file.links[i]!.link })) as unknown);
    const verdict = verifyChain(stored, { key });
    expect(verdict).toMatchObject({ ok: true, breaks: [] });
    expect(verdict.heads).toEqual([expect.objectContaining({ stream: file.stream, seq: 3, hash: file.links[2]!.link.hash })]);

    const edited = structuredClone(stored) as { outcome: string }[];
    edited[1]!.outcome = 'success';
    const broken = verifyChain(edited, { key });
    expect(broken.ok).toBe(false);
    expect(broken.breaks).toEqual([expect.objectContaining({ stream: file.stream, seq: 2, kind: 'modified' })]);
    // Another key does not verify the vectors at all.
    expect(verifyChain(stored, { key: Buffer.alloc(32, 1) }).ok).toBe(false);
  });
});
