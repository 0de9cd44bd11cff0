/**
 * Key operations under audit and containment (45 CFR 164.312(a)(2)(iv) encryption,
 * 164.312(b) audit controls, 164.308(a)(6)(ii) response): every generate, wrap and unwrap of
 * a data key is an audit event; a master key can be disabled on every instance at once; and a
 * rotation (new data keys, stored keys rewrapped) is one call.
 */
import { actionEvent, denialEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import type { KeyStore, StoredDataKey } from '../crypto/key-store.js';
import type { DataKey, EncryptionContext, Keyring, WrappedKey } from '../crypto/keyring.js';
import type { RecordCipher } from '../crypto/records.js';
import { reencrypt, rewrapKeys } from '../crypto/rotation.js';
import { AccessDeniedError, KeyUnavailableError, OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { GOVERNANCE_OPTIONS, audited, hasRole, type GovernanceAudit } from './common.js';
import { option, optionsSchema } from '../options.js';

/** Options of {@link governedKeyring}. */
export interface GovernedKeyringOptions {
  readonly keyring: Keyring;
  readonly audit: GovernanceAudit;
  /** Where disabled master keys are listed (RedisStateStore shared by every instance). */
  readonly store: StateStore;
  /** Roles that may disable, enable and rotate keys (security officer, key custodians). */
  readonly roles: readonly string[];
  /** The service the keyring runs in, recorded as the actor of key events. Default `phiguard`. */
  readonly service?: string;
}

/** A keyring whose operations are audited and whose master keys can be disabled. */
export interface GovernedKeyring extends Keyring {
  /** Refuses every further use of a master key (by keyId) on every instance. Audited. */
  disable(context: AccessContext, keyId: string, reason: string): Promise<void>;
  enable(context: AccessContext, keyId: string): Promise<void>;
  /**
   * Rotates now: the cipher stops using its current data keys (the next value gets a fresh one),
   * and every stored data key (or those `filter` picks, such as keys of a departing custodian)
   * is rewrapped from `from` to `to`. Audited with the count.
   */
  rotateNow(context: AccessContext, options: RotateNowOptions): Promise<{ readonly rewrapped: number; readonly reencrypted: number }>;
}

/** What {@link GovernedKeyring.rotateNow} does, all optional. */
export interface RotateNowOptions {
  /** Stops using its current data keys: the next value gets a fresh one. */
  readonly cipher?: FieldCipher;
  /** Rewraps the stored data keys from `from` to `to` (those `filter` picks). */
  readonly keyStore?: KeyStore;
  readonly from?: Keyring;
  readonly to?: Keyring;
  readonly filter?: (key: StoredDataKey) => boolean;
  /** Re-encrypts records to fresh data keys (after `cipher.rotate()`), one at a time, saving each. */
  readonly reencrypt?: {
    readonly records: AsyncIterable<unknown> | Iterable<unknown>;
    readonly resource: string;
    readonly from: RecordCipher;
    readonly to: RecordCipher;
    readonly save: (record: unknown) => void | Promise<void>;
  };
}

const disabledKey = (keyId: string) => `key-disabled:${keyId}`;
const CODE = /^[a-z0-9][a-z0-9:._-]{0,63}$/;

const OPTIONS = optionsSchema<GovernedKeyringOptions>('createGovernedKeyring', {
  keyring: option.required(option.implementing<Keyring>('a Keyring (generateDataKey, decryptDataKey)', 'generateDataKey', 'decryptDataKey')),
  audit: GOVERNANCE_OPTIONS.audit,
  store: GOVERNANCE_OPTIONS.store,
  roles: GOVERNANCE_OPTIONS.roles,
  service: option.string('a principal id for the keyring\'s own events', (v) => v !== ''),
});

/** Wraps a keyring: audited operations, shared disable, rotation in one call. */
export function governedKeyring(options: GovernedKeyringOptions): GovernedKeyring {
  const { keyring, audit, store } = OPTIONS.parse(options ?? null);
  const roles = new Set(options.roles);
  const service: AccessContext = { principal: { id: options.service ?? 'phiguard' }, roles: [] };
  // Key ids are not secrets (ARNs, labels, fingerprints); context values are never recorded.
  const keyEvent = (context: AccessContext, action: 'create' | 'read' | 'update', keyIds: readonly string[], code: string) =>
    actionEvent(action, context, { resource: { type: 'MasterKey', id: keyIds.join(',').slice(0, 256) }, reason: code });
  const refuseDisabled = async (keyIds: readonly string[]) => {
    const flags = keyIds.length === 0 ? [] : await store.getMany(keyIds.map(disabledKey));
    const off = keyIds.filter((_, i) => flags[i] !== null && flags[i] !== undefined);
    return off;
  };
  const permit = async (context: AccessContext) => {
    if (hasRole(context, roles)) return;
    await audited(audit, denialEvent('update', context, 'MasterKey', 'purpose_not_permitted'));
    throw new AccessDeniedError('purpose_not_permitted');
  };

  return {
    async generateDataKey(context: EncryptionContext): Promise<DataKey> {
      const key = await keyring.generateDataKey(context);
      const ids = key.wrapped.map((w) => w.keyId);
      // A disabled primary key wraps nothing new.
      if ((await refuseDisabled(ids)).length > 0) {
        key.plaintext.fill(0);
        await audited(audit, { ...keyEvent(service, 'create', ids, 'key:generate-refused-disabled'), outcome: 'denied' });
        throw new KeyUnavailableError('The master key is disabled; the operation failed closed.');
      }
      try {
        await audited(audit, keyEvent(service, 'create', ids, 'key:generate'));
      } catch (err) {
        key.plaintext.fill(0);
        throw err;
      }
      return key;
    },
    async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
      const wrapped = await keyring.encryptDataKey(plaintext, context);
      const ids = wrapped.map((w) => w.keyId);
      if ((await refuseDisabled(ids)).length > 0) {
        await audited(audit, { ...keyEvent(service, 'update', ids, 'key:wrap-refused-disabled'), outcome: 'denied' });
        throw new KeyUnavailableError('The master key is disabled; the operation failed closed.');
      }
      await audited(audit, keyEvent(service, 'update', ids, 'key:wrap'));
      return wrapped;
    },
    async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
      const ids = wrapped.map((w) => w.keyId);
      const off = new Set(await refuseDisabled(ids));
      const usable = wrapped.filter((w) => !off.has(w.keyId));
      if (usable.length === 0) {
        await audited(audit, { ...keyEvent(service, 'read', ids, 'key:unwrap-refused-disabled'), outcome: 'denied' });
        throw new KeyUnavailableError('The master key is disabled; the operation failed closed.');
      }
      const plaintext = await keyring.decryptDataKey(usable, context);
      try {
        await audited(audit, keyEvent(service, 'read', usable.map((w) => w.keyId), 'key:unwrap'));
      } catch (err) {
        plaintext.fill(0);
        throw err;
      }
      return plaintext;
    },
    async disable(context, keyId, reason) {
      await permit(context);
      if (typeof keyId !== 'string' || keyId === '' || keyId.length > 2048) throw new OptionsError('disable: keyId is the WrappedKey.keyId of the master key');
      if (typeof reason !== 'string' || !CODE.test(reason)) throw new OptionsError('disable: reason must be a short code');
      await audited(audit, keyEvent(context, 'update', [keyId], `key:disable:${reason}`));
      await store.set(disabledKey(keyId), JSON.stringify({ by: context.principal.id, reason }));
    },
    async enable(context, keyId) {
      await permit(context);
      await audited(audit, keyEvent(context, 'update', [keyId], 'key:enable'));
      await store.delete(disabledKey(keyId));
    },
    async rotateNow(context, o) {
      await permit(context);
      if (o === null || typeof o !== 'object') throw new OptionsError('rotateNow needs { cipher?, keyStore?, from?, to? }');
      if (o.keyStore !== undefined && (o.from === undefined || o.to === undefined)) throw new OptionsError('rotateNow: rewrapping a keyStore needs `from` and `to` keyrings');
      if (o.reencrypt !== undefined && typeof o.reencrypt?.save !== 'function') throw new OptionsError('rotateNow: reencrypt needs { records, resource, from, to, save(record) }');
      o.cipher?.rotate();
      const { rewrapped } = o.keyStore === undefined ? { rewrapped: 0 } : await rewrapKeys({ store: o.keyStore, from: o.from!, to: o.to!, ...(o.filter === undefined ? {} : { filter: o.filter }) });
      let reencrypted = 0;
      if (o.reencrypt !== undefined) {
        const r = o.reencrypt;
        for await (const record of reencrypt(r.records, { resource: r.resource, from: r.from, to: r.to })) {
          await r.save(record);
          reencrypted++;
        }
      }
      await audited(audit, keyEvent(context, 'update', ['*'], `key:rotate:${rewrapped}:${reencrypted}`));
      return { rewrapped, reencrypted };
    },
  };
}
