import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type * as Pkcs11Types from 'pkcs11js';
import { DecryptError, KeyUnavailableError, OptionsError } from '@phiguard/core';
import { encodeContext } from '@phiguard/core/crypto';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { importPeer, requirePeer } from './peer.js';
import { option, optionIssue, optionsSchema } from '@phiguard/core/adapter';
import { checkContext, checkDataKey, checkWrapped, DATA_KEY_BYTES } from './util.js';

type Pkcs11Module = typeof Pkcs11Types;
type Handle = Buffer;

/** Debian's SoftHSM2 module; pass `library` for a hardware HSM's module. */
const DEFAULT_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = IV_BYTES + DATA_KEY_BYTES + TAG_BYTES;

/** Where the master key lives. Give exactly one of `tokenLabel` and `slot`. */
export interface Pkcs11KeyringOptions {
  /** Path of the PKCS#11 module. Default `/usr/lib/softhsm/libsofthsm2.so`. */
  library?: string;
  /** Label of the token holding the key. */
  tokenLabel?: string;
  /** Slot ID (as `softhsm2-util --show-slots` prints it) of the token holding the key. */
  slot?: number;
  /** User PIN of the token. Kept in a private field; never logged or put in an error. */
  pin: string;
  /** `CKA_LABEL` of the AES-256 master key on the token; entries are named `pkcs11:<keyLabel>`. */
  keyLabel: string;
}

/** Options of {@link createPkcs11Key}. */
export interface Pkcs11CreateKeyOptions extends Pkcs11KeyringOptions {
  /** What to do when a key with `keyLabel` already exists: fail (default) or keep it. */
  ifExists?: 'error' | 'keep';
}

const LABEL = 'createPkcs11Keyring';
const KEY_LABEL = 'createPkcs11Key';
const NON_EMPTY = (v: string) => v !== '';
const SHAPE = {
  library: option.string('the path of a PKCS#11 module', NON_EMPTY),
  tokenLabel: option.string('a non-empty token label', NON_EMPTY),
  slot: option.atLeast(0, 'a slot ID (a non-negative integer)'),
  pin: option.required(option.string("the token's user PIN (a non-empty string)", NON_EMPTY)),
  keyLabel: option.required(option.string('the label of the AES master key (a non-empty string)', NON_EMPTY)),
};
const OPTIONS = optionsSchema<Pkcs11KeyringOptions>(LABEL, SHAPE);
const KEY_OPTIONS = optionsSchema<Pkcs11CreateKeyOptions>(KEY_LABEL, { ...SHAPE, ifExists: option.oneOf(['error', 'keep'] as const) });

/** A keyring whose master key is held by a PKCS#11 token. */
export interface Pkcs11Keyring extends Keyring {
  /** `pkcs11:<keyLabel>`. */
  readonly keyId: string;
  /** `CKA_LABEL` of the master key on the token. */
  readonly keyLabel: string;
  /** Path of the PKCS#11 module. */
  readonly library: string;
  /** Closes the session (which logs it out). A later call opens a new one. */
  close(): Promise<void>;
}

/** PKCS#11 answers to C_Decrypt that mean "not this key, or not this context". */
const REFUSED = new Set([
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  // SoftHSM2 reports a GCM tag mismatch as CKR_GENERAL_ERROR from C_Decrypt.
  'CKR_GENERAL_ERROR',
  'CKR_FUNCTION_FAILED',
]);
/** Answers after which the session is unusable: open a new one. */
const SESSION_LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_DEVICE_ERROR',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
]);

/** A loaded, initialized PKCS#11 module. C_Initialize is process-wide, so keyrings share it. */
interface Library {
  readonly path: string;
  readonly api: Pkcs11Types.PKCS11;
  readonly p: Pkcs11Module;
  /** Whether this process's C_Initialize was ours (so C_Finalize is ours too). */
  readonly owned: boolean;
  refs: number;
}

const libraries = new Map<string, Library>();
let pkcs11js: Promise<Pkcs11Module> | undefined;

