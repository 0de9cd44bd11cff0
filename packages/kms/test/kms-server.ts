/**
 * A loopback AWS KMS for tests: a node:http server on 127.0.0.1 speaking the KMS JSON 1.1
 * protocol (GenerateDataKey, Encrypt, Decrypt) to the real `@aws-sdk/client-kms` client. It holds
 * master keys in memory, binds the encryption context as AES-GCM AAD, answers AWS-style errors,
 * and injects faults: throttling, 500s, slow answers, a forged KeyId, and going down.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type KmsOperation = 'GenerateDataKey' | 'Encrypt' | 'Decrypt';

interface KmsFault {
  type: string;
  status: number;
}

class KmsFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const BLOB_VERSION = 1;
const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;

export class KmsServer {
  /** Requests received per operation (including those answered with an injected fault). */
  readonly calls: Record<KmsOperation, number> = { GenerateDataKey: 0, Encrypt: 0, Decrypt: 0 };
  /** Signing region of each request, in order (`Credential=…/<date>/<region>/kms/aws4_request`). */
  readonly regions: string[] = [];
  /** Milliseconds to wait before answering each request. */
  delayMs = 0;
  /** When set, answers carry this KeyId instead of the real one (a confused or hostile endpoint). */
  forgeKeyId: string | undefined;

  readonly #keys = new Map<string, Buffer>();
  readonly #faults: KmsFault[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #server = createServer((req, res) => this.#handle(req, res));
  #port = 0;

  private constructor() {}

  /** Starts a server on 127.0.0.1 with a random port, holding a fresh key for each ARN. */
  static async start(keyArns: readonly string[]): Promise<KmsServer> {
    const server = new KmsServer();
    for (const arn of keyArns) server.addKey(arn);
    await server.#listen(0);
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  addKey(arn: string): void {
    if (!ARN.test(arn)) throw new Error(`not a key ARN: ${arn}`);
    this.#keys.set(arn, randomBytes(32));
  }

  /** The next `n` requests answer `ThrottlingException` (HTTP 400). */
  throttleNext(n: number): void {
    for (let i = 0; i < n; i++) this.#faults.push({ type: 'ThrottlingException', status: 400 });
  }

  /** The next `n` requests answer `type` with `status` (by default KMSInternalException, 500). */
  failNext(n: number, type = 'KMSInternalException', status = 500): void {
    for (let i = 0; i < n; i++) this.#faults.push({ type, status });
  }

  /** Total requests received. */
  get totalCalls(): number {
    return this.calls.GenerateDataKey + this.calls.Encrypt + this.calls.Decrypt;
  }

  /** Clears counts and faults. */
  reset(): void {
    this.calls.GenerateDataKey = this.calls.Encrypt = this.calls.Decrypt = 0;
    this.regions.length = 0;
    this.#faults.length = 0;
    this.delayMs = 0;
    this.forgeKeyId = undefined;
  }

  /** Stops listening and drops every connection: clients then get connection refused. */
  async down(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#server.listening) await this.down();
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let status = 200;
      let body: unknown;
      try {
        body = this.#dispatch(req, Buffer.concat(chunks));
      } catch (error) {
        const failure =
          error instanceof KmsFailure ? error : new KmsFailure('KMSInternalException', 'internal error', 500);
        status = failure.status;
        body = { __type: failure.type, message: failure.message };
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(8).toString('hex') });
        res.end(JSON.stringify(body));
      };
      if (this.delayMs > 0) {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          send();
        }, this.delayMs);
        this.#timers.add(timer);
      } else {
        send();
      }
    });
  }

  #dispatch(req: IncomingMessage, raw: Buffer): unknown {
    if (req.method !== 'POST' || req.url !== '/') throw new KmsFailure('UnknownOperationException', 'POST / only', 404);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      throw new KmsFailure('SerializationException', 'expected application/x-amz-json-1.1');
    }
    // The signature is not verified, but a request must be signed and name its region.
    const auth = req.headers.authorization ?? '';
    const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/kms\/aws4_request/.exec(auth);
    if (!scope) throw new KmsFailure('MissingAuthenticationTokenException', 'missing SigV4 authorization', 403);
    const region = scope[1]!;
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
    if (operation !== 'GenerateDataKey' && operation !== 'Encrypt' && operation !== 'Decrypt') {
      throw new KmsFailure('UnknownOperationException', `unsupported target ${target}`);
    }
    this.calls[operation]++;
    this.regions.push(region);
    const fault = this.#faults.shift();
    if (fault) throw new KmsFailure(fault.type, `injected ${fault.type}`, fault.status);

    let input: Record<string, unknown>;
    try {
      input = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new KmsFailure('SerializationException', 'body is not JSON');
    }
    const context = readContext(input.EncryptionContext);
    switch (operation) {
      case 'GenerateDataKey': {
        const keyId = this.#keyFor(input.KeyId, region);
        if (input.KeySpec !== 'AES_256' && input.NumberOfBytes !== 32) {
          throw new KmsFailure('ValidationException', 'KeySpec AES_256 expected');
        }
        const plaintext = randomBytes(32);
        return {
          KeyId: this.forgeKeyId ?? keyId,
          Plaintext: plaintext.toString('base64'),
          CiphertextBlob: this.#seal(keyId, plaintext, context).toString('base64'),
        };
      }
      case 'Encrypt': {
        const keyId = this.#keyFor(input.KeyId, region);
        const plaintext = readBlob(input.Plaintext, 'Plaintext');
        return {
          KeyId: this.forgeKeyId ?? keyId,
          CiphertextBlob: this.#seal(keyId, plaintext, context).toString('base64'),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      }
      case 'Decrypt': {
        const blob = readBlob(input.CiphertextBlob, 'CiphertextBlob');
        const { keyId, plaintext } = this.#open(blob, context, region);
        if (input.KeyId !== undefined && input.KeyId !== keyId) {
          throw new KmsFailure('IncorrectKeyException', 'the ciphertext was not encrypted under the KeyId given');
        }
        return { KeyId: this.forgeKeyId ?? keyId, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
    }
  }

  #keyFor(keyId: unknown, region: string): string {
    if (typeof keyId !== 'string' || !this.#keys.has(keyId)) throw new KmsFailure('NotFoundException', 'key not found');
    if (ARN.exec(keyId)![1] !== region) throw new KmsFailure('NotFoundException', 'key not found in this region');
    return keyId;
  }

  // Blob: version (1) | ARN length (2) | ARN | IV (12) | tag (16) | ciphertext.
  #seal(keyId: string, plaintext: Buffer, context: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(keyId)!, iv);
    cipher.setAAD(context);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const arn = Buffer.from(keyId, 'utf8');
    const head = Buffer.alloc(3);
    head.writeUInt8(BLOB_VERSION, 0);
    head.writeUInt16BE(arn.length, 1);
    return Buffer.concat([head, arn, iv, cipher.getAuthTag(), body]);
  }

  #open(blob: Buffer, context: Buffer, region: string): { keyId: string; plaintext: Buffer } {
    const invalid = new KmsFailure('InvalidCiphertextException', 'invalid ciphertext');
    if (blob.length < 3 || blob.readUInt8(0) !== BLOB_VERSION) throw invalid;
    const arnEnd = 3 + blob.readUInt16BE(1);
    if (blob.length < arnEnd + 28) throw invalid;
    const keyId = blob.subarray(3, arnEnd).toString('utf8');
    const key = this.#keys.get(keyId);
    if (!key) throw invalid;
    if (ARN.exec(keyId)![1] !== region) throw new KmsFailure('NotFoundException', 'key not found in this region');
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(arnEnd, arnEnd + 12));
    decipher.setAAD(context);
    decipher.setAuthTag(blob.subarray(arnEnd + 12, arnEnd + 28));
    try {
      return { keyId, plaintext: Buffer.concat([decipher.update(blob.subarray(arnEnd + 28)), decipher.final()]) };
    } catch {
      throw invalid;
    }
  }
}

function readBlob(value: unknown, name: string): Buffer {
  if (typeof value !== 'string' || value === '') throw new KmsFailure('ValidationException', `${name} required`);
  return Buffer.from(value, 'base64');
}

/** Canonical AAD for a KMS encryption context: sorted [key, value] pairs as JSON. */
function readContext(value: unknown): Buffer {
  if (value === undefined) return Buffer.from('[]');
  if (typeof value !== 'object' || value === null) throw new KmsFailure('ValidationException', 'bad EncryptionContext');
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (!entries.every(([, v]) => typeof v === 'string')) throw new KmsFailure('ValidationException', 'bad EncryptionContext');
  return Buffer.from(JSON.stringify(entries));
}
