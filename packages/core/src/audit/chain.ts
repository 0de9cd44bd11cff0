/**
 * Tamper evidence for audit trails (45 CFR 164.312(c)(1) integrity, 164.312(b) audit controls):
 * each event is linked to the previous one of its stream by a keyed hash, so editing, deleting,
 * reordering or inserting events is detectable by anyone holding the key.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { OptionsError } from '../errors.js';
import { option, optionIssue, optionsSchema, type OptionRule, type OptionsSchema } from '../options.js';
import { canonicalJson } from './canonical.js';
import type { AuditEvent, AuditSink, ChainLink } from './event.js';

/** `prev` of the first event of every stream: 64 zeros. */
export const CHAIN_GENESIS = '0'.repeat(64);

/** Minimum chain key length in bytes (HMAC-SHA256 gains nothing beyond 64, loses below 32). */
export const CHAIN_KEY_MIN_BYTES = 32;

const STREAM_ID = /^[A-Za-z0-9._:@/-]{1,128}$/;
const HASH = /^[0-9a-f]{64}$/;

/** An event that carries its chain link. */
export type ChainedAuditEvent = AuditEvent & { readonly chain: ChainLink };

/** Where a stream's chain stands: its last sequence number and hash (seq 0 before any event). */
export interface ChainHead {
  readonly stream: string;
  readonly seq: number;
  readonly hash: string;
}

/** Options of {@link chainSink}. */
export interface ChainSinkOptions {
  /**
   * The chain key, at least 32 random bytes. Separate from the policy secret and from field
   * encryption keys: whoever holds it can verify the trail, and could also forge one.
   */
  readonly key: Uint8Array;
  /**
   * This writer's stream id (1–128 chars of `A–Z a–z 0–9 . _ : @ / -`). Each app instance must
   * write its own stream; the default is a random id per process (`s-<uuid>`).
   */
  readonly stream?: string;
  /**
   * Continue an existing stream after a restart: its last `seq` and `hash` (for example from
   * `createPostgresAuditSink(...).head(stream)`). Without it a stream starts at seq 1, so a fixed
   * `stream` id must not be reused across restarts unless resumed.
   */
  readonly resume?: { readonly seq: number; readonly hash: string };
}

/** A sink that chains events before passing them on; see {@link chainSink}. */
export interface ChainedAuditSink extends AuditSink {
  readonly stream: string;
  /** The stream's current head, to checkpoint elsewhere (it anchors truncation detection). */
  head(): ChainHead;
  /** Delivers what the inner sink buffers, when it buffers. */
  flush(): Promise<void>;
  /** Flushes and closes the inner sink, when it can be closed. */
  close(): Promise<void>;
}

const KEY_EXPECTED = `at least ${CHAIN_KEY_MIN_BYTES} random bytes (Uint8Array), kept apart from the policy secret; generate one with crypto.randomBytes(32)`;

/** @internal The rule of a chain key option. */
export const chainKeyRule = (): OptionRule<Uint8Array> => option.custom(KEY_EXPECTED, ['bytes'], (v) => (v as Uint8Array).length >= CHAIN_KEY_MIN_BYTES);
/** @internal The rule of a stream id option. */
export const streamIdRule = (): OptionRule<string> => option.string('1-128 characters of A-Z a-z 0-9 . _ : @ / -', (v) => STREAM_ID.test(v));

/** @internal The `resume` option of a chaining sink, labelled as the sink's options. */
export function resumeSchema(label: string): OptionsSchema<{ readonly seq: number; readonly hash: string }> {
  return optionsSchema(label, {
    seq: option.required(option.atLeast(0, "the stream's last seq (an integer ≥ 0)")),
    hash: option.required(option.string("the stream's last hash (64 lowercase hex digits)", (v) => HASH.test(v))),
  });
}

/** @internal The options every chaining sink shares (createChainSink, createBufferedSink `chain`), labelled `label`. */
export function chainShape(label: string) {
  return {
    key: option.required(chainKeyRule()),
    stream: streamIdRule(),
    resume: option.nested(resumeSchema(label), "{ seq, hash } from the stream's last event"),
  };
}

