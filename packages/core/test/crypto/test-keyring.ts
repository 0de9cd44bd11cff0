import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptError, KeyUnavailableError, type Keyring } from '@phiguard/core';
import { encodeContext, type EncryptionContext, type WrappedKey } from '@phiguard/core/crypto';

/**
 * A keyring for core's unit tests: AES-256-GCM wrapping under an in-memory master key, with call
 * counts and a switch that makes it unreachable. The real keyrings are tested in @phiguard/kms.
 */
export class TestKeyring implements Keyring {
  readonly calls = { generate: 0, encrypt: 0, decrypt: 0 };
  down = false;
  /** Data keys handed out, to check that the cipher zeroes them. */
  readonly issued: Uint8Array[] = [];
  private readonly master = randomBytes(32);
  constructor(readonly keyId = `test:${randomBytes(4).toString('hex')}`) {}

  private wrap(plaintext: Uint8Array, context: EncryptionContext): WrappedKey {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.master, iv).setAAD(encodeContext(context));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return { keyId: this.keyId, ciphertext: Buffer.concat([iv, body, c.getAuthTag()]) };
  }
  async generateDataKey(context: EncryptionContext) {
    this.calls.generate++;
    if (this.down) throw new KeyUnavailableError();
    const plaintext = randomBytes(32);
    const wrapped = [this.wrap(plaintext, context)];
    this.issued.push(plaintext);
    return { plaintext, wrapped };
  }
  async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext) {
    this.calls.encrypt++;
    if (this.down) throw new KeyUnavailableError();
    return [this.wrap(plaintext, context)];
  }
  async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext) {
    this.calls.decrypt++;
    if (this.down) throw new KeyUnavailableError();
    const mine = wrapped.find((w) => w.keyId === this.keyId);
    if (!mine) throw new DecryptError('unwrap');
    const b = Buffer.from(mine.ciphertext);
    try {
      const d = createDecipheriv('aes-256-gcm', this.master, b.subarray(0, 12)).setAAD(encodeContext(context));
      d.setAuthTag(b.subarray(b.length - 16));
      const out = Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
      this.issued.push(out);
      return out;
    } catch {
      throw new DecryptError('unwrap');
    }
  }
}
