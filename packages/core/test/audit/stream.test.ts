import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferedSink } from '../../src/audit/buffered.js';
import { verifyChain } from '../../src/audit/chain.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { readNdjsonEvents } from '../../src/audit/ndjson.js';
import { eventJson, streamSink } from '../../src/audit/stream.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { KEY, sampleEvent, stored } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'phiguard-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function collect(path: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of readNdjsonEvents(path)) out.push(e);
  return out;
}

describe('eventJson', () => {
  it('reads back as JSON.stringify would, frozen (cached) members included, on random events', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const member = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const frozen = <T>(a: fc.Arbitrary<T>) => a.map((v) => Object.freeze(v));
    fc.assert(
      fc.property(
        fc.record({ id: text, time: text, action: fc.constantFrom('read', 'export'), outcome: fc.constant('success') }),
        fc.dictionary(text, fc.oneof(member, fc.dictionary(text, member), fc.array(member), frozen(fc.array(text)), frozen(fc.dictionary(text, text)))),
        (head, rest) => {
          const event = { ...rest, ...head } as unknown as AuditEvent;
          // Twice: the second reading comes from the cache of frozen members.
          for (let i = 0; i < 2; i++) expect(JSON.parse(eventJson(event))).toEqual(JSON.parse(JSON.stringify(event)));
        },
      ),
    );
  });
});