/** @internal The start of a chain from parsed options: a copy of the key, the stream id, the resume point. */
export function chainStart(options: ChainSinkOptions): { key: Buffer; stream: string; seq: number; prev: string } {
  const seq = options.resume?.seq ?? 0;
  return { key: Buffer.from(options.key), stream: options.stream ?? `s-${randomUUID()}`, seq, prev: seq === 0 ? CHAIN_GENESIS : options.resume!.hash };
}

/** @internal Precondition of a sink wrapping another: `inner` is an audit sink (its argument `name`). */
export function needSink(label: string, name: string, inner: unknown, expected = 'an audit sink (an object with write(event))'): void {
  if (inner === null || typeof inner !== 'object' || typeof (inner as AuditSink).write !== 'function') {
    throw optionIssue(label, name, expected, inner, inner === undefined ? 'missing' : 'type');
  }
}

const CHAIN_OPTIONS = optionsSchema<ChainSinkOptions>('createChainSink', chainShape('createChainSink'));

/** The MAC of an event: HMAC-SHA256(key, canonical JSON of the event with `chain.hash` omitted). */
export function chainHash(event: AuditEvent, link: Omit<ChainLink, 'hash'>, key: Uint8Array): string {
  const body = { ...event, chain: { stream: link.stream, seq: link.seq, prev: link.prev } };
  return createHmac('sha256', key).update(canonicalJson(body), 'utf8').digest('hex');
}

/**
 * Wraps `inner` so every event gets `chain: { stream, seq, prev, hash }` before it is written.
 * Sequence numbers are assigned synchronously in `write` order; the inner sink must keep that
 * order (the sinks of this module do). The event passed in is not modified.
 *
 * When the inner sink throws synchronously (a full buffer) the link is taken back, so the
 * stream keeps no gap. A rejected promise (a store down in `sync` mode) leaves the link used:
 * the verifier then reports a `deleted` event at that seq, which is what happened.
 */
export function chainSink(inner: AuditSink, options: ChainSinkOptions): ChainedAuditSink {
  needSink('createChainSink', 'inner', inner);
  const start = chainStart(CHAIN_OPTIONS.parse(options));
  const { key, stream } = start;
  let { seq, prev } = start;
  const maybe = inner as Partial<{ flush(): Promise<void>; close(): Promise<void> }>;
  return {
    stream,
    head: () => ({ stream, seq, hash: prev }),
    write(event: AuditEvent) {
      const link = { stream, seq: seq + 1, prev };
      const hash = chainHash(event, link, key);
      const chained: ChainedAuditEvent = { ...event, chain: { ...link, hash } };
      const before = { seq, prev };
      seq = link.seq;
      prev = hash;
      try {
        return inner.write(chained);
      } catch (err) {
        // Not written: give the link back, unless a nested write already chained after it.
        if (seq === link.seq) ({ seq, prev } = before);
        throw err;
      }
    },
    flush: async () => {
      if (typeof maybe.flush === 'function') await maybe.flush();
    },
    close: async () => {
      if (typeof maybe.close === 'function') await maybe.close();
      else if (typeof maybe.flush === 'function') await maybe.flush();
    },
  };
}

/** How a chain is broken. */
export type ChainBreakKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'forged';

/**
 * The first break found in one stream.
 * - `modified`: an event in its right place whose content no longer matches its MAC.
 * - `deleted`: events missing from `seq` on (a gap, a truncated head, or a tail shorter than an anchor).
 * - `reordered`: the event for `seq` is present but later in the input.
 * - `inserted`: an event with a valid MAC that does not belong at this place (a replayed or
 *   duplicated-with-changes event, or two writers sharing one stream id), or with no chain at all.
 * - `forged`: an event whose MAC does not verify and that takes no genuine event's place.
 */
export interface ChainBreak {
  /** The stream (`''` for input that carries no chain or is not an event). */
  readonly stream: string;
  readonly kind: ChainBreakKind;
  /** The chain position where the stream stops verifying: the seq expected there (null when unknown). */
  readonly seq: number | null;
  /** Index in the input (0-based; line number − 1 for an NDJSON file) of the offending event; null when nothing is there. */
  readonly position: number | null;
  /** Id of the offending event, when it has one. */
  readonly id?: string;
  readonly detail: string;
}

