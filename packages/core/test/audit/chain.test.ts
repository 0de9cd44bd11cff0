import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSplit } from '../../src/audit/canonical.js';
import {
  CHAIN_GENESIS,
  chainSink,
  createChainVerifier,
  parseChainKey,
  verifyChain,
  type ChainedAuditEvent,
} from '../../src/audit/chain.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { KEY, memorySink, sampleEvent, stored } from './fixtures.js';

function chained(n: number, stream = 'app-1', key = KEY): ChainedAuditEvent[] {
  const mem = memorySink();
  const sink = chainSink(mem, { key, stream });
  for (let i = 0; i < n; i++) sink.write(sampleEvent(i));
  return stored(mem.events) as ChainedAuditEvent[];
}

describe('canonical JSON', () => {
  it('sorts keys, has no whitespace, omits undefined members and keeps null', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: null, y: 'é"\n' } })).toBe(
      '{"a":[true,null,"x"],"b":1,"d":{"y":"é\\"\\n","z":null}}',
    );
  });
  it('sorts by UTF-16 code units and treats prototype-named keys as ordinary keys', () => {
    const o = JSON.parse('{"__proto__":1,"constructor":2,"Z":3,"a":4,"é":5}') as unknown;
    expect(canonicalJson(o)).toBe('{"Z":3,"__proto__":1,"a":4,"constructor":2,"é":5}');
  });
  it('is the same before and after a JSON round trip, whatever the key order', () => {
    const e = sampleEvent(3);
    const reordered = Object.fromEntries(Object.entries(stored(e)).reverse());
    expect(canonicalJson(reordered)).toBe(canonicalJson(e));
  });
  // The reference is RFC 8785's rule read literally: members sorted by UTF-16 code units,
  // compared one unit at a time, written without whitespace, undefined members left out.
  const reference = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : reference(x))).join(',')}]`;
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    const units = (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
    const before = (a: string, b: string) => {
      const [x, y] = [units(a), units(b)];
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    const members = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${members.sort(([a], [b]) => before(a, b)).map(([k, x]) => `${JSON.stringify(k)}:${reference(x)}`).join(',')}}`;
  };
  it('matches RFC 8785 ordering on random objects, including the same keys met in other orders and many shapes (property)', () => {
    const key = fc.oneof(fc.constantFrom('a', 'b', 'A', 'é', '__proto__', 'chain', 'z1', 'z10', 'z2', '\u{1F600}', '\uffff'), fc.string({ maxLength: 4 }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 6 }), fc.constant(undefined), fc.array(tie('node'), { maxLength: 3 }), tie('object')),
      object: fc.dictionary(key, tie('node'), { maxKeys: 6 }),
    })).object as fc.Arbitrary<Record<string, unknown>>;
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 40 }), (objects) => {
        for (const o of objects) {
          // The same members, inserted in reverse: one canonical text.
          const reversed = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(o).reverse()))) as Record<string, unknown>;
          expect(canonicalJson(o)).toBe(reference(o));
          expect(canonicalJson(reversed)).toBe(canonicalJson(JSON.parse(JSON.stringify(o))));
          const { head, tail } = canonicalSplit(o, 'chain');
          expect(`${head}"chain":1${tail}`).toBe(reference({ ...o, chain: 1 }));
        }
      }),
      { numRuns: 300 },
    );
  });
  it('writes event-shaped objects (the members an engine event has, with strays, accessors and escapes) as RFC 8785 orders them (property)', () => {
    // Strings that need escapes and strings that do not: quotes, controls, lone and paired surrogates.
    const text = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('a"b', 'c\\d', '\n', '\u2028', '\ud800', '\u{1F600}', 'é', ''));
    const scalar = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const shaped = (keys: readonly string[]) =>
      fc
        .tuple(fc.subarray([...keys]), fc.array(fc.oneof(text, scalar), { maxLength: 4 }), fc.option(fc.constantFrom('stray', 'z', 'A'), { nil: undefined }), fc.boolean())
        .map(([present, values, stray, accessor]) => {
          const o: Record<string, unknown> = {};
          present.forEach((k, i) => (o[k] = values[i % Math.max(values.length, 1)]));
          if (stray !== undefined) o[stray] = 1;
          if (accessor && present.length > 0) Object.defineProperty(o, present[0]!, { enumerable: true, get: () => 'got' });
          return o;
        });
    const actor = shaped(['id', 'roles', 'ip', 'userAgent']);
    const request = shaped(['method', 'route', 'requestId', 'traceId']);
    const event = fc
      .record(
        {
          id: text,
          time: text,
          action: text,
          outcome: text,
          reason: scalar,
          actor: fc.oneof(actor, fc.constant(null), fc.array(text, { maxLength: 2 })),
          purposeOfUse: scalar,
          patient: fc.oneof(shaped(['ref']), text),
          patients: fc.array(text, { maxLength: 3 }).map((a) => Object.freeze(a)),
          resource: shaped(['type', 'id']),
          disclosed: fc.array(text, { maxLength: 4 }).map((a) => Object.freeze(a)),
          transforms: fc.dictionary(text, text, { maxKeys: 3 }).map((d) => Object.freeze(d)),
          request,
          query: fc.record({ params: fc.array(text, { maxLength: 2 }) }),
          chain: fc.record({ stream: text, seq: fc.nat(), prev: text, hash: text }),
          stray: scalar,
        },
        { requiredKeys: [] },
      )
      .chain((o) => fc.boolean().map((proto) => (proto ? Object.assign(Object.create(null) as object, o) : o)));
    fc.assert(
      fc.property(event, (o) => {
        const plain = o as Record<string, unknown>;
        expect(canonicalJson(plain)).toBe(reference(plain));
        const { head, tail } = canonicalSplit(plain, 'chain');
        expect(`${head}"chain":1${tail}`).toBe(reference({ ...plain, chain: 1 }));
      }),
      { numRuns: 500 },
    );
  });
  it('writes only own members of an event, whatever a polluted Object.prototype holds, as JSON.stringify does', () => {
    const proto = Object.prototype as Record<string, unknown>;
    const event = { id: 'e1', time: 't', action: 'read', outcome: 'success', actor: { id: 'u', roles: ['r'] }, resource: { type: 'Lab' } };
    const clean = canonicalJson(event);
    const same = () => {
      // Twice: the second reading finds the key lists already read.
      for (let i = 0; i < 2; i++) {
        expect(canonicalJson(event)).toBe(clean);
        expect(canonicalJson(event)).toBe(reference(event));
        const { head, tail } = canonicalSplit(event, 'chain');
        expect(`${head}"chain":1${tail}`).toBe(reference({ ...event, chain: 1 }));
      }
    };
    try {
      // Members an event may have, inherited and not enumerable: no for…in sees them.
      Object.defineProperty(Object.prototype, 'dlp', { value: { action: 'block' }, enumerable: false, configurable: true, writable: true });
      Object.defineProperty(Object.prototype, 'ip', { value: '203.0.113.9', enumerable: false, configurable: true, writable: true });
      same();
      proto.reason = 'polluted';
      same();
    } finally {
      delete proto.reason;
      delete proto.dlp;
      delete proto.ip;
    }
  });
  it('refuses values JSON cannot carry faithfully', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
  });
});