describe('streamSink', () => {
  for (const format of ['ndjson', 'pino'] as const) {
    it(`writes every event as one line to a pino destination (${format}), read back unchanged`, async () => {
      const path = join(work, `events-${format}.log`);
      const dest = pino.destination({ dest: path, sync: false, minLength: 4096 });
      const sink = streamSink(dest, { format });
      const events = Array.from({ length: 250 }, (_, i) => sampleEvent(i));
      for (const e of events) expect(sink.write(e)).toBeUndefined();
      await sink.close();
      const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(250);
      if (format === 'pino') for (const l of lines) expect(JSON.parse(l)).toMatchObject({ level: 30, msg: 'phiguard.audit' });
      expect(await collect(path)).toEqual(events.map(stored));
    });
  }

  it('shares a file with the application’s own pino lines, which readers pass over', async () => {
    const path = join(work, 'shared.log');
    const dest = pino.destination({ dest: path, sync: true });
    const app = pino(dest);
    const sink = streamSink(dest, { format: 'pino' });
    app.info({ route: '/health' }, 'ok');
    sink.write(sampleEvent(1));
    app.warn('slow');
    sink.write(sampleEvent(2));
    await sink.flush();
    expect((await collect(path)).map((e) => e.resource.id)).toEqual(['5001', '5002']);
  });

  it('chained in a buffered flush: the file verifies, and an edited line is found', async () => {
    const path = join(work, 'chained.ndjson');
    const dest = pino.destination({ dest: path, sync: false, minLength: 4096 });
    const sink = bufferedSink(streamSink(dest), { chain: { key: KEY, stream: 'api-1' }, flushIntervalMs: 1 });
    for (let i = 0; i < 120; i++) sink.write(sampleEvent(i));
    await sink.close();
    const events = await collect(path);
    expect(events).toHaveLength(120);
    expect(verifyChain(events, { key: KEY })).toMatchObject({ ok: true, events: 120 });
    const edited = events.map((e, i) => (i === 57 ? { ...e, purposeOfUse: 'HPAYMT' } : e));
    const verdict = verifyChain(edited, { key: KEY });
    expect(verdict.ok).toBe(false);
    expect(verdict.breaks[0]).toMatchObject({ kind: 'modified', seq: 58 });
  });

  it('fails closed once the destination is gone, so the release it covers is refused', async () => {
    const dest = new PassThrough();
    const sink = streamSink(dest);
    sink.write(sampleEvent(1));
    dest.destroy();
    expect(() => sink.write(sampleEvent(2))).toThrow(AuditUnavailableError);
    const throwing = streamSink({
      write() {
        throw new Error('EBADF');
      },
    });
    expect(() => throwing.write(sampleEvent(3))).toThrow(AuditUnavailableError);
    const closed = streamSink(new PassThrough());
    await closed.close();
    expect(() => closed.write(sampleEvent(4))).toThrow(AuditUnavailableError);
  });

  /** A destination that records each write it is handed, and says whether it writes asynchronously. */
  const recorder = (sync: boolean | undefined, fail = false, minLength?: number) => {
    const writes: string[] = [];
    return {
      writes,
      ...(sync === undefined ? {} : { sync }),
      ...(minLength === undefined ? {} : { minLength }),
      write(chunk: string) {
        if (fail) throw new Error('EIO');
        writes.push(chunk);
      },
    };
  };
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('hands an asynchronous destination the lines of one turn of the event loop in one write, in order', async () => {
    const dest = recorder(false);
    const sink = streamSink(dest);
    for (let i = 0; i < 5; i++) sink.write(sampleEvent(i));
    expect(dest.writes).toEqual([]);
    await turn();
    expect(dest.writes).toHaveLength(1);
    sink.write(sampleEvent(5));
    await sink.writeLines(`${eventJson(sampleEvent(6))}\n`);
    // flush hands over what this turn holds before it resolves.
    await sink.flush();
    expect(dest.writes).toHaveLength(2);
    const lines = dest.writes.join('').split('\n').filter((l) => l !== '');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).resource.id)).toEqual(['5000', '5001', '5002', '5003', '5004', '5005', '5006']);
  });

  it('gathers the lines of a turn for a synchronous destination that buffers up to a minimum length', async () => {
    const dest = recorder(true, false, 4096);
    const sink = streamSink(dest);
    sink.write(sampleEvent(1));
    sink.write(sampleEvent(2));
    expect(dest.writes).toEqual([]);
    await turn();
    expect(dest.writes).toHaveLength(1);
  });

  it('writes each line at once to a synchronous destination without a minimum length, or one that does not say', () => {
    for (const [sync, minLength] of [[true, undefined], [true, 0], [undefined, undefined]] as const) {
      const dest = recorder(sync, false, minLength);
      const sink = streamSink(dest);
      sink.write(sampleEvent(1));
      sink.write(sampleEvent(2));
      expect(dest.writes).toHaveLength(2);
    }
  });

  it('hands over, before the end, the lines accepted while close() was flushing', async () => {
    const dest = { ...recorder(false), ended: false, flush: (cb: () => void) => cb(), end() { this.ended = true; } };
    const writes: string[] = [];
    dest.write = (chunk: string) => {
      if (dest.ended) throw new Error('ended');
      writes.push(chunk);
    };
    const sink = streamSink(dest);
    sink.write(sampleEvent(1));
    const closing = sink.close();
    sink.write(sampleEvent(2));
    await closing;
    const ids = writes.join('').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as AuditEvent).resource.id);
    expect(ids).toEqual(['5001', '5002']);
    expect(dest.ended).toBe(true);
  });

  it('refuses every write after a hand-over to an asynchronous destination failed', async () => {
    const sink = streamSink(recorder(false, true));
    sink.write(sampleEvent(1));
    await turn();
    expect(() => sink.write(sampleEvent(2))).toThrow(AuditUnavailableError);
    await expect(sink.flush()).rejects.toThrow(AuditUnavailableError);
  });

  it('keeps every line through a real asynchronous pino destination under interleaved turns', async () => {
    const path = join(work, 'turns.ndjson');
    const sink = streamSink(pino.destination({ dest: path, sync: false, minLength: 4096 }));
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent(i));
    for (let i = 0; i < events.length; i++) {
      sink.write(events[i]!);
      if (i % 7 === 0) await turn();
    }
    await sink.close();
    expect(await collect(path)).toEqual(events.map(stored));
  });

  it('hands the lines of the last turn to SonicBoom before it flushes at process.exit (the built package, in a child process)', () => {
    // process.exit in the turn that wrote the lines: no end of turn comes, only the exit listeners.
    const built = fileURLToPath(new URL('../../dist/audit.js', import.meta.url));
    const pinoUrl = import.meta.resolve('pino');
    const path = join(work, 'exit.ndjson');
    const script = join(work, 'exit.mjs');
    writeFileSync(
      script,
      [
        `import { createStreamSink } from ${JSON.stringify(built)};`,
        `import { pino } from ${JSON.stringify(pinoUrl)};`,
        `const sink = createStreamSink(pino.destination({ dest: ${JSON.stringify(path)}, sync: false, minLength: 4096 }));`,
        `const event = (i) => ({ id: 'e' + i, time: '2026-01-01T00:00:00.000Z', action: 'read', outcome: 'success', actor: { id: 'u', roles: [] }, purposeOfUse: 'TREAT', resource: { type: 'Lab', id: String(i) } });`,
        // Written once the destination is open, then the process ends in the same turn.
        `setTimeout(() => { for (let i = 0; i < 3; i++) sink.write(event(i)); process.exit(0); }, 50);`,
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(0);
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).resource.id)).toEqual(['0', '1', '2']);
  });

  it('refuses what is not a destination, and unknown options with a suggestion', () => {
    expect(() => streamSink({} as never)).toThrow(OptionsError);
    expect(() => streamSink(new PassThrough(), { formt: 'pino' } as never)).toThrow(/did you mean "format"/);
    expect(() => streamSink(new PassThrough(), { format: 'xml' } as never)).toThrow(OptionsError);
  });
});
