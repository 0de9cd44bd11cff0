import { describe, expect, it } from 'vitest';
import { DlpBlockedError, LimitExceededError, createPhiGuard, definePolicy, type AuditEvent } from '@phiguard/core';
import { ctx, compileUnchecked, problemsOf } from './helpers.js';

const policyFor = (request: 'block' | 'redact' | 'report', types?: string[]) =>
  definePolicy({
    roles: ['nurse'],
    resources: {
      Note: {
        dlp: { request, ...(types ? { types: types as never } : {}) },
        fields: { patientSsn: 'direct-identifier', text: 'free-text', 'tags[]': 'clinical', 'meta.*': 'non-phi' },
        disclose: { nurse: { TREAT: { '*': 'send' } } },
      },
    },
  });

const SSN = '123-45-6789';
function guardFor(request: 'block' | 'redact' | 'report', types?: string[]) {
  const events: AuditEvent[] = [];
  const guard = createPhiGuard({ policy: policyFor(request, types), audit: { write: (e) => void events.push(e) } });
  return { guard, events };
}

describe('request-body DLP (guard.inspect)', () => {
  it('scans free-text and unclassified strings, not the declared identifier fields', () => {
    const { guard, events } = guardFor('report');
    const body = { patientSsn: SSN, text: `see SSN ${SSN}`, extra: { deep: [`mail jane@example.org`] }, tags: ['123-45-6789'], meta: { by: SSN } };
    const r = guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', body)!;
    expect(r.counts).toEqual({ SSN: 1, EMAIL: 1 });
    expect(r.value).toBe(body);
    expect(events[0]).toMatchObject({ action: 'create', outcome: 'success', dlp: { action: 'report', counts: { SSN: 1, EMAIL: 1 } } });
    expect(JSON.stringify(events)).not.toContain(SSN);
  });

  it('redacts into a copy and leaves the input untouched', () => {
    const { guard } = guardFor('redact');
    const body = { text: `SSN ${SSN}`, list: [{ note: 'call 617-555-0143' }] };
    const r = guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', body)!;
    expect(r.value).toEqual({ text: 'SSN [SSN]', list: [{ note: 'call [PHONE]' }] });
    expect(body.text).toBe(`SSN ${SSN}`);
  });

  it('blocks with counts only, and audits the refusal', () => {
    const { guard, events } = guardFor('block');
    let thrown: unknown;
    try {
      guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', { text: `SSN ${SSN}` });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DlpBlockedError);
    expect((thrown as DlpBlockedError).status).toBe(422);
    expect((thrown as DlpBlockedError).counts).toEqual({ SSN: 1 });
    expect(String((thrown as Error).message)).not.toContain(SSN);
    expect(events[0]).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'dlp_blocked', dlp: { action: 'block' } });
    expect(guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', { text: 'no identifiers here' })!.counts).toEqual({});
  });

  it('limits the scan to the declared types', () => {
    const { guard } = guardFor('report', ['EMAIL']);
    expect(guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', { text: `SSN ${SSN} a@example.org` })!.counts).toEqual({ EMAIL: 1 });
  });

  it('treats __proto__ keys as data and refuses bodies past the limits', () => {
    const { guard } = guardFor('redact');
    const body = JSON.parse(`{"__proto__": {"text": "SSN ${SSN}"}, "text": "ok"}`) as object;
    const r = guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', body)!;
    expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
    expect(JSON.stringify(r.value)).not.toContain(SSN);
    let deep: unknown = 'x';
    for (let i = 0; i < 200; i++) deep = { a: deep };
    expect(() => guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', deep)).toThrow(LimitExceededError);
  });

  it('returns null for resources without a DLP rule', () => {
    const guard = createPhiGuard({
      policy: definePolicy({ roles: ['r'], resources: { R: { fields: { a: 'free-text' }, disclose: { r: { TREAT: { a: 'send' } } } } } }),
      audit: { write() {} },
    });
    expect(guard.inspect(ctx(['r'], 'TREAT'), 'R', 'create', { a: SSN })).toBeNull();
  });

  it('validates the rule at compile time', () => {
    const bad = (dlp: unknown) =>
      problemsOf(() => compileUnchecked({ roles: ['r'], resources: { R: { dlp, fields: { a: 'free-text' }, disclose: { r: { TREAT: { a: 'send' } } } } } })).join('\n');
    expect(bad({ request: 'drop' })).toMatch(/dlp.request must be one of block, redact, report/);
    expect(bad({ request: 'block', types: ['SSNN'] })).toMatch(/unknown type "SSNN".*did you mean "SSN"/);
    expect(bad({ request: 'block', typse: [] })).toMatch(/unknown key "typse"/);
  });
});

describe('request-body DLP reads each string under its key', () => {
  it('blocks an identifier that only its key makes one ("memberId": "W28810392")', () => {
    const { guard } = guardFor('block');
    expect(() => guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', { extra: { memberId: 'W28810392' } })).toThrow(DlpBlockedError);
    // The same value under a key that says nothing passes.
    expect(guard.inspect(ctx(['nurse'], 'TREAT'), 'Note', 'create', { extra: { colour: 'W28810392' } })!.counts).toEqual({});
  });
});
