import { describe, expect, it } from 'vitest';
import {
  DecryptError,
  KeyUnavailableError,
  OptionsError,
  compilePolicy,
  createFieldCipher,
  createPhiGuard,
  definePolicy,
  type AuditEvent,
  type FieldCipher,
} from '@phiguard/core';
import { createMemoryKeyStore, createRecordCipher, isCiphertext, reencrypt, rewrapKeys } from '@phiguard/core/crypto';
import { SECRET, ctx, problemsOf, compileUnchecked } from '../helpers.js';
import { TestKeyring } from './test-keyring.js';

const policy = definePolicy({
  roles: ['clinician', 'billing', 'front-desk'],
  resources: {
    Patient: {
      id: 'id',
      subject: 'id',
      fields: {
        id: 'non-phi',
        name: 'direct-identifier',
        ssn: { class: 'direct-identifier', encrypt: true },
        'results[].code': 'clinical',
        'results[].comment': { class: 'free-text', encrypt: true },
      },
      disclose: {
        clinician: { TREAT: { '*': 'send' } },
        billing: { HPAYMT: { name: 'send', ssn: { op: 'partial', keep: 4 }, 'results[].code': 'send' } },
        'front-desk': { HOPERAT: { name: 'send', ssn: 'redact', 'results[].comment': { op: 'replace', with: '[withheld]' } } },
      },
    },
  },
});
const compiled = compilePolicy(policy, { secret: SECRET });
const record = {
  id: '1001',
  name: 'Jane Doe',
  ssn: '123-45-6789',
  results: [
    { code: '2345-7', comment: 'Patient reports fasting; retest' },
    { code: '718-7', comment: 'Hemolyzed sample' },
  ],
};

/** Counts decrypt calls, to prove which fields were never decrypted. */
function counting(cipher: FieldCipher) {
  const seen: string[] = [];
  const wrapped: FieldCipher = {
    ...cipher,
    encrypt: (v, c) => cipher.encrypt(v, c),
    decrypt: (s, c) => {
      seen.push(c.field!);
      return cipher.decrypt(s, c);
    },
  };
  return { wrapped, seen };
}

function setup() {
  const keyring = new TestKeyring();
  const store = createMemoryKeyStore();
  const cipher = createFieldCipher({ keyring, store });
  const records = createRecordCipher({ policy: compiled, cipher, tenant: 'acme', indexKey: new Uint8Array(32).fill(7) });
  return { keyring, store, cipher, records };
}

describe('record cipher', () => {
  it('encrypts exactly the encrypt: true fields, and decrypts them back', async () => {
    const { records } = setup();
    const sealed = await records.encryptRecord('Patient', record);
    expect(sealed.name).toBe('Jane Doe');
    expect(isCiphertext(sealed.ssn)).toBe(true);
    expect(sealed.results.map((r) => r.code)).toEqual(['2345-7', '718-7']);
    expect(sealed.results.every((r) => isCiphertext(r.comment))).toBe(true);
    expect(JSON.stringify(sealed)).not.toMatch(/123-45-6789|fasting|Hemolyzed/);
    expect(record.ssn).toBe('123-45-6789'); // the input is not modified
    expect(await records.decryptRecord('Patient', sealed)).toEqual(record);
    expect(await records.encryptRecord('Patient', sealed)).toEqual(sealed); // idempotent
  });

  it('binds each value to its record and field: a moved ciphertext fails', async () => {
    const { records } = setup();
    const a = await records.encryptRecord('Patient', record);
    const b = await records.encryptRecord('Patient', { ...record, id: '1002' });
    await expect(records.decryptRecord('Patient', { ...b, ssn: a.ssn })).rejects.toBeInstanceOf(DecryptError);
    const swapped = { ...a, results: [{ ...a.results[0]!, comment: a.ssn }, a.results[1]!] };
    await expect(records.decryptRecord('Patient', swapped)).rejects.toMatchObject({ reason: 'authentication' });
  });

  it('binds each value to the tenant', async () => {
    const { cipher } = setup();
    const acme = createRecordCipher({ policy: compiled, cipher, tenant: 'acme' });
    const other = createRecordCipher({ policy: compiled, cipher, tenant: 'other' });
    const sealed = await acme.encryptRecord('Patient', record);
    await expect(other.decryptRecord('Patient', sealed)).rejects.toBeInstanceOf(DecryptError);
  });

  it('decrypts only the fields asked for', async () => {
    const { records } = setup();
    const sealed = await records.encryptRecord('Patient', record);
    const partly = await records.decryptRecord('Patient', sealed, ['ssn']);
    expect(partly.ssn).toBe('123-45-6789');
    expect(isCiphertext(partly.results[0]!.comment)).toBe(true);
    await expect(records.decryptRecord('Patient', sealed, ['name'])).rejects.toThrow(/not an encrypted field/);
  });

  it('gives blind indexes that match equal values only, per field and per tenant', async () => {
    const { records, cipher } = setup();
    const i1 = records.blindIndex('Patient', 'ssn', '123456789');
    expect(records.blindIndex('Patient', 'ssn', '123456789')).toBe(i1);
    expect(records.blindIndex('Patient', 'ssn', '123456788')).not.toBe(i1);
    expect(records.blindIndex('Patient', 'name', '123456789')).not.toBe(i1);
    const other = createRecordCipher({ policy: compiled, cipher, tenant: 'other', indexKey: new Uint8Array(32).fill(7) });
    expect(other.blindIndex('Patient', 'ssn', '123456789')).not.toBe(i1);
    expect(Buffer.from(i1, 'base64url')).toHaveLength(8);
    expect(() => createRecordCipher({ policy: compiled, cipher }).blindIndex('Patient', 'ssn', 'x')).toThrow(/indexKey/);
  });

  it('refuses records without an id, and bad options', async () => {
    const { records, cipher } = setup();
    await expect(records.encryptRecord('Patient', { ...record, id: undefined })).rejects.toThrow(/has no id/);
    await expect(records.encryptRecord('Pateint', record)).rejects.toThrow(/did you mean "Patient"/);
    expect(() => createRecordCipher({ policy: compiled, cipher, context: { field: 'x' } })).toThrow(OptionsError);
    expect(() => createRecordCipher({ policy: compiled, cipher, indexKey: new Uint8Array(16) })).toThrow(/32 bytes/);
  });
});

