import { inspect } from 'node:util';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptError, KeyUnavailableError, OptionsError } from '@phiguard/core';
import { createLocalKeyring, createMultiKeyring, createPkcs11Key, createPkcs11Keyring } from '../src/index.js';
import type { Pkcs11Keyring, Pkcs11KeyringOptions } from '../src/index.js';
import { createSoftHsm, slotOf, SOFTHSM_LIBRARY } from './softhsm.js';
import type { SoftHsm, SoftHsmToken } from './softhsm.js';

// PKCS#11 C_Initialize is process-wide: this file owns one SoftHSM2 instance (its own
// SOFTHSM2_CONF and token directory) and one direct pkcs11js handle used to inspect the token.
const CONTEXT = { tenant: 'clinic-7', resource: 'Patient', field: 'ssn', record: '1001' };
const KEY_LABEL = 'phiguard-master';

let hsm: SoftHsm;
let token: SoftHsmToken;
let spare: SoftHsmToken;
let direct: pkcs11js.PKCS11;
const open: Pkcs11Keyring[] = [];

beforeAll(async () => {
  hsm = createSoftHsm(['phiguard-test', 'phiguard-spare']);
  [token, spare] = hsm.tokens as [SoftHsmToken, SoftHsmToken];
  direct = new pkcs11js.PKCS11();
  direct.load(SOFTHSM_LIBRARY);
  direct.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  await createPkcs11Key({ tokenLabel: token.label, pin: token.pin, keyLabel: KEY_LABEL });
});

afterAll(async () => {
  for (const keyring of open) await keyring.close();
  direct?.C_Finalize();
  hsm?.remove();
});

function keyring(options: Partial<Pkcs11KeyringOptions> = {}): Pkcs11Keyring {
  const k = createPkcs11Keyring({ tokenLabel: token.label, pin: token.pin, keyLabel: KEY_LABEL, ...options });
  open.push(k);
  return k;
}

