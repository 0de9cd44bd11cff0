import { context as otelContext } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createScanner, definePolicy } from '@phiguard/core';
import {
  canaryDetectors,
  captureConsole,
  captureLog,
  capturedResponse,
  capturedSpans,
  createCanaries,
  expectNoPhi,
  findLeaks,
  phiMatchers,
  sweep,
  type Captured,
} from '@phiguard/core/testing';
import { phiguard } from '@phiguard/express';

expect.extend(phiMatchers);
declare module 'vitest' {
  interface Assertion {
    toContainNoPhi(options?: Parameters<typeof findLeaks>[1]): void;
  }
}

const luhnValid = (digits: string) =>
  [...digits].reverse().reduce((sum, ch, i) => {
    let d = Number(ch);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    return sum + d;
  }, 0) % 10 === 0;

describe('canaries', () => {
  it('are deterministic per seed, valid-looking and reserved for testing', () => {
    const [a] = createCanaries({ seed: 7 });
    expect(createCanaries({ seed: 7 })[0]).toEqual(a);
    expect(createCanaries({ seed: 8 })[0]!.ssn).not.toBe(a!.ssn);
    expect(a!.ssn).toMatch(/^9\d\d-\d\d-\d{4}$/);
    expect(a!.phone).toMatch(/^\(617\) 555-01\d\d$/);
    expect(a!.email).toMatch(/@example\.org$/);
    expect(a!.mrn).toMatch(/^CNRY\d{7}$/);
    expect(luhnValid(a!.card)).toBe(true);
    expect(a!.card.startsWith('400000')).toBe(true);
    expect(luhnValid(`80840${a!.npi}`)).toBe(true);
    expect(a!.resource.identifier.map((i) => i.value)).toEqual([a!.mrn, a!.ssn]);
    expect(a!.observation.note[0]!.text).toBe(a!.text);
  });

  it('are flagged by the scanner in test mode (9xx SSNs, canary MRNs) and by the default one otherwise', () => {
    const [c] = createCanaries({ seed: 3 });
    const types = (s: ReturnType<typeof createScanner>) => new Set(s.scan(c!.text).map((f) => f.type));
    expect(types(createScanner())).not.toContain('SSN');
    const test = types(createScanner({ detectors: [...canaryDetectors] }));
    for (const t of ['SSN', 'MRN', 'PHONE', 'EMAIL', 'DATE']) expect(test).toContain(t);
  });
});

describe('captures and assertions', () => {
  it('find a canary in any channel, masked, with channel, location and field', () => {
    const [c] = createCanaries();
    const captured: Captured[] = [
      { channel: 'log', location: 'line 1', text: `{"msg":"lookup","ssn":"${c!.ssn}"}` },
      { channel: 'http.header', location: 'header x-mrn', text: c!.mrn },
      { channel: 'http.body', location: 'body', text: JSON.stringify({ note: c!.text }) },
    ];
    const leaks = findLeaks(captured, { canaries: c!.canaries, allow: [{ channel: 'http.body', fields: ['*'] }] });
    expect(leaks).toEqual([
      { channel: 'log', location: 'line 1', field: 'ssn', masked: expect.stringMatching(/^\*+\d\d$/) },
      { channel: 'http.header', location: 'header x-mrn', field: 'mrn', masked: expect.stringMatching(/^\*+\d\d$/) },
    ]);
    expect(() => expectNoPhi(captured, { canaries: c!.canaries })).toThrow(/ssn in log at line 1/);
    expect(() => expectNoPhi(captured, { canaries: c!.canaries })).not.toThrow(new RegExp(c!.ssn));
    expect(captured).not.toContainNoPhi({ canaries: c!.canaries });
    expect([]).toContainNoPhi({ canaries: c!.canaries });
  });

  it('see through JSON escapes and run the scanner when asked', () => {
    const captured: Captured[] = [{ channel: 'log', location: 'line 1', text: '{"m":"mail jane\\u002edoe@example.org"}' }];
    expect(findLeaks(captured, { canaries: [{ field: 'email', value: 'jane.doe@example.org' }] })).toHaveLength(1);
    expect(findLeaks([{ channel: 'stderr', location: 'stderr', text: 'SSN 123-45-6789' }], { scan: ['SSN'] })[0]).toMatchObject({ field: 'scanner:SSN' });
  });

  it('capture console and stderr until restored', () => {
    const cap = captureConsole({ quiet: true });
    try {
      console.error('patient', { ssn: '900-11-2222' });
      process.stderr.write('raw 900-11-2222\n');
    } finally {
      cap.restore();
    }
    expect(findLeaks(cap.captured(), { canaries: [{ field: 'ssn', value: '900-11-2222' }] }).map((l) => l.channel)).toEqual(['console', 'stderr']);
  });

  it('read OpenTelemetry spans: names, attributes and events', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('kit');
    const span = tracer.startSpan('GET /patients/:id', {}, otelContext.active());
    span.setAttribute('patient.mrn', 'CNRY1234567');
    span.addEvent('lookup', { 'phiguard.reason': 'ok' });
    span.end();
    const leaks = findLeaks(capturedSpans(exporter.getFinishedSpans()), { canaries: [{ field: 'mrn', value: 'CNRY1234567' }] });
    expect(leaks).toEqual([{ channel: 'span', location: 'span "GET /patients/:id" attribute patient.mrn', field: 'mrn', masked: '*********67' }]);
  });
});