describe('policy: encrypt: true', () => {
  it('requires the resource to declare its record id, and catches a misspelt encrypt', () => {
    expect(
      problemsOf(() =>
        compileUnchecked({ roles: ['r'], resources: { R: { fields: { s: { class: 'direct-identifier', encrypt: true } }, disclose: { r: { TREAT: { s: 'send' } } } } } }),
      ).join('\n'),
    ).toMatch(/must declare `id`/);
    expect(
      problemsOf(() =>
        compileUnchecked({ roles: ['r'], resources: { R: { id: 's', fields: { s: { class: 'direct-identifier', encrpyt: true } }, disclose: { r: { TREAT: { s: 'send' } } } } } }),
      ).join('\n'),
    ).toMatch(/unknown key "encrpyt".*did you mean "encrypt"/);
  });

  it('a guard over a policy with encrypted fields needs a cipher', () => {
    expect(() => createPhiGuard({ policy: compiled, audit: { write() {} } })).toThrow(/pass `cipher`/);
  });
});

describe('response pipeline with encrypted fields', () => {
  const events: AuditEvent[] = [];
  const run = async (roles: string[], purpose: string) => {
    const { cipher, records } = setup();
    const sealed = await records.encryptRecord('Patient', record);
    const { wrapped, seen } = counting(cipher);
    const guard = createPhiGuard({ policy: compiled, audit: { write: (e) => void events.push(e) }, cipher: wrapped, tenant: 'acme' });
    const decision = guard.authorize(ctx(roles, purpose), 'Patient', 'read');
    if (decision.effect !== 'allow') throw new Error('expected allow');
    const plaintexts = await guard.prepare(decision.plan, sealed);
    const out = guard.release(decision.plan, sealed, ctx(roles, purpose), 'read', plaintexts).value as Record<string, unknown>;
    return { out, seen: seen.sort() };
  };

  it('decrypts for a rule that sends the value', async () => {
    const { out, seen } = await run(['clinician'], 'TREAT');
    expect(out).toEqual(record);
    expect(seen).toEqual(['results[].comment', 'results[].comment', 'ssn']);
  });

  it('decrypts for a rule that transforms the value, and never decrypts a denied field', async () => {
    const { out, seen } = await run(['billing'], 'HPAYMT');
    expect(out).toEqual({ id: '1001', name: 'Jane Doe', ssn: '****6789', results: [{ code: '2345-7' }, { code: '718-7' }] });
    expect(seen).toEqual(['ssn']);
  });

  it('never decrypts a redacted or replaced field', async () => {
    const { out, seen } = await run(['front-desk'], 'HOPERAT');
    expect(out).toEqual({ id: '1001', name: 'Jane Doe', results: [{ comment: '[withheld]' }, { comment: '[withheld]' }] });
    expect(seen).toEqual([]);
  });

  it('refuses to hand a ciphertext to an operator when the caller skipped prepare', async () => {
    const { cipher, records } = setup();
    const sealed = await records.encryptRecord('Patient', record);
    const guard = createPhiGuard({ policy: compiled, audit: { write() {} }, cipher, tenant: 'acme' });
    const decision = guard.authorize(ctx(['billing'], 'HPAYMT'), 'Patient', 'read');
    if (decision.effect !== 'allow') throw new Error('expected allow');
    expect(() => guard.release(decision.plan, sealed, ctx(['billing'], 'HPAYMT'), 'read')).toThrow(DecryptError);
  });

  it('prepares nothing (synchronously) for a record held in the clear, and still releases it', async () => {
    const { cipher, records } = setup();
    const guard = createPhiGuard({ policy: compiled, audit: { write() {} }, cipher, tenant: 'acme' });
    for (const [roles, purpose] of [[['clinician'], 'TREAT'], [['billing'], 'HPAYMT']] as const) {
      const decision = guard.authorize(ctx([...roles], purpose), 'Patient', 'read');
      if (decision.effect !== 'allow') throw new Error('expected allow');
      // No promise to wait for: the release of a record without ciphertexts stays synchronous.
      expect(guard.prepare(decision.plan, record)).toBeNull();
      expect(guard.release(decision.plan, record, ctx([...roles], purpose), 'read').value).toMatchObject({ id: '1001', name: 'Jane Doe' });
    }
    // One encrypted value among clear ones still needs (and gets) its plaintext.
    const partly = { ...record, ssn: (await records.encryptRecord('Patient', record)).ssn };
    const decision = guard.authorize(ctx(['billing'], 'HPAYMT'), 'Patient', 'read');
    if (decision.effect !== 'allow') throw new Error('expected allow');
    const prepared = guard.prepare(decision.plan, partly);
    expect(prepared).toBeInstanceOf(Promise);
    const out = guard.release(decision.plan, partly, ctx(['billing'], 'HPAYMT'), 'read', await prepared).value as Record<string, unknown>;
    expect(out.ssn).toBe('****6789');
  });

  it('fails closed when the key service is down and no key is cached', async () => {
    const { records, store } = setup();
    const sealed = await records.encryptRecord('Patient', record);
    const down = new TestKeyring();
    down.down = true;
    const guard = createPhiGuard({ policy: compiled, audit: { write() {} }, cipher: createFieldCipher({ keyring: down, store }), tenant: 'acme' });
    const decision = guard.authorize(ctx(['clinician'], 'TREAT'), 'Patient', 'read');
    if (decision.effect !== 'allow') throw new Error('expected allow');
    await expect(guard.prepare(decision.plan, sealed)).rejects.toBeInstanceOf(KeyUnavailableError);
  });
});

