/**
 * Key operations under audit and containment with a real HSM: core's createGovernedKeyring over a
 * Pkcs11Keyring on a throwaway SoftHSM2 token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyUnavailableError, createFieldCipher, type AccessContext, type AuditEvent } from '@phiguard/core';
import { createMemoryKeyStore } from '@phiguard/core/crypto';
import { createGovernedKeyring } from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { createPkcs11Key, createPkcs11Keyring, type Pkcs11Keyring } from '../src/index.js';
import { createSoftHsm, type SoftHsm, type SoftHsmToken } from './softhsm.js';

const CONTEXT = { tenant: 'clinic-7', resource: 'Patient', field: 'ssn', record: '1001' };
const custodian: AccessContext = { principal: { id: 'key.custodian' }, roles: ['key-custodian'] };
let hsm: SoftHsm;
let token: SoftHsmToken;
const open: Pkcs11Keyring[] = [];

beforeAll(async () => {
  hsm = createSoftHsm(['phiguard-governed']);
  token = hsm.tokens[0]!;
  await createPkcs11Key({ tokenLabel: token.label, pin: token.pin, keyLabel: 'master-2025' });
  await createPkcs11Key({ tokenLabel: token.label, pin: token.pin, keyLabel: 'master-2026' });
});
afterAll(async () => {
  for (const k of open) await k.close();
  hsm?.remove();
});
const hsmKeyring = (keyLabel: string) => {
  const k = createPkcs11Keyring({ tokenLabel: token.label, pin: token.pin, keyLabel });
  open.push(k);
  return k;
};

describe('createGovernedKeyring over PKCS#11 (SoftHSM2)', () => {
  it('audits every HSM operation, disables the master key on every instance sharing the store, and rotates to a new HSM key in one call', async () => {
    const events: AuditEvent[] = [];
    const audit = { write: (e: AuditEvent) => void events.push(e) };
    const state = createMemoryStateStore();
    const old = createGovernedKeyring({ keyring: hsmKeyring('master-2025'), audit, store: state, roles: ['key-custodian'] });
    const otherInstance = createGovernedKeyring({ keyring: hsmKeyring('master-2025'), audit, store: state, roles: ['key-custodian'] });
    const keys = createMemoryKeyStore();
    const cipher = createFieldCipher({ keyring: old, store: keys });
    const ciphertext = await cipher.encrypt('912-48-3571', CONTEXT);
    expect(events.map((e) => e.reason)).toEqual(['key:generate']);
    const keyId = events[0]!.resource.id!;
    expect(keyId).toMatch(/^pkcs11:/);
    expect(JSON.stringify(events)).not.toContain('912-48-3571');
    expect(JSON.stringify(events)).not.toContain(token.pin);

    // Rotation: the stored data key rewrapped under the 2026 key; old values still open.
    const next = createGovernedKeyring({ keyring: hsmKeyring('master-2026'), audit, store: state, roles: ['key-custodian'] });
    expect(await old.rotateNow(custodian, { cipher, keyStore: keys, from: old, to: next })).toEqual({ rewrapped: 1, reencrypted: 0 });
    expect(events.map((e) => e.reason)).toEqual(['key:generate', 'key:unwrap', 'key:wrap', 'key:rotate:1:0']);

    // Containment: the 2025 key disabled; the other instance refuses to use it; 2026 keeps working.
    await old.disable(custodian, keyId, 'custodian-departed');
    const stored = [...(keys.list() as Iterable<{ wrapped: readonly { keyId: string; ciphertext: Uint8Array }[] }>)][0]!;
    await expect(otherInstance.decryptDataKey([{ keyId, ciphertext: new Uint8Array(60) }], CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(otherInstance.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    const fresh = createFieldCipher({ keyring: next, store: keys });
    expect(await fresh.decrypt(ciphertext, CONTEXT)).toBe('912-48-3571');
    expect(stored.wrapped.every((w) => w.keyId !== keyId)).toBe(true);
    expect(events.filter((e) => e.outcome === 'denied').map((e) => e.reason)).toEqual(['key:unwrap-refused-disabled', 'key:generate-refused-disabled']);
  });
});