describe('planted leaks in a phiguard-protected Express app', () => {
  const [patient] = createCanaries({ seed: 11 });
  const policy = definePolicy({
    roles: ['doctor', 'billing'],
    resources: {
      Patient: {
        routes: ['GET /patients/:id'],
        fields: { id: 'non-phi', 'resource.name': 'direct-identifier', 'resource.identifier': 'direct-identifier', 'resource.birthDate': 'quasi-identifier' },
        disclose: { doctor: { TREAT: { '*': 'send' } }, billing: { HPAYMT: { id: 'send' } } },
      },
    },
  });

  function app(leaky: boolean) {
    const log = captureLog();
    const console_ = captureConsole({ quiet: true });
    const logger = pino({ base: undefined }, log.stream);
    const a = express();
    a.use(
      phiguard({
        policy,
        secret: 'kit-test-secret-0123456789abcdef-xyz',
        audit: logger,
        mode: 'production',
        context: (req) => ({ principal: { id: 'u' }, roles: [String(req.headers['x-role'])], purposeOfUse: String(req.headers['x-purpose']) }),
      }),
    );
    a.get('/patients/:id', (req, res, next) => {
      if (leaky) logger.info({ patient: patient!.resource }, 'loaded patient'); // planted: logs the patient object
      if (leaky) res.setHeader('X-Patient-Ref', patient!.mrn); // planted: a custom header with the MRN
      if (req.query.fail) return next(new Error(`no chart for SSN ${patient!.ssn}`));
      res.json({ id: patient!.id, resource: patient!.resource });
    });
    // planted: an application error handler that prints the message before passing it on
    a.use((err: Error, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
      if (leaky) console.error(`request failed: ${err.message}`);
      next(err);
    });
    return { a, log, console_ };
  }

  async function captureAll(leaky: boolean, role: string, purpose: string, fail = false): Promise<Captured[]> {
    const { a, log, console_ } = app(leaky);
    try {
      const res = await request(a).get(`/patients/${patient!.id}${fail ? '?fail=1' : ''}`).set({ 'x-role': role, 'x-purpose': purpose });
      return [...capturedResponse({ status: res.status, headers: res.headers as Record<string, string>, text: res.text }), ...log.captured(), ...console_.captured()];
    } finally {
      console_.restore();
    }
  }

  const allowFor = (role: string) => (role === 'doctor' ? [{ channel: 'http.body', fields: ['*'] }] : []);

  it('the kit fails on each planted leak, naming channel and field', async () => {
    const leaks = findLeaks(await captureAll(true, 'doctor', 'TREAT'), { canaries: patient!.canaries, allow: allowFor('doctor') });
    expect(leaks.some((l) => l.channel === 'log' && l.field === 'ssn')).toBe(true);
    expect(leaks.some((l) => l.channel === 'http.header' && l.location.includes('x-patient-ref') && l.field === 'mrn')).toBe(true);
    const failing = findLeaks(await captureAll(true, 'doctor', 'TREAT', true), { canaries: patient!.canaries });
    expect(failing.some((l) => l.channel === 'console' && l.field === 'ssn')).toBe(true);
    // phiguard kept the thrown message out of the response itself.
    expect(failing.some((l) => l.channel.startsWith('http'))).toBe(true); // the header is still planted
    expect(failing.filter((l) => l.channel === 'http.body')).toEqual([]);
  });

  it('passes once the leaks are removed: every role, purpose and error path', async () => {
    const result = await sweep({
      routes: ['ok', 'error'],
      roles: [
        { role: 'doctor', purposes: ['TREAT', 'HPAYMT'] },
        { role: 'billing', purposes: ['HPAYMT', 'TREAT'] },
        { role: 'janitor', purposes: ['TREAT'] },
      ],
      canaries: patient!.canaries,
      allow: (c) => (c.route === 'ok' && c.role === 'doctor' && c.purpose === 'TREAT' ? allowFor('doctor') : []),
      request: (c) => captureAll(false, c.role, c.purpose, c.route === 'error'),
    });
    expect(result.cases).toBe(10);
    expect(result.leaks).toEqual([]);
  });
});