async function acquireLibrary(path: string): Promise<Library> {
  // Loaded on first use so that importing @phiguard/kms never loads the native addon.
  pkcs11js ??= importPeer<Pkcs11Module>(
    'pkcs11js',
    LABEL,
    () =>
      new KeyUnavailableError(
        'The pkcs11js native addon could not be loaded (not built, or built for another Node version): ' +
          'with npm 11 approve its build script (`npm install-scripts approve pkcs11js`), then run `npm rebuild pkcs11js`.',
      ),
  );
  let p: Pkcs11Module;
  try {
    p = await pkcs11js;
  } catch (error) {
    pkcs11js = undefined; // a later call tries again
    throw error;
  }
  let library = libraries.get(path);
  if (library === undefined) {
    const api = new p.PKCS11();
    try {
      api.load(path);
    } catch {
      throw new KeyUnavailableError(`Cannot load the PKCS#11 module ${path}.`);
    }
    let owned = true;
    try {
      // OS locking: sessions of different keyrings may run on libuv threads at once.
      api.C_Initialize({ flags: p.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (ckr(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        throw new KeyUnavailableError(
          `C_Initialize of the PKCS#11 module failed (${ckr(error)}); for SoftHSM2 check SOFTHSM2_CONF and its token directory.`,
        );
      }
      owned = false;
    }
    library = { path, api, p, owned, refs: 0 };
    libraries.set(path, library);
  }
  library.refs++;
  return library;
}

function releaseLibrary(library: Library): void {
  if (--library.refs > 0) return;
  libraries.delete(library.path);
  if (!library.owned) return;
  try {
    library.api.C_Finalize();
  } catch {
    // Finalizing is best effort: nothing more can be done with the module.
  }
}

interface Session {
  readonly library: Library;
  readonly handle: Handle;
  readonly key: Handle;
}

/**
 * Wraps data keys under an AES-256 key held by a PKCS#11 token (a hardware HSM, or SoftHSM2 for
 * development and tests). The master key is created non-extractable and sensitive
 * (`CKA_EXTRACTABLE` false, `CKA_SENSITIVE` true), and the keyring refuses any other: it never
 * leaves the HSM. Each data key is encrypted inside the HSM with CKM_AES_GCM, a random 96-bit IV
 * and the encoded encryption context as AAD.
 *
 * Wrapped entry: `IV (12) | encrypted data key (32) | tag (16)`, named `pkcs11:<keyLabel>`.
 *
 * One session per keyring: opened and logged in on first use, reused, and used by one call at a
 * time. `close()` closes it; a later call opens a new one. A session lost to a
 * device or token error is reopened once before the call fails with `KeyUnavailableError`.
 */
export function createPkcs11Keyring(options: Pkcs11KeyringOptions): Pkcs11Keyring {
  const parsed = OPTIONS.parse(options ?? null);
  /* Precondition: pkcs11js is installed (an optional peer of @phiguard/kms). */
  requirePeer('pkcs11js', LABEL);
  return new Token(parsed, checkPkcs11Options(LABEL, parsed));
}

/**
 * Generates the AES-256 master key on the token, for setup: `CKA_TOKEN`, `CKA_PRIVATE`,
 * `CKA_SENSITIVE` true, `CKA_EXTRACTABLE` false, usable for encrypt and decrypt only.
 * @returns the key id entries will carry, `pkcs11:<keyLabel>`.
 */
export async function createPkcs11Key(options: Pkcs11CreateKeyOptions): Promise<string> {
  KEY_OPTIONS.parse(options ?? null);
  requirePeer('pkcs11js', KEY_LABEL);
  const { library: path, token } = checkPkcs11Options(KEY_LABEL, options);
  const library = await acquireLibrary(path);
  const { api, p } = library;
  let session: Handle | undefined;
  try {
    session = openSession(library, token, options.pin, true);
    const existing = findKeys(api, p, session, options.keyLabel);
    if (existing.length > 0) {
      if (options.ifExists === 'keep') return `pkcs11:${options.keyLabel}`;
      throw new OptionsError(
        `createPkcs11Key: the token already holds a key labelled "${options.keyLabel}"; ` +
          "choose another label or pass ifExists: 'keep'.",
      );
    }
    try {
      api.C_GenerateKey(session, { mechanism: p.CKM_AES_KEY_GEN }, [
        { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
        { type: p.CKA_KEY_TYPE, value: p.CKK_AES },
        { type: p.CKA_VALUE_LEN, value: DATA_KEY_BYTES },
        { type: p.CKA_LABEL, value: options.keyLabel },
        { type: p.CKA_TOKEN, value: true },
        { type: p.CKA_PRIVATE, value: true },
        { type: p.CKA_SENSITIVE, value: true },
        { type: p.CKA_EXTRACTABLE, value: false },
        { type: p.CKA_ENCRYPT, value: true },
        { type: p.CKA_DECRYPT, value: true },
        { type: p.CKA_WRAP, value: false },
        { type: p.CKA_UNWRAP, value: false },
        { type: p.CKA_SIGN, value: false },
        { type: p.CKA_VERIFY, value: false },
      ]);
    } catch (error) {
      throw new KeyUnavailableError(`C_GenerateKey failed (${ckr(error)}).`);
    }
    return `pkcs11:${options.keyLabel}`;
  } finally {
    if (session !== undefined) closeQuietly(api, session);
    releaseLibrary(library);
  }
}

class Token implements Pkcs11Keyring {
  /** `pkcs11:<keyLabel>`. */
  readonly keyId: string;
  readonly keyLabel: string;
  readonly library: string;
  readonly #token: { readonly label: string } | { readonly slot: number };
  readonly #pin: string;
  #session: Session | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: Pkcs11KeyringOptions, checked: { library: string; token: { label: string } | { slot: number } }) {
    this.library = checked.library;
    this.#token = checked.token;
    this.#pin = options.pin;
    this.keyLabel = options.keyLabel;
    this.keyId = `pkcs11:${options.keyLabel}`;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    checkContext('Pkcs11Keyring', context);
    const plaintext = new Uint8Array(randomBytes(DATA_KEY_BYTES));
    try {
      return { plaintext, wrapped: [await this.#wrap(plaintext, context)] };
    } catch (error) {
      plaintext.fill(0);
      throw error;
    }
  }

  async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
    checkDataKey('Pkcs11Keyring', plaintext);
    checkContext('Pkcs11Keyring', context);
    return [await this.#wrap(plaintext, context)];
  }

  async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
    checkWrapped('Pkcs11Keyring', wrapped);
    checkContext('Pkcs11Keyring', context);
    const mine = wrapped.filter((entry) => entry.keyId === this.keyId && entry.ciphertext.length === WRAPPED_BYTES);
    if (mine.length === 0) throw new DecryptError('unwrap');
    const aad = encodeContext(context);
    return this.#exclusive(async () => {
      for (const entry of mine) {
        const bytes = Buffer.from(entry.ciphertext);
        const plaintext = await this.#withSession(async ({ library: { api, p }, handle, key }) => {
          try {
            api.C_DecryptInit(handle, gcm(p, bytes.subarray(0, IV_BYTES), aad), key);
          } catch (error) {
            throw unavailable('C_DecryptInit', error);
          }
          try {
            return await api.C_DecryptAsync(handle, bytes.subarray(IV_BYTES), Buffer.alloc(WRAPPED_BYTES));
          } catch (error) {
            if (REFUSED.has(ckr(error))) return undefined;
            throw unavailable('C_Decrypt', error);
          }
        });
        if (plaintext?.length === DATA_KEY_BYTES) {
          const out = new Uint8Array(plaintext);
          plaintext.fill(0);
          return out;
        }
        plaintext?.fill(0);
      }
      throw new DecryptError('unwrap');
    });
  }

  /** Closes the session (which logs it out). A later call opens a new one. */
  async close(): Promise<void> {
    await this.#exclusive(async () => this.#drop());
  }

  toString(): string {
    return `Pkcs11Keyring(${this.keyId})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #wrap(plaintext: Uint8Array, context: EncryptionContext): Promise<WrappedKey> {
    const aad = encodeContext(context);
    return this.#exclusive(() =>
      this.#withSession(async ({ library: { api, p }, handle, key }) => {
        const iv = randomBytes(IV_BYTES);
        const input = Buffer.from(plaintext);
        let body: Buffer;
        try {
          api.C_EncryptInit(handle, gcm(p, iv, aad), key);
          body = await api.C_EncryptAsync(handle, input, Buffer.alloc(WRAPPED_BYTES));
        } catch (error) {
          throw unavailable('C_Encrypt', error);
        } finally {
          input.fill(0);
        }
        if (body.length !== DATA_KEY_BYTES + TAG_BYTES) {
          throw new KeyUnavailableError('The HSM answered C_Encrypt with an unexpected length; failed closed.');
        }
        return { keyId: this.keyId, ciphertext: new Uint8Array(Buffer.concat([iv, body])) };
      }),
    );
  }

  /** Runs `task` after every earlier call of this keyring has settled: one operation per session. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `task` on the session, opening it first; reopens once if the session was lost. */
  async #withSession<T>(task: (session: Session) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const session = this.#session ?? (await this.#open());
      try {
        return await task(session);
      } catch (error) {
        if (!(error instanceof SessionLost)) throw error;
        this.#drop();
        if (attempt >= 2) throw new KeyUnavailableError(`The HSM session failed (${error.code}); the operation failed closed.`);
      }
    }
  }

  async #open(): Promise<Session> {
    const library = await acquireLibrary(this.library);
    try {
      const handle = openSession(library, this.#token, this.#pin, false);
      try {
        const key = this.#findMasterKey(library, handle);
        this.#session = { library, handle, key };
        return this.#session;
      } catch (error) {
        closeQuietly(library.api, handle);
        throw error;
      }
    } catch (error) {
      releaseLibrary(library);
      throw error;
    }
  }

  #findMasterKey({ api, p }: Library, session: Handle): Handle {
    const keys = findKeys(api, p, session, this.keyLabel);
    const [key] = keys;
    if (key === undefined) {
      throw new KeyUnavailableError(
        `The token holds no AES key labelled "${this.keyLabel}"; create it with createPkcs11Key.`,
      );
    }
    if (keys.length > 1) {
      throw new KeyUnavailableError(`The token holds several keys labelled "${this.keyLabel}"; labels must be unique.`);
    }
    let attributes: Pkcs11Types.AttributeResult[];
    try {
      attributes = api.C_GetAttributeValue(session, key, [
        { type: p.CKA_SENSITIVE },
        { type: p.CKA_EXTRACTABLE },
        { type: p.CKA_VALUE_LEN },
      ]);
    } catch (error) {
      throw new KeyUnavailableError(`Reading the master key's attributes failed (${ckr(error)}).`);
    }
    const [sensitive, extractable, valueLen] = attributes.map((a) => a.value);
    /* Precondition: the master key is AES-256, sensitive and not extractable, so it never leaves the HSM. */
    if (sensitive?.[0] !== 1 || extractable?.[0] !== 0 || valueLen?.readUIntLE(0, Math.min(valueLen.length, 6)) !== 32) {
      throw new KeyUnavailableError(
        `The key labelled "${this.keyLabel}" must be AES-256 with CKA_SENSITIVE true and CKA_EXTRACTABLE false; ` +
          'create one with createPkcs11Key.',
      );
    }
    return key;
  }

  #drop(): void {
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    closeQuietly(session.library.api, session.handle);
    releaseLibrary(session.library);
  }
}

