/**
 * One field index, many readers: request-body DLP and the response projection must put every
 * path of a document in the same declared field, whatever the declaration order and however
 * the patterns overlap (`a.*` before or after `a.note`, arrays, wildcards).
 *
 * The projection is observed through a custom operator that prefixes every string it receives
 * with the class of the field that received it; DLP is observed through `redact` with a scanner
 * that flags every string it is asked about. A string is scanned exactly when the projection
 * treats it as free text or as unclassified (dropped).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DlpBlockedError,
  compilePolicy,
  createScanner,
  type FieldClass,
  type PolicyDefinition,
  type Scanner,
} from '@phiguard/core';
import { inspectBody } from '../src/inbound.js';

const CLASSES: readonly FieldClass[] = ['direct-identifier', 'quasi-identifier', 'clinical', 'free-text', 'sensitive', 'non-phi'];
const KEYS = ['a', 'b', 'note', 'x'];
const SEGMENTS = [...KEYS, '*', '[]'];

/** Flags every string as a whole: what DLP chose to scan becomes visible as `[SSN]`. */
const everything: Scanner = {
  scan: (text: string) => (text.length === 0 ? [] : [{ type: 'SSN', start: 0, end: text.length, confidence: 1 }]),
  scanValue: () => [],
} as unknown as Scanner;

function spell(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) out += s === '[]' ? '[]' : out.length === 0 ? s : `.${s}`;
  return out;
}

/** A field path may not be the parent of another (declared fields are leaves). */
const prefixOf = (a: readonly string[], b: readonly string[]) => a.length <= b.length && a.every((s, i) => b[i] === s);

const fieldsArb = fc
  .array(fc.tuple(fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }), fc.constantFrom(...CLASSES)), { minLength: 1, maxLength: 8 })
  .map((list) => {
    const kept: [string[], FieldClass][] = [];
    for (const [segments, cls] of list) {
      if (kept.some(([s]) => prefixOf(s, segments) || prefixOf(segments, s))) continue;
      kept.push([segments, cls]);
    }
    return kept.map(([segments, cls]) => [spell(segments), cls] as const);
  });

/** Documents shaped like the key alphabet; every string is unique so it can be followed. */
const docArb = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant('s'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
  ),
})).value;

function numberStrings(value: unknown): unknown {
  let n = 0;
  const go = (v: unknown): unknown => {
    if (typeof v === 'string') return `S${n++}`;
    if (Array.isArray(v)) return v.map(go);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, go(x)]));
    return v;
  };
  return go(value);
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** Strings of `before` that DLP replaced in `after` (same shape: inbound never drops). */
function scanned(before: unknown, after: unknown, out = new Set<string>()): Set<string> {
  if (typeof before === 'string') {
    if (after !== before) out.add(before);
  } else if (Array.isArray(before)) before.forEach((v, i) => scanned(v, (after as unknown[])[i], out));
  else if (before !== null && typeof before === 'object') {
    for (const [k, v] of Object.entries(before)) scanned(v, (after as Record<string, unknown>)[k], out);
  }
  return out;
}

const tagDeep = (value: unknown, cls: string): unknown => {
  if (typeof value === 'string') return `${cls}|${value}`;
  if (Array.isArray(value)) return value.map((v) => tagDeep(v, cls));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tagDeep(v, cls)]));
  return value;
};

function compile(fields: readonly (readonly [string, FieldClass])[]) {
  const rules = Object.fromEntries(CLASSES.map((c) => [`@${c}`, { custom: 'tag', args: { cls: c } }]));
  const definition = {
    roles: ['r'],
    resources: { R: { fields: Object.fromEntries(fields), dlp: { request: 'redact' }, disclose: { r: { TREAT: rules } } } },
  } as unknown as PolicyDefinition;
  return compilePolicy(definition, { mode: 'production', operators: { tag: (v, args) => tagDeep(v, String(args.cls)) } });
}

