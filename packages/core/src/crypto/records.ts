import { createHmac, hkdfSync } from 'node:crypto';
import { DecryptError, OptionsError } from '../errors.js';
import type { CompiledPolicy, CompiledResource } from '../policy/compile.js';
import { formatPath, readPath } from '../policy/path.js';
import type { Plan } from '../policy/plan.js';
import { didYouMean } from '../suggest.js';
import { encodeContext } from './context.js';
import type { FieldCipher } from './field-cipher.js';
import { isCiphertext } from './format.js';
import type { EncryptionContext } from './keyring.js';

/** Options of {@link createRecordCipher}. */
export interface RecordCipherOptions {
  /** The compiled policy: fields declared `encrypt: true` are the ones encrypted. */
  readonly policy: CompiledPolicy;
  readonly cipher: FieldCipher;
  /** Bound into every value's context and scopes the data keys. Default `'default'`. */
  readonly tenant?: string;
  /** Extra entries bound into every value's context (an application or environment name). */
  readonly context?: EncryptionContext;
  /** Secret of at least 32 bytes for blind indexes; per-field keys are derived from it. */
  readonly indexKey?: Uint8Array;
  /** Bytes of HMAC kept in a blind index, 4 to 32. Default 8: few enough to leak little, enough to make collisions rare. */
  readonly indexBytes?: number;
}

/** Encrypts and decrypts the `encrypt: true` fields of records for a repository layer. */
export interface RecordCipher {
  /**
   * A copy of `record` with the value of every encrypted field (any JSON value: string, number,
   * object, array) sealed as a ciphertext string. Already-encrypted values and null are kept.
   */
  encryptRecord<T>(resource: string, record: T): Promise<T>;
  /** A copy of `record` with its encrypted fields (or only `fields`, in policy spelling) decrypted. */
  decryptRecord<T>(resource: string, record: T, fields?: readonly string[]): Promise<T>;
  /**
   * Decrypts what `plan` will read from `value` (fields its rules send or transform by value),
   * as ciphertext → plaintext for `Plan.apply`. Null when the plan reads no encrypted field, or
   * when `value` holds no ciphertext where it reads one.
   */
  plaintextsFor(plan: Plan, value: unknown): Promise<ReadonlyMap<string, unknown>> | null;
  /**
   * A keyed blind index of `value` for `field` of `resource`: equal values give equal indexes,
   * so a record can be found by an encrypted value (`WHERE ssn_idx = $1`) without decrypting.
   * Normalise the value first (for example digits only for an SSN).
   */
  blindIndex(resource: string, field: string, value: string): string;
}

const OPTION_KEYS = ['policy', 'cipher', 'tenant', 'context', 'indexKey', 'indexBytes'];
const RESERVED = new Set(['tenant', 'resource', 'field', 'record']);

/**
 * Binds a field cipher to a policy: which fields are encrypted, and the context each value is
 * bound to (`tenant`, `resource`, `field` path, `record` id, plus `context`). A value moved to
 * another field, record, resource or tenant no longer decrypts.
 */