/** Thrown inside a session task when the session must be reopened. */
class SessionLost extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function checkPkcs11Options(
  owner: string,
  options: Pkcs11KeyringOptions,
): { library: string; token: { label: string } | { slot: number } } {
  const library = options.library ?? DEFAULT_LIBRARY;
  /* Precondition: the PKCS#11 module exists. */
  if (!existsSync(library)) {
    throw new OptionsError(
      `${owner}: the PKCS#11 module ${library} does not exist. For SoftHSM2 install it ` +
        '(`apt-get install softhsm2`, or `scripts/services softhsm`); for a hardware HSM pass its module as `library`.',
    );
  }
  /* Precondition: exactly one of tokenLabel and slot. */
  if ((options.tokenLabel === undefined) === (options.slot === undefined)) {
    throw optionIssue(owner, options.slot === undefined ? 'tokenLabel' : 'slot', 'exactly one of `tokenLabel` and `slot`', options.slot, options.slot === undefined ? 'missing' : 'invalid');
  }
  const token = options.tokenLabel !== undefined ? { label: options.tokenLabel } : { slot: options.slot! };
  return { library, token };
}

/** Opens a session on the token and logs the user in. */
function openSession(
  { api, p }: Library,
  token: { label: string } | { slot: number },
  pin: string,
  readWrite: boolean,
): Handle {
  let slot: Handle | undefined;
  try {
    slot = api.C_GetSlotList(true).find((candidate) =>
      'label' in token ? api.C_GetTokenInfo(candidate).label.trimEnd() === token.label : slotId(candidate) === token.slot,
    );
  } catch (error) {
    throw new KeyUnavailableError(`Listing the HSM's tokens failed (${ckr(error)}).`);
  }
  if (slot === undefined) {
    throw new KeyUnavailableError(
      'label' in token
        ? `No initialized token labelled "${token.label}" is present.`
        : `No initialized token is present in slot ${token.slot}.`,
    );
  }
  let session: Handle;
  try {
    session = api.C_OpenSession(slot, p.CKF_SERIAL_SESSION | (readWrite ? p.CKF_RW_SESSION : 0));
  } catch (error) {
    throw new KeyUnavailableError(`C_OpenSession failed (${ckr(error)}).`);
  }
  try {
    api.C_Login(session, p.CKU_USER, pin);
  } catch (error) {
    // Login state is per application and token: another session of this process logged in.
    if (ckr(error) !== 'CKR_USER_ALREADY_LOGGED_IN') {
      closeQuietly(api, session);
      throw new KeyUnavailableError(`C_Login failed (${ckr(error)}); check the token's user PIN.`);
    }
  }
  return session;
}