/** Opens a logged-in session of the test's own pkcs11js handle on `label`. */
function directSession(label: string, pin: string): Buffer {
  const slot = direct.C_GetSlotList(true).find((s) => direct.C_GetTokenInfo(s).label.trimEnd() === label)!;
  const session = direct.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    direct.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (error) {
    if ((error as Error).message !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
  }
  return session;
}

function findKey(session: Buffer, label: string): Buffer {
  direct.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
  const [key] = direct.C_FindObjects(session, 1);
  direct.C_FindObjectsFinal(session);
  if (!key) throw new Error(`no key ${label}`);
  return key;
}

describe('Pkcs11Keyring against a real SoftHSM2 token', () => {
  it('round trip: wraps with AES-GCM inside the HSM and unwraps under the same context', async () => {
    const k = keyring();
    const dataKey = await k.generateDataKey(CONTEXT);
    expect(dataKey.plaintext).toHaveLength(32);
    expect(dataKey.wrapped).toHaveLength(1);
    expect(dataKey.wrapped[0]!.keyId).toBe(`pkcs11:${KEY_LABEL}`);
    expect(dataKey.wrapped[0]!.ciphertext).toHaveLength(12 + 32 + 16);
    expect(await k.decryptDataKey(dataKey.wrapped, { ...CONTEXT })).toEqual(dataKey.plaintext);
    const again = await k.generateDataKey(CONTEXT);
    expect(again.plaintext).not.toEqual(dataKey.plaintext);
    expect(again.wrapped[0]!.ciphertext.subarray(0, 12)).not.toEqual(dataKey.wrapped[0]!.ciphertext.subarray(0, 12));
  });

  it('encryptDataKey wraps an existing data key', async () => {
    const k = keyring();
    const plaintext = new Uint8Array(32).fill(0x5a);
    const wrapped = await k.encryptDataKey(plaintext, CONTEXT);
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('a different context, a flipped bit or a truncated entry → DecryptError(unwrap)', async () => {
    const k = keyring();
    const { wrapped } = await k.generateDataKey(CONTEXT);
    await expect(k.decryptDataKey(wrapped, { ...CONTEXT, record: '1002' })).rejects.toEqual(new DecryptError('unwrap'));
    await expect(k.decryptDataKey(wrapped, {})).rejects.toEqual(new DecryptError('unwrap'));
    const entry = wrapped[0]!;
    for (const i of [0, 11, 12, 43, 44, 59]) {
      const flipped = Uint8Array.from(entry.ciphertext);
      flipped[i]! ^= 0x80;
      await expect(k.decryptDataKey([{ keyId: entry.keyId, ciphertext: flipped }], CONTEXT)).rejects.toEqual(
        new DecryptError('unwrap'),
      );
    }
    await expect(
      k.decryptDataKey([{ keyId: entry.keyId, ciphertext: entry.ciphertext.subarray(0, 50) }], CONTEXT),
    ).rejects.toEqual(new DecryptError('unwrap'));
    // Still usable after refusals: the failed operations did not leave the session busy.
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toHaveLength(32);
  });

  it('entries of other keyrings are refused without touching the HSM', async () => {
    const k = keyring({ keyLabel: 'no-such-key' });
    const local = await createLocalKeyring({ key: new Uint8Array(32) }).generateDataKey(CONTEXT);
    // The key does not exist, so any HSM call would fail with KeyUnavailableError instead.
    await expect(k.decryptDataKey(local.wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    await expect(k.decryptDataKey([], CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
  });

  it('a second keyring (a new session) decrypts what the first wrapped, also when chosen by slot', async () => {
    const first = keyring();
    const { plaintext, wrapped } = await first.generateDataKey(CONTEXT);
    await first.close();
    const second = keyring();
    expect(await second.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    const bySlot = keyring({ tokenLabel: undefined, slot: slotOf(token.label) });
    expect(await bySlot.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('close() ends the session; a later call opens a new one', async () => {
    const k = keyring();
    const { plaintext, wrapped } = await k.generateDataKey(CONTEXT);
    await k.close();
    await k.close();
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('serializes concurrent calls on one session', async () => {
    const k = keyring();
    const results = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const context = { ...CONTEXT, record: String(i) };
        const { plaintext, wrapped } = await k.generateDataKey(context);
        return (await k.decryptDataKey(wrapped, context)).every((b, j) => b === plaintext[j]);
      }),
    );
    expect(results).toEqual(Array(24).fill(true));
  });

  it('reopens a session the token closed under it', async () => {
    const k = keyring({ tokenLabel: undefined, slot: slotOf(token.label) });
    const { plaintext, wrapped } = await k.generateDataKey(CONTEXT);
    const slot = direct.C_GetSlotList(true).find((s) => direct.C_GetTokenInfo(s).label.trimEnd() === token.label)!;
    direct.C_CloseAllSessions(slot);
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('the master key is sensitive and not extractable: C_GetAttributeValue(CKA_VALUE) fails', () => {
    const session = directSession(token.label, token.pin);
    try {
      const key = findKey(session, KEY_LABEL);
      expect(() => direct.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
        'CKR_ATTRIBUTE_SENSITIVE',
      );
      const [sensitive, extractable, alwaysSensitive, neverExtractable, length] = direct
        .C_GetAttributeValue(session, key, [
          { type: pkcs11js.CKA_SENSITIVE },
          { type: pkcs11js.CKA_EXTRACTABLE },
          { type: pkcs11js.CKA_ALWAYS_SENSITIVE },
          { type: pkcs11js.CKA_NEVER_EXTRACTABLE },
          { type: pkcs11js.CKA_VALUE_LEN },
        ])
        .map((a) => a.value);
      expect([sensitive?.[0], extractable?.[0], alwaysSensitive?.[0], neverExtractable?.[0]]).toEqual([1, 0, 1, 1]);
      expect(length?.readUInt32LE(0)).toBe(32);
    } finally {
      direct.C_CloseSession(session);
    }
  });

  it('refuses a master key that could leave the HSM', async () => {
    const session = directSession(token.label, token.pin);
    try {
      direct.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_LABEL, value: 'extractable' },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: false },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
      ]);
    } finally {
      direct.C_CloseSession(session);
    }
    await expect(keyring({ keyLabel: 'extractable' }).generateDataKey(CONTEXT)).rejects.toThrow(
      /CKA_SENSITIVE true and CKA_EXTRACTABLE false/,
    );
  });

  it('createKey refuses an existing label unless told to keep it', async () => {
    await expect(createPkcs11Key({ tokenLabel: token.label, pin: token.pin, keyLabel: KEY_LABEL })).rejects.toThrow(
      OptionsError,
    );
    expect(
      await createPkcs11Key({ tokenLabel: token.label, pin: token.pin, keyLabel: KEY_LABEL, ifExists: 'keep' }),
    ).toBe(`pkcs11:${KEY_LABEL}`);
    expect(await createPkcs11Key({ tokenLabel: token.label, pin: token.pin, keyLabel: 'second' })).toBe('pkcs11:second');
    const a = keyring();
    const b = keyring({ keyLabel: 'second' });
    const { wrapped } = await a.generateDataKey(CONTEXT);
    // Same token, another master key: not its entry.
    await expect(b.decryptDataKey([{ keyId: b.keyId, ciphertext: wrapped[0]!.ciphertext }], CONTEXT)).rejects.toEqual(
      new DecryptError('unwrap'),
    );
  });

  it('a missing token, a missing key or a wrong PIN → KeyUnavailableError without the PIN', async () => {
    await expect(keyring({ tokenLabel: 'absent' }).generateDataKey(CONTEXT)).rejects.toThrow(/No initialized token labelled "absent"/);
    await expect(keyring({ keyLabel: 'absent-key' }).generateDataKey(CONTEXT)).rejects.toThrow(
      /no AES key labelled "absent-key".*createPkcs11Key/,
    );
    // The spare token has no session in this process, so its login is really checked.
    const wrongPin = 'wrong-pin-730001';
    const error = await keyring({ tokenLabel: spare.label, pin: wrongPin }).generateDataKey(CONTEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyUnavailableError);
    expect((error as Error).message).toMatch(/C_Login failed \(CKR_PIN_INCORRECT\)/);
    const shown = `${String(error)} ${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`;
    expect(shown).not.toContain(wrongPin);
    expect(shown).not.toContain(spare.pin);
  });

  it('wraps a disaster-recovery copy next to another keyring and unwraps it alone', async () => {
    const local = createLocalKeyring({ key: new Uint8Array(32).fill(1) });
    const multi = createMultiKeyring({ generator: local, children: [keyring()] });
    const { plaintext, wrapped } = await multi.generateDataKey(CONTEXT);
    expect(wrapped.map((w) => w.keyId)).toEqual([local.keyId, `pkcs11:${KEY_LABEL}`]);
    expect(await keyring().decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('validates its options eagerly', () => {
    const base = { tokenLabel: 'x', pin: '1234', keyLabel: 'k' };
    expect(() => createPkcs11Keyring({ ...base, library: '/nonexistent/libpkcs11.so' })).toThrow(
      /does not exist.*apt-get install softhsm2/s,
    );
    expect(() => createPkcs11Keyring({ ...base, slot: 1 })).toThrow(/exactly one of `tokenLabel` and `slot`/);
    expect(() => createPkcs11Keyring({ pin: '1234', keyLabel: 'k' })).toThrow(/exactly one/);
    expect(() => createPkcs11Keyring({ ...base, pin: '' })).toThrow(/pin/);
    expect(() => createPkcs11Keyring({ ...base, keyLabel: '' })).toThrow(/keyLabel/);
    expect(() => createPkcs11Keyring({ ...base, slot: undefined, tokenLable: 'x' } as never)).toThrow(/did you mean "tokenLabel"/);
  });

  it('never shows the PIN in inspect, toString or JSON', () => {
    const k = keyring();
    for (const text of [inspect(k, { showHidden: true, depth: 10 }), String(k), JSON.stringify(k)]) {
      expect(text).not.toContain(token.pin);
    }
    expect(String(k)).toBe(`Pkcs11Keyring(pkcs11:${KEY_LABEL})`);
    expect(Object.values(k)).not.toContain(token.pin);
  });
});