/** The result of {@link verifyChain}. */
export interface ChainVerdict {
  /** True when every stream verifies and no anchor is contradicted. */
  readonly ok: boolean;
  /** Number of distinct streams seen. */
  readonly streams: number;
  /** Number of input items. */
  readonly events: number;
  /** Exact repeats of an already verified event (at-least-once delivery); ignored. */
  readonly duplicates: number;
  /** The verified head of each stream (up to its first break), sorted by stream: checkpoint these. */
  readonly heads: readonly (ChainHead & { readonly events: number })[];
  /** The first break of each broken stream, in stream order. */
  readonly breaks: readonly ChainBreak[];
}

/** Options of {@link verifyChain} and {@link createChainVerifier}. */
export interface VerifyChainOptions {
  /** The chain key, or several (key rotation: an event verifies under any of them). */
  readonly key: Uint8Array | readonly Uint8Array[];
  /**
   * Heads checkpointed earlier (for example a previous verdict's `heads`). A stream that now
   * ends before its anchor, or is missing, was truncated; one whose event at the anchor's seq
   * has another hash was rewritten.
   */
  readonly heads?: readonly { readonly stream: string; readonly seq: number; readonly hash?: string }[];
  /**
   * Retention checkpoints (for example `createPostgresAuditSink(...).checkpoints()`): a stream may
   * start right after its latest checkpoint, whose `hash` the first remaining event's `prev`
   * must equal. A checkpoint whose MAC does not verify under the key is reported as `forged`.
   */
  readonly checkpoints?: readonly ChainCheckpoint[];
}

/**
 * Where a retention purge cut a stream: every event up to `seq` was removed, `hash` is the MAC
 * of the last removed one, `cutoff` the retention cut-off they were all older than.
 */
export interface ChainCheckpoint {
  readonly stream: string;
  readonly seq: number;
  readonly hash: string;
  /** ISO-8601. */
  readonly cutoff: string;
  /** {@link checkpointMac} under the chain key: only a holder of the key can make one. */
  readonly mac: string;
}

/** HMAC-SHA256(key, canonical JSON of the checkpoint's stream, seq, hash and cut-off). */
export function checkpointMac(checkpoint: Omit<ChainCheckpoint, 'mac'>, key: Uint8Array): string {
  const body = { type: 'phiguard.audit.checkpoint', stream: checkpoint.stream, seq: checkpoint.seq, hash: checkpoint.hash, cutoff: checkpoint.cutoff };
  return createHmac('sha256', key).update(canonicalJson(body), 'utf8').digest('hex');
}

interface Rec {
  readonly position: number;
  readonly id: string | undefined;
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  readonly macOk: boolean;
}

/** A streaming verifier: `add` events in the order they were stored, then `verdict()`. */
export interface ChainVerifier {
  add(item: unknown): void;
  verdict(): ChainVerdict;
}

const VERIFY_OPTIONS = optionsSchema<VerifyChainOptions>('verifyChain', {
  key: option.required(
    option.custom<Uint8Array | readonly Uint8Array[]>(
      `a chain key (${KEY_EXPECTED}), or a non-empty array of them`,
      ['bytes', 'array'],
      (v) => (Array.isArray(v) ? v.length > 0 && v.every((k) => k instanceof Uint8Array && k.length >= CHAIN_KEY_MIN_BYTES) : (v as Uint8Array).length >= CHAIN_KEY_MIN_BYTES),
    ),
  ),
  heads: option.array('an array of { stream, seq, hash? } (a verdict\'s `heads`)'),
  checkpoints: option.array('an array of checkpoints (createPostgresAuditSink(...).checkpoints())'),
});

/**
 * Creates a verifier that keeps only a few bytes per event (seq, prev, hash, MAC result), so
 * long trails can be streamed through it.
 */