function findKeys(api: Pkcs11Types.PKCS11, p: Pkcs11Module, session: Handle, label: string): Handle[] {
  try {
    api.C_FindObjectsInit(session, [
      { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
      { type: p.CKA_KEY_TYPE, value: p.CKK_AES },
      { type: p.CKA_LABEL, value: label },
    ]);
    try {
      return api.C_FindObjects(session, 2);
    } finally {
      api.C_FindObjectsFinal(session);
    }
  } catch (error) {
    throw new KeyUnavailableError(`Looking up the master key failed (${ckr(error)}).`);
  }
}

function gcm(p: Pkcs11Module, iv: Buffer, aad: Buffer): Pkcs11Types.Mechanism {
  return {
    mechanism: p.CKM_AES_GCM,
    parameter: { type: p.CK_PARAMS_AES_GCM, iv, aad, ivBits: IV_BYTES * 8, tagBits: TAG_BYTES * 8 } as Pkcs11Types.AesGCM,
  };
}

/** Maps an error of an operation on an open session: lost session (reopen) or unavailable. */
function unavailable(operation: string, error: unknown): Error {
  const code = ckr(error);
  if (SESSION_LOST.has(code)) return new SessionLost(code);
  return new KeyUnavailableError(`${operation} failed (${code}); the operation failed closed.`);
}

/** The CKR_ name of a pkcs11js error; nothing else of it (messages may quote arguments). */
function ckr(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /^CKR_[A-Z0-9_]+$/.test(message) ? message : 'native error';
}

/** A CK_SLOT_ID from its handle (little-endian CK_ULONG on the platforms Node supports). */
function slotId(handle: Handle): number {
  return Number(handle.length >= 8 ? handle.readBigUInt64LE(0) : BigInt(handle.readUInt32LE(0)));
}

function closeQuietly(api: Pkcs11Types.PKCS11, session: Handle): void {
  try {
    api.C_CloseSession(session);
  } catch {
    // The session is gone already.
  }
}