describe('rotation', () => {
  it('re-wraps data keys under a new master key; values decrypt without being rewritten', async () => {
    const { store, records, keyring: oldKeyring } = setup();
    const sealed = await records.encryptRecord('Patient', record);
    const newKeyring = new TestKeyring();
    expect(await rewrapKeys({ store, from: oldKeyring, to: newKeyring })).toEqual({ rewrapped: 1 });
    expect([...store.list()][0]!.wrapped.map((w) => w.keyId)).toEqual([newKeyring.keyId]);
    const reader = createRecordCipher({ policy: compiled, cipher: createFieldCipher({ keyring: newKeyring, store }), tenant: 'acme' });
    expect(await reader.decryptRecord('Patient', sealed)).toEqual(record);
    const retired = createRecordCipher({ policy: compiled, cipher: createFieldCipher({ keyring: oldKeyring, store }), tenant: 'acme' });
    await expect(retired.decryptRecord('Patient', sealed)).rejects.toMatchObject({ reason: 'unwrap' });
  });

  it('stops at the first key it cannot unwrap, leaving the store as it was', async () => {
    const { store, records } = setup();
    await records.encryptRecord('Patient', record);
    const before = [...store.list()];
    await expect(rewrapKeys({ store, from: new TestKeyring(), to: new TestKeyring() })).rejects.toBeInstanceOf(DecryptError);
    expect([...store.list()]).toEqual(before);
  });

  it('streams records to a new data key with reencrypt', async () => {
    const { records, cipher } = setup();
    const keyIdOf = (s: string) => Buffer.from(s.slice(4), 'base64url').subarray(1, 17).toString('hex');
    const rows = await Promise.all(['1', '2', '3'].map((id) => records.encryptRecord('Patient', { ...record, id })));
    const oldKey = keyIdOf(rows[0]!.ssn);
    cipher.rotate();
    async function* source() {
      yield* rows;
    }
    const moved = [];
    for await (const row of reencrypt(source(), { resource: 'Patient', from: records, to: records })) moved.push(row);
    expect(moved).toHaveLength(3);
    for (const row of moved) {
      expect(keyIdOf(row.ssn)).not.toBe(oldKey);
      expect(row.ssn).not.toBe(rows[0]!.ssn);
      expect((await records.decryptRecord('Patient', row)).ssn).toBe('123-45-6789');
    }
  });
});
