import { describe, expect, it } from 'vitest';
import {
  KeyUnavailableError,
  compilePolicy,
  createFieldCipher,
  definePolicy,
  type AccessContext,
  type AuditEvent,
} from '@phiguard/core';
import { createMemoryKeyStore, createRecordCipher } from '@phiguard/core/crypto';
import { createGovernedKeyring } from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { TestKeyring } from '../crypto/test-keyring.js';

const custodian: AccessContext = { principal: { id: 'sec.ops' }, roles: ['key-custodian'] };
const ctx = { tenant: 't1', resource: 'Chart', field: 'patient.ssn', id: 'c1' };

function world() {
  const events: AuditEvent[] = [];
  const store = createMemoryStateStore();
  const inner = new TestKeyring('test:primary');
  const keyring = createGovernedKeyring({ keyring: inner, audit: { write: (e) => void events.push(e) }, store, roles: ['key-custodian'] });
  // A second instance sharing the store.
  const other = createGovernedKeyring({ keyring: inner, audit: { write: (e) => void events.push(e) }, store, roles: ['key-custodian'] });
  return { events, keyring, other, inner, store };
}

describe('key operations under audit and containment', () => {
  it('every generate, wrap and unwrap is an audit event naming the master key, never key bytes or context values', async () => {
    const { events, keyring } = world();
    const cipher = createFieldCipher({ keyring });
    const c = await cipher.encrypt('512-44-9081', ctx);
    cipher.clear();
    expect(await cipher.decrypt(c, ctx)).toBe('512-44-9081');
    expect(events.map((e) => [e.action, e.reason, e.resource])).toEqual([
      ['create', 'key:generate', { type: 'MasterKey', id: 'test:primary' }],
      ['read', 'key:unwrap', { type: 'MasterKey', id: 'test:primary' }],
    ]);
    const text = JSON.stringify(events);
    for (const v of ['512-44-9081', 'patient.ssn', 't1']) expect(text).not.toContain(v);
  });

  it('a disabled master key refuses generate and unwrap on every instance, audited; enabled again it works', async () => {
    const { events, keyring, other } = world();
    const wrapped = (await keyring.generateDataKey(ctx)).wrapped;
    await expect(keyring.disable({ principal: { id: 'x' }, roles: ['billing'] }, 'test:primary', 'incident')).rejects.toMatchObject({ status: 403 });
    await keyring.disable(custodian, 'test:primary', 'incident:7');
    expect(events.at(-1)).toMatchObject({ action: 'update', reason: 'key:disable:incident:7', actor: { id: 'sec.ops' } });
    await expect(other.decryptDataKey(wrapped, ctx)).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(other.generateDataKey(ctx)).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(other.encryptDataKey(new Uint8Array(32), ctx)).rejects.toBeInstanceOf(KeyUnavailableError);
    expect(events.slice(-3).map((e) => [e.outcome, e.reason])).toEqual([
      ['denied', 'key:unwrap-refused-disabled'],
      ['denied', 'key:generate-refused-disabled'],
      ['denied', 'key:wrap-refused-disabled'],
    ]);
    await keyring.enable(custodian, 'test:primary');
    expect(await other.decryptDataKey(wrapped, ctx)).toHaveLength(32);
  });

  it('rotateNow: fresh data keys for new values and every stored key rewrapped under the new master key, in one audited call', async () => {
    const { events, keyring } = world();
    const store = createMemoryKeyStore();
    const cipher = createFieldCipher({ keyring, store });
    const before = await cipher.encrypt('value one', ctx);
    const next = new TestKeyring('test:next');
    const { rewrapped } = await keyring.rotateNow(custodian, { cipher, keyStore: store, from: keyring, to: next });
    expect(rewrapped).toBe(1);
    expect(events.at(-1)).toMatchObject({ action: 'update', reason: 'key:rotate:1:0', actor: { id: 'sec.ops' } });
    // The old ciphertext now opens with the new master key alone.
    const after = createFieldCipher({ keyring: next, store });
    expect(await after.decrypt(before, ctx)).toBe('value one');
    // New values get a new data key.
    const fresh = await cipher.encrypt('value two', ctx);
    expect(fresh.slice(0, 40)).not.toBe(before.slice(0, 40));
    await expect(keyring.rotateNow(custodian, { keyStore: store })).rejects.toThrow(/from.*to/);
    await expect(keyring.rotateNow({ principal: { id: 'x' }, roles: [] }, { cipher })).rejects.toMatchObject({ status: 403 });
  });

  it('rotateNow re-encrypts records to fresh data keys in the same call', async () => {
    const { events, keyring } = world();
    const policy = definePolicy({
      roles: ['clinician'],
      resources: { Patient: { id: 'id', fields: { id: 'non-phi', ssn: { class: 'direct-identifier', encrypt: true } }, disclose: { clinician: { TREAT: { '*': 'send' } } } } },
    });
    const compiled = compilePolicy(policy, { secret: 'governance-test-secret-0123456789abcdef' });
    const cipher = createFieldCipher({ keyring });
    const records = createRecordCipher({ policy: compiled, cipher });
    const rows = await Promise.all(['1', '2', '3'].map((id) => records.encryptRecord('Patient', { id, ssn: `512-44-908${id}` })));
    const saved: { id: string; ssn: string }[] = [];
    const out = await keyring.rotateNow(custodian, { cipher, reencrypt: { records: rows, resource: 'Patient', from: records, to: records, save: (r) => void saved.push(r as { id: string; ssn: string }) } });
    expect(out).toEqual({ rewrapped: 0, reencrypted: 3 });
    expect(events.at(-1)).toMatchObject({ reason: 'key:rotate:0:3' });
    // New ciphertexts, under a data key other than the old one, decrypting to the same values.
    expect(saved.map((r) => r.ssn)).not.toEqual(rows.map((r) => r.ssn));
    expect((await Promise.all(saved.map((r) => records.decryptRecord('Patient', r)))).map((r) => (r as { ssn: string }).ssn)).toEqual(['512-44-9081', '512-44-9082', '512-44-9083']);
    // One data key before the rotation, a fresh one for the re-encrypted records.
    expect(events.filter((e) => e.reason === 'key:generate')).toHaveLength(2);
  });

  it('a failing audit sink fails the key operation closed', async () => {
    const keyring = createGovernedKeyring({ keyring: new TestKeyring(), audit: { write: () => Promise.reject(new Error('down')) }, store: createMemoryStateStore(), roles: ['k'] });
    await expect(keyring.generateDataKey(ctx)).rejects.toMatchObject({ code: 'audit_unavailable' });
    expect(() => createGovernedKeyring({ keyring: new TestKeyring(), audit: { write: () => undefined }, store: createMemoryStateStore(), roles: ['k'], servce: 'x' } as never)).toThrow(/did you mean "service"/);
  });
});
