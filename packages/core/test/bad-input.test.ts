/**
 * Hostile and odd input: prototype-named keys, deep and circular values, huge documents,
 * values JSON cannot carry. Every case either projects safely or is refused as a whole.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  compilePolicy,
  LimitExceededError,
  type CompileOptions,
  type FieldDeclarations,
  type RuleSet,
} from '@phiguard/core';
import { ctx, deepFreeze } from './helpers.js';

function compile(fields: FieldDeclarations, rules: RuleSet, options: CompileOptions = {}) {
  return compilePolicy({ roles: ['r'], resources: { R: { fields, disclose: { r: { TREAT: rules } } } } }, { mode: 'production', ...options });
}

function project(fields: FieldDeclarations, rules: RuleSet, value: unknown, options?: CompileOptions) {
  return compile(fields, rules, options).protect<any>(value, ctx(['r'], 'TREAT'), 'R');
}

/** The error `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return expect.fail('expected a throw');
}

function expectLimit(fn: () => unknown, limit?: LimitExceededError['limit']) {
  const err = thrown(fn);
  expect(err).not.toBeInstanceOf(RangeError);
  expect(err).toBeInstanceOf(LimitExceededError);
  expect((err as LimitExceededError).code).toBe('limit_exceeded');
  if (limit) expect((err as LimitExceededError).limit).toBe(limit);
  return err as LimitExceededError;
}

const standardPrototype = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypeIntact() {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(standardPrototype);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect({}.constructor).toBe(Object);
}

describe('prototype-named keys are ordinary keys', () => {
  afterEach(expectPrototypeIntact);

  const hostile = () =>
    JSON.parse(
      '{"code":"a","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}',
    );

  it('unclassified __proto__, constructor and prototype keys are dropped without crashing', () => {
    const { value } = project({ code: 'clinical' }, { code: 'send' }, hostile());
    expect(value).toEqual({ code: 'a' });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(false);
  });

  it('they are dropped in development mode too, and reported by name only', () => {
    const warnings: string[] = [];
    const { value } = project({ code: 'clinical' }, { code: 'send' }, hostile(), { mode: 'development', warn: (m) => warnings.push(m) });
    expect(value).toEqual({ code: 'a' });
    expect(warnings.join('\n')).not.toContain('yes');
  });

  it('under a * wildcard they are sent as own data, never as the prototype', () => {
    const { value } = project({ 'meta.*': 'non-phi' }, {}, { meta: hostile() });
    expect(Object.getPrototypeOf(value.meta)).toBe(Object.prototype);
    expect(Object.hasOwn(value.meta, '__proto__')).toBe(true);
    expect(value.meta.polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(value.meta))).toEqual(JSON.parse(JSON.stringify(hostile())));
  });

  it('under a sent subtree they are copied as own data, never as the prototype', () => {
    const { value } = project({ extension: 'non-phi' }, {}, { extension: { nested: [hostile()] } });
    const copy = value.extension.nested[0];
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(copy.polluted).toBeUndefined();
    expect(JSON.stringify(value.extension)).toBe(JSON.stringify({ nested: [hostile()] }));
  });

  it('keys defined with Object.defineProperty behave the same', () => {
    const meta = {};
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      Object.defineProperty(meta, key, { value: { polluted: 'yes' }, enumerable: true });
    }
    const { value } = project({ 'meta.*': 'non-phi' }, {}, deepFreeze({ meta }));
    expect(Object.getPrototypeOf(value.meta)).toBe(Object.prototype);
    expect(Object.keys(value.meta).sort()).toEqual(['__proto__', 'constructor', 'prototype']);
  });

  it('a policy may declare fields named __proto__ and constructor', () => {
    const fields: FieldDeclarations = Object.fromEntries([
      ['__proto__', 'clinical'],
      ['constructor.name', 'clinical'],
      ['toString', 'direct-identifier'],
    ]);
    const { value } = project(fields, { '@clinical': 'send' }, JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"name":"n"},"toString":"Maria"}'));
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect(value.constructor).toEqual({ name: 'n' });
    expect(Object.hasOwn(value, 'toString')).toBe(false);
  });
});

describe('deep, circular and oversized values are refused as a whole', () => {
  function nested(depth: number) {
    let v: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < depth; i++) v = { child: v };
    return v;
  }

  it('a 10,000-deep object under a sent field is refused with LimitExceededError (maxDepth), not a RangeError', () => {
    expectLimit(() => project({ extension: 'non-phi' }, {}, { extension: nested(10_000) }), 'maxDepth');
  });

  it('a 10,000-deep array under a sent field is refused the same way', () => {
    let v: unknown[] = [];
    for (let i = 0; i < 10_000; i++) v = [v];
    expectLimit(() => project({ extension: 'non-phi' }, {}, { extension: v }), 'maxDepth');
  });

  it('a circular reference under a sent field is refused with LimitExceededError', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expectLimit(() => project({ extension: 'non-phi' }, {}, { extension: loop }));
    const ring: unknown[] = [];
    ring.push(ring);
    expectLimit(() => project({ 'tags[]': 'non-phi' }, {}, { tags: [ring] }));
  });

  it('a deep or circular array under initials is omitted, not a crash', () => {
    const ring: unknown[] = [];
    ring.push(ring);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    for (const name of [ring, deep]) {
      const { value } = project({ name: 'direct-identifier', code: 'clinical' }, { name: 'initials', code: 'send' }, { name, code: 'c' });
      expect(value).toEqual({ code: 'c' });
    }
  });

  it('the depth limit is configurable', () => {
    expect(project({ extension: 'non-phi' }, {}, { extension: nested(10) }, { limits: { maxDepth: 100 } }).value.extension).toEqual(nested(10));
    expectLimit(() => project({ extension: 'non-phi' }, {}, { extension: nested(10) }, { limits: { maxDepth: 5 } }), 'maxDepth');
  });

  it('a ~14 MB document of many small values exceeds the default node limit', () => {
    const results = Array.from({ length: 300_000 }, (_, i) => ({ code: `LOINC-${i}`, value: i * 1.5, unit: 'mg/dL' }));
    expect(JSON.stringify(results).length).toBeGreaterThan(13_000_000);
    const err = expectLimit(
      () => project({ 'results[].code': 'clinical', 'results[].value': 'clinical', 'results[].unit': 'non-phi' }, { '*': 'send' }, { results }),
      'maxNodes',
    );
    expect(err.message).not.toContain('LOINC');
  });

  it('a ~10 MB string under a sent field exceeds the default character limit', () => {
    expectLimit(() => project({ note: 'free-text' }, { note: 'send' }, { note: 'x'.repeat(10_000_000) }), 'maxChars');
  });

  it('operator output counts toward the character limit', () => {
    // 160,000 markers of 64 characters: 10 MB sent, over the 8 MB default.
    const notes = Array<string>(160_000).fill('Maria Lopez');
    expectLimit(() => project({ 'notes[]': 'free-text' }, { 'notes[]': { op: 'replace', with: 'z'.repeat(64) } }, { notes }), 'maxChars');
  });

  it('~10 MB of keys in a sent subtree exceeds the default character limit', () => {
    const extension: Record<string, number> = {};
    for (let i = 0; i < 3; i++) extension[`${i}`.padEnd(3_500_000, 'k')] = i;
    expectLimit(() => project({ extension: 'non-phi' }, {}, { extension }), 'maxChars');
  });

  it('~10 MB of keys under a * wildcard exceeds the default character limit', () => {
    const meta: Record<string, number> = {};
    for (let i = 0; i < 3; i++) meta[`${i}`.padEnd(3_500_000, 'k')] = i;
    expectLimit(() => project({ 'meta.*': 'non-phi' }, {}, { meta }), 'maxChars');
  });

  it('the error names the limit and carries no value', () => {
    const err = expectLimit(() => project({ note: 'free-text' }, { note: 'send' }, { note: 'Maria Lopez '.repeat(800_000) }));
    expect(err.message).toContain('maxChars');
    expect(err.message).not.toContain('Maria');
  });
});

describe('values JSON cannot carry', () => {
  it('a BigInt in a sent subtree becomes its decimal string', () => {
    const { value } = project({ extension: 'non-phi' }, {}, { extension: { n: 12345678901234567890n, list: [1n] } });
    expect(value.extension).toEqual({ n: '12345678901234567890', list: ['1'] });
    expect(() => JSON.stringify(value)).not.toThrow();
  });

  it('functions and symbols are dropped from a sent subtree (null inside arrays, like JSON)', () => {
    const sym = Symbol('s');
    const { value } = project({ extension: 'non-phi' }, {}, {
      extension: { keep: 1, fn: () => 'Maria', sym, [sym]: 'hidden', list: [() => 1, sym, 2] },
    });
    expect(value.extension).toEqual({ keep: 1, list: [null, null, 2] });
    expect(Object.getOwnPropertySymbols(value.extension)).toEqual([]);
  });

  it('a function or symbol as a sent field value omits the field', () => {
    const { value } = project({ a: 'non-phi', b: 'non-phi', c: 'non-phi' }, {}, { a: () => 1, b: Symbol('s'), c: 3 });
    expect(value).toEqual({ c: 3 });
  });

  it('Buffers and typed arrays inside a sent subtree are not sent', () => {
    const { value } = project({ extension: 'non-phi', blob: 'non-phi' }, {}, {
      extension: { raw: Buffer.from('Maria Lopez'), bytes: new Uint8Array([1, 2]), ok: true },
      blob: Buffer.from('123-45-6789'),
    });
    expect(value).toEqual({ extension: { ok: true } });
    expect(JSON.stringify(value)).not.toContain('Maria');
  });

  it('a value that is not an object at the root projects to nothing', () => {
    for (const v of ['Maria Lopez', 42, null, undefined]) {
      expect(project({ a: 'non-phi' }, {}, v).value).toBeUndefined();
    }
    const { value } = project({ a: 'non-phi' }, {}, Buffer.from('Maria Lopez'));
    expect(JSON.stringify(value) ?? '').not.toContain('Maria');
  });
});