describe('chainSink', () => {
  it('links events: seq from 1, prev = previous hash (genesis first), hash = HMAC of the canonical event without chain.hash', () => {
    const events = chained(3);
    expect(events.map((e) => e.chain.seq)).toEqual([1, 2, 3]);
    expect(events[0]!.chain.prev).toBe(CHAIN_GENESIS);
    expect(events[1]!.chain.prev).toBe(events[0]!.chain.hash);
    expect(events[2]!.chain.prev).toBe(events[1]!.chain.hash);
    const e = events[1]!;
    const { hash, ...link } = e.chain;
    const expected = createHmac('sha256', KEY).update(canonicalJson({ ...e, chain: link })).digest('hex');
    expect(hash).toBe(expected);
  });

  it('does not modify the event it is given and carries no more than hashes', () => {
    const mem = memorySink();
    const sink = chainSink(mem, { key: KEY, stream: 's' });
    const e = sampleEvent(0);
    const before = stored(e);
    sink.write(e);
    expect(stored(e)).toEqual(before);
    expect('chain' in e).toBe(false);
    expect(Object.keys(mem.events[0]!.chain!).sort()).toEqual(['hash', 'prev', 'seq', 'stream']);
  });

  it('defaults to a random stream id per sink, so instances never share a stream', () => {
    const a = chainSink(memorySink(), { key: KEY });
    const b = chainSink(memorySink(), { key: KEY });
    expect(a.stream).toMatch(/^s-[0-9a-f-]{36}$/);
    expect(a.stream).not.toBe(b.stream);
  });

  it('takes the link back when the inner sink throws synchronously (a full buffer): no gap', () => {
    let fail = false;
    const mem = memorySink();
    const sink = chainSink(
      {
        write(e) {
          if (fail) throw new AuditUnavailableError();
          mem.write(e);
        },
      },
      { key: KEY, stream: 's' },
    );
    sink.write(sampleEvent(0));
    fail = true;
    expect(() => sink.write(sampleEvent(1))).toThrow(AuditUnavailableError);
    fail = false;
    sink.write(sampleEvent(2));
    expect(verifyChain(stored(mem.events), { key: KEY }).ok).toBe(true);
    expect(sink.head()).toEqual({ stream: 's', seq: 2, hash: mem.events[1]!.chain!.hash });
  });

  it('a rejected asynchronous write keeps its link: the verifier then reports that event as deleted', async () => {
    const mem = memorySink();
    let fail = false;
    const sink = chainSink(
      { write: async (e) => (fail ? Promise.reject(new Error('store down')) : void mem.write(e)) },
      { key: KEY, stream: 's' },
    );
    await sink.write(sampleEvent(0));
    fail = true;
    await expect(sink.write(sampleEvent(1))).rejects.toThrow('store down');
    fail = false;
    await sink.write(sampleEvent(2));
    expect(verifyChain(stored(mem.events), { key: KEY }).breaks).toEqual([expect.objectContaining({ kind: 'deleted', seq: 2, position: 1 })]);
  });

  it('resumes a stream after a restart from its head', () => {
    const first = chained(3, 'pod-a');
    const head = { seq: 3, hash: first[2]!.chain.hash };
    const mem = memorySink();
    const sink = chainSink(mem, { key: KEY, stream: 'pod-a', resume: head });
    sink.write(sampleEvent(9));
    const verdict = verifyChain([...first, ...stored(mem.events)], { key: KEY });
    expect(verdict).toMatchObject({ ok: true, streams: 1, events: 4 });
  });

  it('validates its options eagerly', () => {
    expect(() => chainSink(memorySink(), { key: new Uint8Array(16) })).toThrow(/at least 32/);
    expect(() => chainSink(memorySink(), { key: KEY, stream: 'has space' })).toThrow(OptionsError);
    expect(() => chainSink(memorySink(), { key: KEY, stram: 'x' } as never)).toThrow(/did you mean "stream"/);
    expect(() => chainSink({} as never, { key: KEY })).toThrow(/`inner` must be an audit sink/);
    expect(() => chainSink(memorySink(), { key: KEY, resume: { seq: 2, hash: 'zz' } })).toThrow(/resume/);
  });
});