export function createRecordCipher(options: RecordCipherOptions): RecordCipher {
  if (options === null || typeof options !== 'object') throw new OptionsError('createRecordCipher needs options: { policy, cipher }');
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.includes(k)) throw new OptionsError(`record cipher: unknown option "${k}"${didYouMean(k, OPTION_KEYS)}`);
  }
  const { policy, cipher } = options;
  if (!policy || typeof policy.decide !== 'function') throw new OptionsError('record cipher: `policy` must be a compiled policy (compilePolicy)');
  if (!cipher || typeof cipher.decrypt !== 'function') throw new OptionsError('record cipher: `cipher` must be a field cipher (createFieldCipher)');
  const tenant = options.tenant ?? 'default';
  if (typeof tenant !== 'string' || tenant.length === 0) throw new OptionsError('record cipher: `tenant` must be a non-empty string');
  const extra = options.context ?? {};
  for (const [k, v] of Object.entries(extra)) {
    if (RESERVED.has(k)) throw new OptionsError(`record cipher: context entry "${k}" is set by phiguard; choose another name`);
    if (typeof v !== 'string') throw new OptionsError(`record cipher: context entry "${k}" must be a string`);
  }
  const indexBytes = options.indexBytes ?? 8;
  if (!Number.isInteger(indexBytes) || indexBytes < 4 || indexBytes > 32) throw new OptionsError('record cipher: `indexBytes` must be an integer from 4 to 32');
  const indexKey = options.indexKey === undefined ? null : Buffer.from(options.indexKey);
  if (indexKey !== null && indexKey.length < 32) throw new OptionsError('record cipher: `indexKey` must be at least 32 bytes');
  const budgetOf = () => ({ left: policy.limits.maxNodes, limit: policy.limits.maxNodes });
  /** The field paths each plan decrypts, as mapFields wants them. */
  const wantedOf = new WeakMap<Plan, ReadonlySet<string>>();

  const resourceOf = (name: string): CompiledResource => {
    const r = policy.resources.get(name);
    if (r === undefined) throw new OptionsError(`record cipher: unknown resource "${name}"${didYouMean(name, [...policy.resources.keys()])}`);
    return r;
  };
  const contextFor = (resource: CompiledResource, record: unknown) => {
    const id = resource.idPath === null ? undefined : readPath(record, resource.idPath);
    if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
      throw new OptionsError(`record cipher: a ${resource.name} record has no id at "${resource.idPath?.join('.')}"; encrypted fields are bound to it`);
    }
    const recordId = String(id);
    return (field: string): EncryptionContext => ({ ...extra, tenant, resource: resource.name, field, record: recordId });
  };

  /**
   * Applies an async transform to the values of `fields` (which values are a field's comes from
   * the resource's field index: a declared key wins over `*`), in parallel, then rebuilds the record.
   */
  // One set per field list (a resource's `encrypted` is one array): the walk keeps its route per set.
  const fieldSets = new WeakMap<readonly string[], ReadonlySet<string>>();
  const transform = async <T>(
    resource: CompiledResource,
    record: T,
    fields: readonly string[],
    wants: (v: unknown) => boolean,
    op: (v: unknown, field: string) => Promise<unknown>,
  ): Promise<T> => {
    let wanted = fieldSets.get(fields);
    if (wanted === undefined) fieldSets.set(fields, (wanted = new Set(fields)));
    const pending: Promise<unknown>[] = [];
    resource.index.mapFields(record, wanted, (v, field) => {
      if (wants(v)) pending.push(op(v, field.path));
      return v;
    }, budgetOf());
    if (pending.length === 0) return record;
    const results = await Promise.all(pending);
    let next = 0;
    return resource.index.mapFields(record, wanted, (v) => (wants(v) ? results[next++] : v), budgetOf()) as T;
  };

  const fieldKeys = new Map<string, Buffer>();
  const fieldKey = (resource: string, field: string): Buffer => {
    const id = `${resource}\0${field}`;
    let key = fieldKeys.get(id);
    if (key === undefined) {
      const info = encodeContext({ tenant, resource, field, purpose: 'blind-index' });
      key = Buffer.from(hkdfSync('sha256', indexKey!, 'phiguard blind index v1', info, 32));
      if (fieldKeys.size < 1024) fieldKeys.set(id, key);
    }
    return key;
  };

  // Values are sealed as JSON, so numbers, objects and arrays keep their type through a round trip.
  const needsSealing = (v: unknown): boolean => v !== undefined && v !== null && !isCiphertext(v);
  const seal = (v: unknown, context: EncryptionContext): Promise<string> => {
    const json = JSON.stringify(v);
    if (json === undefined) throw new OptionsError('record cipher: an encrypted field holds a value JSON cannot carry');
    return cipher.encrypt(json, context);
  };
  const open = async (s: string, context: EncryptionContext): Promise<unknown> => {
    const json = await cipher.decrypt(s, context);
    try {
      return JSON.parse(json) as unknown;
    } catch {
      throw new DecryptError('malformed');
    }
  };

  const checked = (resource: CompiledResource, fields: readonly string[]) => {
    for (const f of fields) {
      if (!resource.encrypted.includes(f)) {
        throw new OptionsError(`record cipher: ${resource.name}.${f} is not an encrypted field${didYouMean(f, resource.encrypted)}`);
      }
    }
    return fields;
  };

  return Object.freeze({
    async encryptRecord<T>(name: string, record: T): Promise<T> {
      const resource = resourceOf(name);
      if (resource.encrypted.length === 0) return record;
      const ctx = contextFor(resource, record);
      return transform(resource, record, resource.encrypted, needsSealing, (v, f) => seal(v, ctx(f)));
    },
    async decryptRecord<T>(name: string, record: T, fields?: readonly string[]): Promise<T> {
      const resource = resourceOf(name);
      if (resource.encrypted.length === 0) return record;
      const ctx = contextFor(resource, record);
      return transform(resource, record, checked(resource, fields ?? resource.encrypted), isCiphertext, (s, f) => open(s as string, ctx(f)));
    },
    plaintextsFor(plan: Plan, value: unknown): Promise<ReadonlyMap<string, unknown>> | null {
      if (plan.decryptPaths.length === 0) return null;
      const work: Promise<void>[] = [];
      const plain = new Map<string, unknown>();
      const resource = resourceOf(plan.resource);
      let wanted = wantedOf.get(plan);
      if (wanted === undefined) wantedOf.set(plan, (wanted = new Set(plan.decryptPaths.map((segments) => formatPath(segments)))));
      // Several records at once (a top-level array) each bind their own id.
      const root = resource.index.root;
      const many = Array.isArray(value) && root.element !== null;
      const records = many ? (value as unknown[]) : [value];
      for (const record of records) {
        let ctx: ((field: string) => EncryptionContext) | null = null;
        resource.index.mapFields(record, wanted, (v, field) => {
          if (isCiphertext(v) && !plain.has(v)) {
            plain.set(v, undefined);
            ctx ??= contextFor(resource, record);
            work.push(open(v, ctx(field.path)).then((p) => void plain.set(v, p)));
          }
          return v;
        }, budgetOf(), many ? root.element! : root);
      }
      // Nothing encrypted in this value: no promise, the release stays synchronous. (A ciphertext
      // the walk meets later without its plaintext fails closed with DecryptError.)
      return work.length === 0 ? null : Promise.all(work).then(() => plain);
    },
    blindIndex(name: string, field: string, value: string): string {
      const resource = resourceOf(name);
      if (indexKey === null) throw new OptionsError('record cipher: blind indexes need `indexKey`');
      if (!resource.fields.has(field)) throw new OptionsError(`record cipher: ${name} has no field "${field}"${didYouMean(field, [...resource.fields.keys()])}`);
      if (typeof value !== 'string') throw new OptionsError('record cipher: blind indexes take string values');
      return createHmac('sha256', fieldKey(name, field)).update(value, 'utf8').digest().subarray(0, indexBytes).toString('base64url');
    },
  });
}