describe('inbound DLP and the projection read paths through one field index', () => {
  it('classify every string of random documents under random overlapping policies identically', () => {
    fc.assert(
      fc.property(fieldsArb, docArb, (fields, raw) => {
        const policy = compile(fields);
        const body = numberStrings(raw);
        const projected = policy.protect(body, { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' }, 'R').value;
        const classOf = new Map<string, string>();
        for (const s of strings(projected)) {
          const [cls, original] = s.split('|') as [string, string];
          classOf.set(original, cls);
        }
        const inbound = inspectBody(policy.resources.get('R')!, body, everything, policy.limits);
        const dlp = scanned(body, inbound?.value ?? body);
        for (const s of strings(body)) {
          const cls = classOf.get(s) ?? null;
          expect({ s, scanned: dlp.has(s) }).toEqual({ s, scanned: cls === null || cls === 'free-text' });
        }
      }),
      { numRuns: 400 },
    );
  });

  it('Safe Harbor keeps exactly the strings the projection sends, for policies of kept classes (random overlapping patterns)', async () => {
    const { createSafeHarbor } = await import('@phiguard/core/deid');
    const keptFields = fieldsArb.map((fields) => fields.map(([path, cls]) => [path, cls === 'non-phi' ? 'non-phi' : 'clinical'] as const));
    fc.assert(
      fc.property(keptFields, docArb, (fields, raw) => {
        const policy = compilePolicy(
          { roles: ['r'], resources: { R: { fields: Object.fromEntries(fields), disclose: { r: { TREAT: { '*': 'send' } } } } } } as unknown as PolicyDefinition,
          { mode: 'production' },
        );
        const body = numberStrings(raw);
        const projected = policy.protect(body, { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' }, 'R').value;
        const deidentified = createSafeHarbor({ resource: 'R', policy })(body).value;
        expect(new Set(strings(deidentified))).toEqual(new Set(strings(projected)));
      }),
      { numRuns: 300 },
    );
  });

  // The report this property was written from: `a.*` declared first hid `a.note` from DLP.
  it.each([
    ['a.* declared before a.note', { 'a.*': 'clinical', 'a.note': 'free-text' }],
    ['a.note declared before a.*', { 'a.note': 'free-text', 'a.*': 'clinical' }],
    ['a[].* before a[].note', { 'a[].*': 'clinical', 'a[].note': 'free-text' }],
  ] as const)('blocks an SSN in a free-text field however the patterns are ordered (%s)', (_name, fields) => {
    const policy = compilePolicy({
      roles: ['r'],
      resources: { R: { fields, dlp: { request: 'block' }, disclose: { r: { TREAT: { '*': 'send' } } } } },
    } as unknown as PolicyDefinition);
    const note = 'Caller gave SSN 219-09-9999 for the callback';
    const body = 'a[].note' in fields ? { a: [{ note, code: 'x' }] } : { a: { note, code: 'x' } };
    expect(() => inspectBody(policy.resources.get('R')!, body, createScanner(), policy.limits)).toThrow(DlpBlockedError);
    // The clinical sibling under the wildcard is not scanned: an SSN-shaped code passes.
    const coded = 'a[].note' in fields ? { a: [{ code: '219-09-9999' }] } : { a: { code: '219-09-9999' } };
    expect(inspectBody(policy.resources.get('R')!, coded, createScanner(), policy.limits)?.found).toBe(0);
  });
});

describe('the record cipher reads paths through the same index', () => {
  it('encrypts what the index assigns to an encrypted field, never a sibling declared on its own (a.* before a.note)', async () => {
    const { createFieldCipher } = await import('@phiguard/core');
    const { createRecordCipher, isCiphertext } = await import('@phiguard/core/crypto');
    const { TestKeyring } = await import('./crypto/test-keyring.js');
    const policy = compilePolicy(
      {
        roles: ['r'],
        resources: {
          R: {
            id: 'id',
            fields: { id: 'non-phi', 'a.*': { class: 'direct-identifier', encrypt: true }, 'a.note': 'free-text' },
            disclose: { r: { TREAT: { '*': 'send' } } },
          },
        },
      } as unknown as PolicyDefinition,
      { mode: 'production' },
    );
    const records = createRecordCipher({ policy, cipher: createFieldCipher({ keyring: new TestKeyring() }) });
    const sealed = await records.encryptRecord('R', { id: 'r1', a: { note: 'plain note', ssn: '219-09-9999' } });
    expect(sealed.a.note).toBe('plain note');
    expect(isCiphertext(sealed.a.ssn)).toBe(true);
    expect(await records.decryptRecord('R', sealed)).toEqual({ id: 'r1', a: { note: 'plain note', ssn: '219-09-9999' } });
  });
});
