/**
 * Property tests: random policies and random documents shaped partly like them. The expected
 * behaviour comes from a reference classifier written here, independently of the plan walker.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AccessDeniedError, compilePolicy, type FieldClass, type PolicyDefinition } from '@phiguard/core';
import { deepFreeze } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------

type Segment = string; // a key, '*' or '[]'
type Op = 'send' | 'partial' | 'replace' | 'redact' | 'deny';

const CLASSES: readonly FieldClass[] = ['direct-identifier', 'quasi-identifier', 'clinical', 'free-text', 'sensitive', 'non-phi'];
const OPS: readonly Op[] = ['send', 'partial', 'replace', 'redact', 'deny'];
/** Disclosure strength: when several roles apply, the strongest wins. */
const STRENGTH: Record<Op, number> = { send: 4, partial: 3, replace: 2, redact: 1, deny: 0 };
const ROLES = ['r1', 'r2'] as const;
const PURPOSES = ['TREAT', 'HPAYMT'] as const;
const KEYS = ['a', 'b', 'id', 'name', 'constructor', 'toString'];

interface Field {
  readonly segments: readonly Segment[];
  readonly path: string;
  readonly cls: FieldClass;
}

/** `a`, `a.b`, `a[]`, `[].a`, `a.*`: the policy spelling of a segment list. */
function spell(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += s === '[]' ? '[]' : out.length === 0 ? s : `.${s}`;
  return out;
}

interface TrieNode {
  keys: Map<string, TrieNode>;
  any: TrieNode | null;
  elem: TrieNode | null;
  field: Field | null;
}

function buildTrie(fields: readonly Field[]): TrieNode {
  const root: TrieNode = { keys: new Map(), any: null, elem: null, field: null };
  for (const f of fields) {
    let node = root;
    for (const s of f.segments) {
      const fresh = (): TrieNode => ({ keys: new Map(), any: null, elem: null, field: null });
      if (s === '[]') node = node.elem ??= fresh();
      else if (s === '*') node = node.any ??= fresh();
      else {
        if (!node.keys.has(s)) node.keys.set(s, fresh());
        node = node.keys.get(s)!;
      }
    }
    node.field = f;
  }
  return root;
}

type Step = { readonly index: number } | { readonly key: string };
type Where = { kind: 'field'; field: Field } | { kind: 'branch'; node: TrieNode } | { kind: 'unclassified' };

/** Which declared field (if any) governs a concrete path. Exact keys win over `*` at each level. */
function classify(root: TrieNode, path: readonly Step[]): Where {
  let node = root;
  for (const step of path) {
    if (node.field) return { kind: 'field', field: node.field };
    const next = 'index' in step ? node.elem : (node.keys.get(step.key) ?? node.any);
    if (!next) return { kind: 'unclassified' };
    node = next;
  }
  return node.field ? { kind: 'field', field: node.field } : { kind: 'branch', node };
}

type RuleSets = Partial<Record<(typeof ROLES)[number], Partial<Record<(typeof PURPOSES)[number], Record<string, Op>>>>>;

/** The operator a role set gets for a field: path > @class > * > (non-phi: send) > deny; strongest role wins. */
function expectedOp(rules: RuleSets, roles: readonly string[], purpose: string, field: Field): Op {
  let best: Op | null = null;
  for (const role of roles) {
    const set = rules[role as (typeof ROLES)[number]]?.[purpose as (typeof PURPOSES)[number]];
    if (!set) continue;
    const rule = (selector: string): Op | undefined => (Object.hasOwn(set, selector) ? set[selector] : undefined);
    // In rules, the selector `*` always means "every field": a field declared at path `*` is
    // addressed through its class or the catch-all only.
    const byPath = field.path === '*' ? undefined : rule(field.path);
    const op: Op = byPath ?? rule(`@${field.cls}`) ?? rule('*') ?? (field.cls === 'non-phi' ? 'send' : 'deny');
    if (best === null || STRENGTH[op] > STRENGTH[best]) best = op;
  }
  return best ?? 'deny';
}

function isContainer(v: unknown): v is object {
  return v !== null && typeof v === 'object';
}

/** Every (field path, value) of a field governed by `send`, in document order. */
function sentInstances(root: TrieNode, value: unknown, opOf: (f: Field) => Op): [string, unknown][] {
  const out: [string, unknown][] = [];
  const walk = (v: unknown, path: Step[]): void => {
    const where = classify(root, path);
    if (where.kind === 'field') {
      if (opOf(where.field) === 'send') out.push([where.field.path, v]);
      return;
    }
    if (where.kind === 'unclassified' || !isContainer(v)) return;
    if (Array.isArray(v)) v.forEach((item, index) => walk(item, [...path, { index }]));
    else for (const key of Object.keys(v)) walk((v as Record<string, unknown>)[key], [...path, { key }]);
  };
  walk(value, []);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.constant('*') },
  { weight: 1, arbitrary: fc.constant('[]') },
);