describe('verifyChain', () => {
  it('passes intact chains of several interleaved streams', () => {
    const a = chained(20, 'a');
    const b = chained(15, 'b');
    const c = chained(1, 'c');
    const mixed: ChainedAuditEvent[] = [];
    for (let i = 0; i < 20; i++) {
      mixed.push(a[i]!);
      if (b[i]) mixed.push(b[i]!);
      if (i === 7) mixed.push(c[0]!);
    }
    const verdict = verifyChain(mixed, { key: KEY });
    expect(verdict.ok).toBe(true);
    expect(verdict.streams).toBe(3);
    expect(verdict.events).toBe(36);
    expect(verdict.breaks).toEqual([]);
    expect(verdict.heads).toEqual([
      { stream: 'a', seq: 20, hash: a[19]!.chain.hash, events: 20 },
      { stream: 'b', seq: 15, hash: b[14]!.chain.hash, events: 15 },
      { stream: 'c', seq: 1, hash: c[0]!.chain.hash, events: 1 },
    ]);
  });

  it('detects an edited event as modified, at its seq and position', () => {
    const events = chained(10);
    const tampered = events.map((e, i) => (i === 4 ? { ...e, purposeOfUse: 'HPAYMT' } : e));
    const verdict = verifyChain(tampered, { key: KEY });
    expect(verdict.ok).toBe(false);
    expect(verdict.breaks).toEqual([
      expect.objectContaining({ stream: 'app-1', kind: 'modified', seq: 5, position: 4, id: events[4]!.id }),
    ]);
  });

  it('detects an edit whose hash was recomputed without the key (plain SHA-256) as a break at that event', () => {
    const events = chained(6);
    const e = events[2]!;
    const fakeHash = createHmac('sha256', randomBytes(32)).update('x').digest('hex');
    const tampered = [...events];
    tampered[2] = { ...e, actor: { ...e.actor, id: 'someone-else' }, chain: { ...e.chain, hash: fakeHash } };
    const verdict = verifyChain(tampered, { key: KEY });
    expect(verdict.breaks[0]).toMatchObject({ kind: 'modified', seq: 3, position: 2 });
  });

  it('detects a deleted event, with the missing seq and where the gap shows', () => {
    const events = chained(10);
    const verdict = verifyChain([...events.slice(0, 6), ...events.slice(7)], { key: KEY });
    expect(verdict.breaks).toEqual([expect.objectContaining({ kind: 'deleted', seq: 7, position: 6, id: events[7]!.id })]);
  });

  it('detects two swapped events as reordered', () => {
    const events = chained(10);
    const swapped = [...events];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    const verdict = verifyChain(swapped, { key: KEY });
    expect(verdict.breaks).toEqual([expect.objectContaining({ kind: 'reordered', seq: 4, position: 3, id: events[4]!.id })]);
  });

  it('detects an inserted forged event (made without the key) as forged', () => {
    const events = chained(8);
    const after = events[4]!;
    const forged = {
      ...sampleEvent(99, { actor: { id: 'ghost', roles: ['admin'] } }),
      chain: { stream: 'app-1', seq: 6, prev: after.chain.hash, hash: createHmac('sha256', randomBytes(32)).update('f').digest('hex') },
    };
    const verdict = verifyChain([...events.slice(0, 5), forged, ...events.slice(5)], { key: KEY });
    expect(verdict.breaks).toEqual([expect.objectContaining({ kind: 'forged', seq: 6, position: 5, id: forged.id })]);
  });

  it('detects a genuine event replayed elsewhere in its stream as inserted', () => {
    const events = chained(8);
    const replay = { ...events[1]!, id: 'other-id' }; // any change breaks its MAC …
    const verdictForged = verifyChain([...events.slice(0, 5), replay, ...events.slice(5)], { key: KEY });
    expect(verdictForged.breaks[0]).toMatchObject({ kind: 'forged', position: 5 });
    const verdict = verifyChain([...events.slice(0, 5), events[1]!, ...events.slice(5)], { key: KEY });
    // … and an exact copy is a harmless duplicate (at-least-once delivery).
    expect(verdict).toMatchObject({ ok: true, duplicates: 1 });
  });

  it('detects two writers sharing one stream id as inserted', () => {
    const a = chained(3, 'shared');
    const b = chained(3, 'shared');
    const verdict = verifyChain([...a, b[0]!, ...b.slice(1)], { key: KEY });
    expect(verdict.breaks).toEqual([expect.objectContaining({ kind: 'inserted', seq: 4, position: 3 })]);
  });

  it('detects a truncated head (the oldest events removed) as deleted from seq 1', () => {
    const events = chained(10);
    const verdict = verifyChain(events.slice(3), { key: KEY });
    expect(verdict.breaks).toEqual([expect.objectContaining({ kind: 'deleted', seq: 1, position: 0, detail: 'events 1-3 are missing' })]);
  });

  it('detects a truncated tail against a checkpointed head, and a missing stream', () => {
    const events = chained(10);
    const other = chained(2, 'other');
    const checkpoint = verifyChain([...events, ...other], { key: KEY }).heads;
    const verdict = verifyChain(events.slice(0, 7), { key: KEY, heads: checkpoint });
    expect(verdict.breaks).toEqual([
      expect.objectContaining({ stream: 'app-1', kind: 'deleted', seq: 8, position: null }),
      expect.objectContaining({ stream: 'other', kind: 'deleted', seq: 1, position: null }),
    ]);
    expect(verifyChain([...events, ...other], { key: KEY, heads: checkpoint }).ok).toBe(true);
  });

  it('detects a forged event appended after a checkpoint as forged', () => {
    const events = chained(4);
    const checkpoint = verifyChain(events, { key: KEY }).heads;
    const appended = { ...sampleEvent(50), chain: { stream: 'app-1', seq: 5, prev: events[3]!.chain.hash, hash: 'ab'.repeat(32) } };
    const verdict = verifyChain([...events, appended], { key: KEY, heads: checkpoint });
    expect(verdict.breaks[0]).toMatchObject({ kind: 'forged', seq: 5, position: 4 });
  });

  it('reports only the first break per stream and keeps verifying the other streams', () => {
    const a = chained(6, 'a');
    const b = chained(6, 'b');
    const tampered = [...a.slice(0, 3), ...a.slice(3).map((e) => ({ ...e, outcome: 'error' as const })), ...b];
    const verdict = verifyChain(tampered, { key: KEY });
    expect(verdict.breaks).toHaveLength(1);
    expect(verdict.breaks[0]).toMatchObject({ stream: 'a', kind: 'modified', seq: 4, position: 3 });
    expect(verdict.heads.find((h) => h.stream === 'a')).toMatchObject({ seq: 3, hash: a[2]!.chain.hash });
    expect(verdict.heads.find((h) => h.stream === 'b')).toMatchObject({ seq: 6 });
  });

  it('fails events under another key, and accepts several keys for rotation', () => {
    const oldKey = new Uint8Array(randomBytes(32));
    const events = [...chained(3, 'old', oldKey), ...chained(3, 'new')];
    expect(verifyChain(events, { key: KEY }).breaks[0]).toMatchObject({ stream: 'old', kind: 'modified', seq: 1 });
    expect(verifyChain(events, { key: [KEY, oldKey] }).ok).toBe(true);
  });

  it('reports items that are not chained events', () => {
    const events = chained(3);
    const unchained = verifyChain([events[0], sampleEvent(1), ...events.slice(1)], { key: KEY });
    expect(unchained.breaks).toEqual([expect.objectContaining({ stream: '', kind: 'inserted', position: 1 })]);
    const garbage = verifyChain([...events, 'not json'], { key: KEY });
    expect(garbage.breaks).toEqual([expect.objectContaining({ stream: '', kind: 'modified', position: 3 })]);
  });

  it('streams: the verifier gives the same verdict fed one by one', () => {
    const events = chained(5);
    const v = createChainVerifier({ key: KEY });
    for (const e of events) v.add(e);
    expect(v.verdict()).toEqual(verifyChain(events, { key: KEY }));
  });

  it('validates its options', () => {
    expect(() => verifyChain([], { key: new Uint8Array(8) })).toThrow(/at least 32/);
    expect(() => verifyChain([], { key: KEY, head: [] } as never)).toThrow(/did you mean "heads"/);
    expect(verifyChain([], { key: KEY })).toMatchObject({ ok: true, streams: 0, events: 0 });
  });
});

describe('parseChainKey', () => {
  it('reads hex and base64 keys of at least 32 bytes', () => {
    const raw = Buffer.from(KEY);
    expect(Buffer.from(parseChainKey(raw.toString('hex')))).toEqual(raw);
    expect(Buffer.from(parseChainKey(raw.toString('base64')))).toEqual(raw);
    expect(Buffer.from(parseChainKey(raw.toString('base64url')))).toEqual(raw);
    expect(() => parseChainKey('abcd')).toThrow(/at least 32/);
    expect(() => parseChainKey('not a key!')).toThrow(/hex or base64/);
  });
});