export function createChainVerifier(options: VerifyChainOptions): ChainVerifier {
  VERIFY_OPTIONS.parse(options ?? null);
  const keys = (Array.isArray(options.key) ? options.key : [options.key]).map((k: Uint8Array) => Buffer.from(k));
  const streams = new Map<string, Rec[]>();
  const unchained: ChainBreak[] = [];
  let count = 0;

  const macOk = (event: AuditEvent, link: ChainLink): boolean => {
    const claimed = Buffer.from(link.hash, 'hex');
    return keys.some((k) => timingSafeEqual(Buffer.from(chainHash(event, link, k), 'hex'), claimed));
  };

  return {
    add(item: unknown) {
      const position = count++;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        if (unchained.length === 0) unchained.push({ stream: '', kind: 'modified', seq: null, position, detail: 'not an audit event (unreadable or not a JSON object)' });
        return;
      }
      const event = item as AuditEvent;
      const link = event.chain as Partial<ChainLink> | undefined;
      const id = typeof event.id === 'string' ? event.id : undefined;
      if (
        link === null ||
        typeof link !== 'object' ||
        typeof link.stream !== 'string' ||
        !Number.isSafeInteger(link.seq) ||
        typeof link.prev !== 'string' ||
        typeof link.hash !== 'string' ||
        !HASH.test(link.hash)
      ) {
        if (unchained.length === 0) {
          unchained.push({ stream: '', kind: 'inserted', seq: null, position, ...(id === undefined ? {} : { id }), detail: 'event without a valid chain link' });
        }
        return;
      }
      let list = streams.get(link.stream);
      if (list === undefined) streams.set(link.stream, (list = []));
      let ok = false;
      try {
        ok = macOk(event, link as ChainLink);
      } catch {
        ok = false; // not canonicalizable: cannot be what was hashed
      }
      list.push({ position, id, seq: link.seq!, prev: link.prev, hash: link.hash, macOk: ok });
    },
    verdict(): ChainVerdict {
      const anchors = new Map<string, { seq: number; hash?: string }>();
      for (const a of options.heads ?? []) anchors.set(a.stream, a);
      const breaks: ChainBreak[] = [...unchained];
      const heads: (ChainHead & { events: number })[] = [];
      // Per stream: the latest checkpoint that verifies, or the first one that does not.
      const starts = new Map<string, ChainCheckpoint>();
      const forgedCp = new Map<string, ChainCheckpoint>();
      for (const c of options.checkpoints ?? []) {
        const ok = c !== null && typeof c === 'object' && typeof c.stream === 'string' && Number.isSafeInteger(c.seq) && c.seq > 0 &&
          typeof c.hash === 'string' && HASH.test(c.hash) && typeof c.mac === 'string' && HASH.test(c.mac) && typeof c.cutoff === 'string' &&
          keys.some((k) => timingSafeEqual(Buffer.from(checkpointMac(c, k), 'hex'), Buffer.from(c.mac, 'hex')));
        if (!ok) {
          const name = typeof c?.stream === 'string' ? c.stream : '';
          if (!forgedCp.has(name)) forgedCp.set(name, c);
          continue;
        }
        const had = starts.get(c.stream);
        if (had === undefined || c.seq > had.seq) starts.set(c.stream, c);
      }
      let duplicates = 0;
      const names = [...new Set([...streams.keys(), ...anchors.keys(), ...starts.keys(), ...forgedCp.keys()])].sort();
      for (const stream of names) {
        const recs = streams.get(stream) ?? [];
        const bad = forgedCp.get(stream);
        if (bad !== undefined) {
          breaks.push({ stream, kind: 'forged', seq: Number.isSafeInteger(bad?.seq) ? bad.seq : null, position: null, detail: 'a retention checkpoint does not verify under the key: events may have been removed outside the purge' });
          continue;
        }
        const r = walk(stream, recs, anchors.get(stream), starts.get(stream));
        duplicates += r.duplicates;
        if (recs.length > 0 || starts.has(stream)) heads.push({ stream, seq: r.seq, hash: r.hash, events: recs.length });
        if (r.break) breaks.push(r.break);
      }
      return { ok: breaks.length === 0, streams: streams.size, events: count, duplicates, heads, breaks };
    },
  };
}