/** 1–6 fields whose paths never overlap (no path is a prefix of another). */
const fieldsArb: fc.Arbitrary<Field[]> = fc
  .array(fc.tuple(fc.array(segmentArb, { minLength: 1, maxLength: 3 }), fc.constantFrom(...CLASSES)), { minLength: 1, maxLength: 8 })
  .map((candidates) => {
    const accepted: Field[] = [];
    const isPrefix = (p: readonly Segment[], q: readonly Segment[]) => p.length <= q.length && p.every((s, i) => s === q[i]);
    for (const [segments, cls] of candidates) {
      if (accepted.some((f) => isPrefix(f.segments, segments) || isPrefix(segments, f.segments))) continue;
      accepted.push({ segments, path: spell(segments), cls });
    }
    return accepted.slice(0, 6);
  });

function ruleSetArb(fields: readonly Field[]): fc.Arbitrary<Record<string, Op>> {
  const selectors = [...fields.map((f) => f.path), ...CLASSES.map((c) => `@${c}`), '*'];
  return fc
    .array(fc.tuple(fc.constantFrom(...selectors), fc.constantFrom(...OPS)), { maxLength: 6 })
    .map((entries) => Object.fromEntries(entries));
}

function rulesArb(fields: readonly Field[]): fc.Arbitrary<RuleSets> {
  const perRole = fc
    .record({ TREAT: fc.option(ruleSetArb(fields), { nil: undefined }), HPAYMT: fc.option(ruleSetArb(fields), { nil: undefined }) })
    .map((byPurpose) => {
      const sets = Object.fromEntries(Object.entries(byPurpose).filter(([, v]) => v !== undefined));
      // compilePolicy requires every role to have at least one purpose.
      return Object.keys(sets).length > 0 ? sets : { TREAT: {} };
    });
  return fc.record({ r1: perRole, r2: perRole });
}

const junkKeyArb = fc.oneof(fc.constantFrom(...KEYS, 'ssn', 'x-1', '0', '12'), fc.string({ minLength: 1, maxLength: 4 })).filter((k) => k !== '__proto__');

/** Builds an ordinary object with own data properties, whatever the keys. */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const scalarArb = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null));
const { json: jsonArb } = fc.letrec<{ json: unknown; arr: unknown[]; obj: Record<string, unknown> }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalarArb, tie('arr'), tie('obj')),
  arr: fc.array(tie('json'), { maxLength: 3 }),
  obj: fc.array(fc.tuple(junkKeyArb, tie('json')), { maxLength: 3 }).map(objectOf),
}));

/** A document shaped like the trie under `node`, with extra keys and type mismatches mixed in. */
function docArb(node: TrieNode): fc.Arbitrary<unknown> {
  if (node.field) return jsonArb;
  const options: fc.Arbitrary<unknown>[] = [];
  if (node.keys.size > 0 || node.any) {
    const declared = [...node.keys].map(([k, child]) => fc.option(docArb(child).map((v) => [k, v] as const), { nil: undefined }));
    const wild = node.any ? fc.array(fc.tuple(junkKeyArb, docArb(node.any)), { maxLength: 3 }) : fc.constant([]);
    const junk = fc.array(fc.tuple(junkKeyArb, jsonArb), { maxLength: 2 });
    options.push(
      fc.tuple(fc.tuple(...declared), wild, junk).map(([d, w, j]) =>
        objectOf([...d.filter((e): e is readonly [string, unknown] => e !== undefined), ...w, ...j]),
      ),
    );
  }
  if (node.elem) options.push(fc.array(docArb(node.elem), { maxLength: 3 }));
  options.push(jsonArb); // sometimes the document does not match the declared shape at all
  return fc.oneof(...options);
}

