import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainSink, verifyChain } from '../../src/audit/chain.js';
import { ndjsonFileSink, readNdjsonAudit } from '../../src/audit/ndjson.js';
import { otelAuditSink } from '../../src/audit/otel.js';
import { teeSink } from '../../src/audit/tee.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { KEY, memorySink, sampleEvent } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'phiguard-audit-'));
const readLines = (path: string): unknown[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

describe('ndjsonFileSink', () => {
  it('appends one JSON line per event, in write order, durable when the write resolves', async () => {
    const path = join(dir, 'a.ndjson');
    const sink = ndjsonFileSink({ path });
    const events = Array.from({ length: 50 }, (_, i) => sampleEvent(i));
    await Promise.all(events.map((e) => sink.write(e)));
    expect(readLines(path)).toEqual(JSON.parse(JSON.stringify(events)));
    await sink.writeBatch([sampleEvent(50), sampleEvent(51)]);
    expect(readLines(path)).toHaveLength(52);
    await sink.close();
  });

  it('appends to an existing file and creates new files with mode 0600', async () => {
    const path = join(dir, 'b.ndjson');
    writeFileSync(path, JSON.stringify(sampleEvent(0)) + '\n', { mode: 0o600 });
    const sink = ndjsonFileSink({ path, sync: false });
    await sink.write(sampleEvent(1));
    await sink.close();
    expect(readLines(path)).toHaveLength(2);
    const fresh = join(dir, 'c.ndjson');
    await ndjsonFileSink({ path: fresh }).close();
    const { statSync } = await import('node:fs');
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
  });

  it('a chained file verifies after reading it back, and flags a tampered line by its line number', async () => {
    const path = join(dir, 'chained.ndjson');
    const file = ndjsonFileSink({ path });
    const sink = chainSink(file, { key: KEY, stream: 'file-1' });
    for (let i = 0; i < 10; i++) await sink.write(sampleEvent(i));
    await sink.close();
    const items: unknown[] = [];
    for await (const { value } of readNdjsonAudit(path)) items.push(value);
    expect(verifyChain(items, { key: KEY })).toMatchObject({ ok: true, events: 10 });
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[6] = lines[6]!.replace('"TREAT"', '"HOPERAT"');
    writeFileSync(path, lines.join('\n'));
    const tampered: { line: number; value: unknown }[] = [];
    for await (const item of readNdjsonAudit(path)) tampered.push(item);
    const verdict = verifyChain(tampered.map((t) => t.value), { key: KEY });
    const brk = verdict.breaks[0]!;
    expect(brk).toMatchObject({ kind: 'modified', seq: 7 });
    expect(tampered[brk.position!]!.line).toBe(7);
  });

  it('refuses writes after close and validates its options at creation', async () => {
    const sink = ndjsonFileSink({ path: join(dir, 'd.ndjson') });
    await sink.close();
    expect(() => sink.write(sampleEvent(0))).toThrow(AuditUnavailableError);
    expect(() => ndjsonFileSink({ path: join(dir, 'no', 'such', 'dir.ndjson') })).toThrow(/ENOENT/);
    expect(() => ndjsonFileSink({ path: join(dir, 'e'), fsync: true } as never)).toThrow(OptionsError);
  });
});

/** A context manager on AsyncLocalStorage, as the SDK's Node context manager does. */
class AlsContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.als.disable();
    return this;
  }
}

describe('otelAuditSink', () => {
  it('is a no-op without an SDK or active span, and needs the trace API', () => {
    const sink = otelAuditSink({ trace });
    expect(() => sink.write(sampleEvent(0))).not.toThrow();
    expect(sink.write(sampleEvent(0))).toBeUndefined();
    expect(() => otelAuditSink({} as never)).toThrow(/needs `trace`/);
    expect(() => otelAuditSink(undefined as never)).toThrow(OptionsError);
  });

  it('never throws, even when the tracing API does', () => {
    const sink = otelAuditSink({ trace: { getActiveSpan: () => { throw new Error('broken SDK'); } } });
    expect(() => sink.write(sampleEvent(0))).not.toThrow();
  });

  describe('with an SDK', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    beforeAll(() => {
      context.setGlobalContextManager(new AlsContextManager());
      trace.setGlobalTracerProvider(provider);
    });
    afterAll(() => {
      trace.disable();
      context.disable();
    });

    it('adds a phiguard.audit event with phiguard.* attributes, never values, to the active span', () => {
      const sink = otelAuditSink({ trace });
      const tracer = trace.getTracer('test');
      const event = {
        ...sampleEvent(1),
        dlp: { action: 'redact' as const, counts: { SSN: 2, PHONE: 1 } },
        chain: { stream: 's1', seq: 4, prev: '0'.repeat(64), hash: 'a'.repeat(64) },
      };
      tracer.startActiveSpan('GET /patients/:id/results', (span) => {
        sink.write(event);
        span.end();
      });
      const [span] = exporter.getFinishedSpans();
      expect(span!.events).toHaveLength(1);
      expect(span!.events[0]!.name).toBe('phiguard.audit');
      expect(span!.events[0]!.attributes).toEqual({
        'phiguard.event.id': event.id,
        'phiguard.action': 'create',
        'phiguard.outcome': 'success',
        'phiguard.resource.type': 'labResults',
        'phiguard.purpose_of_use': 'TREAT',
        'phiguard.patient.ref': event.patient!.ref,
        'phiguard.disclosed.count': 3,
        'phiguard.transforms.count': 1,
        'phiguard.dlp.action': 'redact',
        'phiguard.dlp.findings': 3,
        'phiguard.chain.stream': 's1',
        'phiguard.chain.seq': 4,
      });
      const text = JSON.stringify(span!.events[0]!.attributes);
      for (const absent of ['10.0.0.1', 'test/1.0', event.resource.id!, 'results[].value']) expect(text).not.toContain(absent);
    });

    it('records reason and attempted action of a denial, and nothing outside a span', () => {
      exporter.reset();
      const sink = otelAuditSink({ trace });
      sink.write(sampleEvent(2));
      trace.getTracer('test').startActiveSpan('req', (span) => {
        sink.write(sampleEvent(3, { action: 'deny', outcome: 'denied', attemptedAction: 'read', reason: 'purpose_not_permitted', disclosed: undefined, transforms: undefined }));
        span.end();
      });
      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(1);
      expect(spans[0]!.events[0]!.attributes).toMatchObject({
        'phiguard.action': 'deny',
        'phiguard.outcome': 'denied',
        'phiguard.attempted_action': 'read',
        'phiguard.reason': 'purpose_not_permitted',
      });
      expect(spans[0]!.events[0]!.attributes).not.toHaveProperty('phiguard.disclosed.count');
    });
  });
});

describe('teeSink', () => {
  it('writes to every sink and fails when one fails', async () => {
    const a = memorySink();
    const b = memorySink();
    await teeSink(a, b).write(sampleEvent(0));
    expect(a.events).toHaveLength(1);
    expect(b.events).toHaveLength(1);
    const failing = teeSink(a, { write: () => Promise.reject(new Error('down')) });
    await expect(failing.write(sampleEvent(1))).rejects.toThrow('down');
    await failing.writeBatch([sampleEvent(2)]).catch(() => undefined);
    expect(a.events).toHaveLength(3);
    expect(() => teeSink()).toThrow(OptionsError);
  });
});