function walk(
  stream: string,
  recs: readonly Rec[],
  anchor: { seq: number; hash?: string } | undefined,
  start?: ChainCheckpoint,
): { seq: number; hash: string; duplicates: number; break?: ChainBreak } {
  let seq = 0;
  let prev = CHAIN_GENESIS;
  // A purged stream resumes after its checkpoint; one still holding events up to it is walked
  // from genesis, the checkpoint then acting as an anchor its event must match.
  const purged = start !== undefined && (recs.length === 0 || recs[0]!.seq > start.seq);
  if (purged) {
    seq = start.seq;
    prev = start.hash;
  } else if (start !== undefined && (anchor === undefined || anchor.seq < start.seq)) {
    anchor = { seq: start.seq, hash: start.hash };
  }
  let duplicates = 0;
  const accepted = new Set<string>();
  const hashAt: string[] = [];
  const stop = (kind: ChainBreakKind, at: Rec | undefined, expected: number | null, detail: string) => ({
    seq,
    hash: prev,
    duplicates,
    break: {
      stream,
      kind,
      seq: expected,
      position: at?.position ?? null,
      ...(at?.id === undefined ? {} : { id: at.id }),
      detail,
    },
  });
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    if (r.macOk && accepted.has(r.hash)) {
      duplicates++;
      continue;
    }
    const expected = seq + 1;
    const fits = r.seq === expected && r.prev === prev;
    if (!r.macOk) {
      const next = recs[i + 1];
      // A genuine slot (its successor follows it) with content that no longer matches: edited.
      // Otherwise (its successor claims the same seq, or it does not link) it was made up.
      const beyondAnchor = anchor !== undefined && next === undefined && r.seq > anchor.seq;
      if (fits && !beyondAnchor && (next === undefined || next.seq !== r.seq)) {
        return stop('modified', r, expected, `event ${expected} does not match its MAC: its content was changed`);
      }
      return stop('forged', r, expected, `an event claiming seq ${r.seq} does not verify under the key and takes no genuine event's place`);
    }
    if (fits) {
      seq = r.seq;
      prev = r.hash;
      accepted.add(r.hash);
      hashAt[seq] = r.hash;
      continue;
    }
    if (r.seq > expected) {
      const later = recs.slice(i + 1).some((x) => x.macOk && x.seq === expected && x.prev === prev);
      return later
        ? stop('reordered', r, expected, `event ${expected} comes after event ${r.seq}`)
        : stop('deleted', r, expected, expected === r.seq - 1 ? `event ${expected} is missing` : `events ${expected}-${r.seq - 1} are missing`);
    }
    return stop('inserted', r, expected, `a genuine event with seq ${r.seq} does not link here (replayed, or two writers share this stream id)`);
  }
  if (anchor !== undefined && purged && anchor.seq <= start!.seq) {
    // The anchor lies in the purged prefix: only the checkpoint's own position can be compared.
    if (anchor.seq === start!.seq && anchor.hash !== undefined && anchor.hash !== start!.hash) {
      return stop('modified', undefined, anchor.seq, `the retention checkpoint at ${anchor.seq} differs from the checkpointed head: the stream was rewritten`);
    }
  } else if (anchor !== undefined) {
    if (anchor.seq > seq) {
      return stop('deleted', undefined, seq + 1, `the stream ends at ${seq} but was checkpointed at ${anchor.seq}: events ${seq + 1}-${anchor.seq} are missing`);
    }
    if (anchor.hash !== undefined && anchor.seq > 0 && hashAt[anchor.seq] !== anchor.hash) {
      const at = recs.find((x) => x.seq === anchor.seq && x.hash === hashAt[anchor.seq]);
      return stop('modified', at, anchor.seq, `event ${anchor.seq} differs from the checkpointed head: the stream was rewritten`);
    }
  }
  return { seq, hash: prev, duplicates };
}

/**
 * Verifies audit events that carry chain links. `events` may interleave streams; within a
 * stream they must be in stored order. Reports the first break of each stream.
 */
export function verifyChain(events: Iterable<unknown>, options: VerifyChainOptions): ChainVerdict {
  const verifier = createChainVerifier(options);
  for (const e of events) verifier.add(e);
  return verifier.verdict();
}

/** Parses a chain key given as hex (64+ digits) or base64/base64url (`--key`, `PHIGUARD_AUDIT_KEY`). */
export function parseChainKey(text: string): Uint8Array {
  const t = text.trim();
  let key: Buffer;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(t) && t.length >= CHAIN_KEY_MIN_BYTES * 2) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  else throw new OptionsError('the audit chain key must be hex or base64');
  if (key.length < CHAIN_KEY_MIN_BYTES) throw new OptionsError(`the audit chain key must be at least ${CHAIN_KEY_MIN_BYTES} bytes`);
  return new Uint8Array(key);
}