interface Scenario {
  readonly fields: Field[];
  readonly rules: RuleSets;
  readonly requests: { roles: string[]; purpose: (typeof PURPOSES)[number]; doc: unknown }[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fieldsArb.chain((fields) => {
  const trie = buildTrie(fields);
  const request = fc.record({
    roles: fc.shuffledSubarray([...ROLES], { minLength: 1 }),
    purpose: fc.constantFrom(...PURPOSES),
    doc: docArb(trie),
  });
  return fc.record({ fields: fc.constant(fields), rules: rulesArb(fields), requests: fc.array(request, { minLength: 1, maxLength: 3 }) });
});

function toPolicy(s: Scenario): PolicyDefinition {
  return {
    roles: [...ROLES],
    resources: {
      R: {
        fields: Object.fromEntries(s.fields.map((f) => [f.path, f.cls])),
        disclose: s.rules,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('protect under random policies and documents', () => {
  it('never sends a denied, redacted or unclassified path; sends `send` fields exactly; never mutates input', () => {
    let allowed = 0;
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const policy = compilePolicy(toPolicy(scenario), { mode: 'production' });
        const trie = buildTrie(scenario.fields);

        for (const { roles, purpose, doc } of scenario.requests) {
          const context = { principal: { id: 'u' }, roles, purposeOfUse: purpose };
          const permitted = roles.some((r) => scenario.rules[r as (typeof ROLES)[number]]?.[purpose] !== undefined);
          const before = structuredClone(doc);
          deepFreeze(doc);

          if (!permitted) {
            expect(() => policy.protect(doc, context, 'R')).toThrow(AccessDeniedError);
            continue;
          }
          allowed++;
          const opOf = (f: Field) => expectedOp(scenario.rules, roles, purpose, f);
          const { value, disclosure } = policy.protect(doc, context, 'R');

          // (a) every path in the output is governed by a field that may be disclosed.
          const check = (v: unknown, path: Step[]): void => {
            const where = classify(trie, path);
            if (where.kind === 'unclassified') expect.fail(`unclassified path sent: ${JSON.stringify(path)}`);
            if (where.kind === 'field') {
              const op = opOf(where.field);
              expect(['send', 'partial', 'replace'], `${where.field.path} is ${op}`).toContain(op);
              if (op === 'partial') expect(v === null || (typeof v === 'string' && v.startsWith('****'))).toBe(true);
              if (op === 'replace') expect(v).toBe('[REDACTED]');
              return;
            }
            expect(isContainer(v), `a non-field path holds a scalar: ${JSON.stringify(path)}`).toBe(true);
            if (Array.isArray(v)) v.forEach((item, index) => check(item, [...path, { index }]));
            else for (const key of Object.keys(v as object)) check((v as Record<string, unknown>)[key], [...path, { key }]);
          };
          if (value !== undefined) check(value, []);

          // (b) `send` fields carry exactly the input value, each instance, in order.
          expect(sentInstances(trie, value, opOf)).toEqual(sentInstances(trie, doc, opOf));

          // The disclosure record agrees with the reference: sent fields disclose, transforms name their operator.
          for (const path of disclosure.disclosed) {
            const field = scenario.fields.find((f) => f.path === path)!;
            expect(['send', 'partial', 'replace']).toContain(opOf(field));
          }
          for (const [path, name] of Object.entries(disclosure.transforms)) {
            const field = scenario.fields.find((f) => f.path === path)!;
            expect(name).toBe(opOf(field));
            expect(name).not.toBe('send');
          }

          // (c) the input is untouched.
          expect(doc).toEqual(before);
        }
      }),
      { seed: 20240611, numRuns: 400 },
    );
    // The generators must actually exercise allowed requests, not only denials.
    expect(allowed).toBeGreaterThan(200);
  });

  it('own prototype-named keys in random documents never pollute Object.prototype', () => {
    // Everything is sent: root keys through `*` (non-PHI), keys under `a` through `a.*` (clinical).
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { '*': 'non-phi', 'a.*': 'clinical' }, disclose: { r: { TREAT: { '@clinical': 'send' } } } } } },
      { mode: 'production' },
    );
    const protoKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty');
    // JSON text, so that "__proto__" becomes an own key exactly as a JSON body parser makes it.
    const { node: nodeText, obj: objText } = fc.letrec<{ node: string; obj: string }>((tie) => ({
      node: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalarArb.map((v) => JSON.stringify(v)), tie('obj')),
      // Non-empty: an object with nothing to send is omitted, which is not what this property is about.
      obj: fc.array(fc.tuple(protoKey, tie('node')), { minLength: 1, maxLength: 3 }).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    }));
    const standard = Object.getOwnPropertyNames(Object.prototype).sort();
    fc.assert(
      fc.property(objText, nodeText, nodeText, (a, b, c) => {
        const text = `{"a":${a},"__proto__":${b},"constructor":${c}}`;
        const doc = JSON.parse(text);
        const { value } = policy.protect<Record<string, unknown>>(doc, { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' }, 'R');
        expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
        expect(Object.hasOwn(value, '__proto__')).toBe(true);
        expect(JSON.stringify(value)).toBe(JSON.stringify(JSON.parse(text)));
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(standard);
        expect({}.constructor).toBe(Object);
        expect({}.toString).toBe(Object.prototype.toString);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
