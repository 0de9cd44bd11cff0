import { AccessDeniedError, DecryptError, LimitExceededError, StepUpRequiredError } from '../errors.js';
import { isCiphertext } from '../crypto/format.js';
import type { Branch, Leaf, PlanNode, ProtectLimits, SensitiveNode, WalkState } from './plan-nodes.js';
import type { PurposeOfUse } from '../purpose.js';
import type { AccessContext } from '../context.js';
import { parsePath } from './path.js';
import { relationshipsOf } from './access.js';
import { categoriesOf } from './sensitive.js';
import { compileProjector, type CompiledProjector, type ProjectorRuntime } from './compiled.js';

export type { Branch, Leaf, PlanNode, ProtectLimits, SensitiveNode } from './plan-nodes.js';

/**
 * Defaults that admit a 10,000-row page of about 4 MB (some 400,000 values, under 4 million
 * characters) with room to spare, and refuse what is an order of magnitude past it.
 */
export const DEFAULT_LIMITS: ProtectLimits = Object.freeze({ maxDepth: 64, maxNodes: 1_000_000, maxChars: 8_000_000 });

/**
 * What one response disclosed: the field paths sent (policy spelling, `results[].value`) and
 * the operator applied to each transformed one. Carries paths, never values.
 */
export interface Disclosure {
  readonly resource: string;
  readonly purposeOfUse: PurposeOfUse;
  readonly roles: readonly string[];
  readonly disclosed: readonly string[];
  readonly transforms: Readonly<Record<string, string>>;
}

/** The projected value, serialized as JSON text, and its disclosure record. */
export interface Serialized {
  readonly json: string;
  readonly disclosure: Disclosure;
}

/** The projected value and its disclosure record. */
export interface Protected<T = unknown> {
  readonly value: T;
  readonly disclosure: Disclosure;
}

/** @internal Hooks a plan needs from the compiled policy. */
export interface PlanHost {
  readonly limits: ProtectLimits;
  /** Whether a context shows a recent second factor, and how recent it must be. */
  readonly recentMfa: (context: Pick<AccessContext, 'authentication'>) => boolean;
  readonly stepUpMaxAge: number;
  /** Called with unclassified field paths found in a value (development mode only). */
  readonly onUnclassified: ((resource: string, paths: readonly string[]) => void) | null;
}

const SAFE_KEY = /^[A-Za-z_$][\w$-]{0,63}$/;

/** @internal What a walk knows of the caller. */
interface WalkContext {
  readonly relationships: readonly string[];
  readonly mfa: boolean;
  readonly stepUpMaxAge: number;
}

/**
 * The node to walk an element with: as is when none of its categories withholds anything from
 * this caller, else the masked variant. Throws StepUpRequiredError when a category is revealed
 * to the caller only after a recent second factor that the caller lacks. An element whose codes
 * cannot all be read (past the caps) is masked: a limit fails closed.
 */
function sensitiveView(node: Branch, s: SensitiveNode, value: object, w: Walk): Branch {
  const found = categoriesOf(value, s, s);
  if (found === null) return s.masked;
  let masked = false;
  for (const c of found) {
    const access = s.access[c];
    const needs = s.relationship[c];
    if (access === 'mask' || (needs !== null && !(w.context?.relationships.includes(needs!) ?? false))) masked = true;
    else if (access === 'step-up' && !(w.context?.mfa ?? false)) throw new StepUpRequiredError(w.context?.stepUpMaxAge ?? 0);
  }
  return masked ? s.masked : node;
}

class Walk implements WalkState {
  nodes = 0;
  chars = 0;
  unclassified: string[] | null;
  constructor(
    readonly limits: ProtectLimits,
    readonly hits: Uint8Array,
    collectUnclassified: boolean,
    /** Ciphertext → plaintext of the encrypted fields this walk may read. */
    readonly plain: ReadonlyMap<string, unknown> | null,
    /** The caller, for sensitive categories (relationships, second factor). */
    readonly context: WalkContext | null,
  ) {
    this.unclassified = collectUnclassified ? [] : null;
  }
  count(depth: number): void {
    if (++this.nodes > this.limits.maxNodes) throw new LimitExceededError('maxNodes', this.limits.maxNodes);
    if (depth > this.limits.maxDepth) throw new LimitExceededError('maxDepth', this.limits.maxDepth);
  }
  text(s: string): void {
    this.chars += s.length;
    if (this.chars > this.limits.maxChars) throw new LimitExceededError('maxChars', this.limits.maxChars);
  }
  miss(path: string): void {
    if (this.unclassified !== null && this.unclassified.length < 100) this.unclassified.push(path);
  }
}

export { jsonOf, readJsonPath } from './json.js';
import { jsonOf } from './json.js';

function isId(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** Sets `key` on a fresh output object without ever invoking the `__proto__` setter. */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * A value sent as a whole: plain JSON data (strings, finite numbers, booleans, null, arrays and
 * plain objects) is passed by reference after a walk that only counts it against the limits;
 * anything else is copied, which converts or drops what JSON cannot carry safely.
 */
function sendWhole(value: unknown, depth: number, w: Walk): unknown {
  if (value === null || typeof value !== 'object') return copy(value, depth, w);
  const { nodes, chars } = w;
  if (isPlainJson(value, depth, w)) return value;
  // Not plain: undo the counting and copy, which counts again as it goes.
  w.nodes = nodes;
  w.chars = chars;
  return copy(value, depth, w);
}

/** Counts `value` against the limits; true when it is plain JSON data throughout. */
function isPlainJson(value: unknown, depth: number, w: Walk): boolean {
  w.count(depth);
  switch (typeof value) {
    case 'string':
      w.text(value);
      return true;
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainJson(value[i], depth + 1, w)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      // Own enumerable keys, the ones JSON.stringify writes (an enumerable key inherited from a
      // polluted Object.prototype is written by neither).
      const keys = Object.keys(value);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        w.text(key);
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1, w)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Copies a value sent as a whole, within the limits; drops functions and symbols. `value` has
 * had its own `toJSON` applied; its members' are applied here, as JSON.stringify would.
 */
function copy(value: unknown, depth: number, w: Walk): unknown {
  w.count(depth);
  switch (typeof value) {
    case 'string':
      w.text(value);
      return value;
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (value instanceof Date) return new Date(value.getTime());
      if (ArrayBuffer.isView(value)) return undefined;
      if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (let i = 0; i < value.length; i++) {
          const r = copy(jsonOf(value[i], i), depth + 1, w);
          out.push(r === undefined ? null : r);
        }
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        w.text(key); // keys are sent too
        const r = copy(jsonOf((value as Record<string, unknown>)[key], key), depth + 1, w);
        if (r !== undefined) put(out, key, r);
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** Visits the value found at `key` of its parent: what JSON.stringify would serialize there. */
function visit(node: PlanNode, value: unknown, depth: number, w: Walk, key: string | number): unknown {
  return visitJson(node, jsonOf(value, key), depth, w);
}

/** @internal Exported for the compiled plans, which share the interpreter's semantics. */
export function visitJson(node: PlanNode, value: unknown, depth: number, w: Walk): unknown {
  if (value === undefined) return undefined;
  if (node.kind === 'leaf') {
    let r: unknown;
    if (node.decrypts && isCiphertext(value)) {
      // Never hand a ciphertext to an operator as if it were the value: decrypted, or refused.
      if (w.plain === null || !w.plain.has(value)) throw new DecryptError('unknown_key');
      value = w.plain.get(value);
    }
    if (node.isSend) {
      r = sendWhole(value, depth, w);
    } else {
      w.count(depth);
      r = node.op(value);
      if (typeof r === 'string') w.text(r);
    }
    if (node.recorded && (r !== undefined || !node.discloses)) w.hits[node.index] = 1;
    return r;
  }
  w.count(depth);
  if (Array.isArray(value)) {
    const element = node.element;
    if (element === null) {
      w.miss(`${node.path}[]`);
      return undefined;
    }
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = visit(element, value[i], depth + 1, w, i);
      if (r !== undefined) out.push(r);
      else if (element.kind === 'branch' && value[i] !== null && typeof value[i] === 'object') out.push({});
    }
    return out;
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof Date) {
    if (value !== null) w.miss(node.path || '(root)');
    return undefined;
  }
  if (node.sensitive !== null) node = sensitiveView(node, node.sensitive, value, w);
  const keys = node.keys;
  const anyKey = node.anyKey;
  let out: Record<string, unknown> | undefined;
  if (anyKey === null && w.unclassified === null) {
    // Production fast path: visit only the declared keys; undeclared ones are never read.
    const { names, children } = node;
    for (let i = 0; i < names.length; i++) {
      const key = names[i]!;
      if (!Object.hasOwn(value, key)) continue;
      const r = visit(children[i]!, (value as Record<string, unknown>)[key], depth + 1, w, key);
      if (r !== undefined) put((out ??= {}), key, r);
    }
    return out;
  }
  for (const key of Object.keys(value)) {
    const child = (keys !== null ? keys[key] : undefined) ?? anyKey;
    if (child === null || child === undefined) {
      w.count(depth + 1); // skipped keys still cost a visit; a million of them must hit maxNodes
      if (w.unclassified !== null) w.miss(`${node.path ? `${node.path}.` : ''}${SAFE_KEY.test(key) ? key : '[?]'}`);
      continue;
    }
    const r = visit(child, (value as Record<string, unknown>)[key], depth + 1, w, key);
    if (r !== undefined) {
      if (child === anyKey) w.text(key); // a key matched by `*` comes from the value; declared keys are bounded
      put((out ??= {}), key, r);
    }
  }
  return out;
}

/** The interpreter's helpers that compiled plans call, so both share one definition of each. */
const RUNTIME: ProjectorRuntime = Object.freeze({
  sendWhole: sendWhole as (value: unknown, depth: number, w: WalkState) => unknown,
  sensitiveView: sensitiveView as (node: Branch, s: SensitiveNode, value: object, w: WalkState) => Branch,
  isCiphertext,
  put,
  limit(name: 'maxDepth' | 'maxNodes' | 'maxChars', limits: ProtectLimits): never {
    throw new LimitExceededError(name, limits[name]);
  },
  decryptError(): never {
    throw new DecryptError('unknown_key');
  },
});

/**
 * A precompiled disclosure plan for one (resource, role set, purpose of use). Built once by
 * {@link compilePolicy}; `apply` walks the value and the plan together in one pass, building a
 * new output and never touching the input.
 */
export class Plan {
  /** @internal */ private scratch: Uint8Array;
  /** @internal */ private scratchBusy = false;
  /** @internal */ private lastHits: Uint8Array | null = null;
  /** @internal */ private lastDisclosure: Disclosure | null = null;
  /** @internal The generated projector, built on first use. */ private compiled: CompiledProjector | null = null;
  /**
   * Encrypted fields this plan reads (their operator depends on the value), as path segments;
   * empty when nothing needs decrypting. Fields it denies or redacts are never listed.
   */
  readonly decryptPaths: readonly (readonly string[])[];

  /** @internal */
  constructor(
    readonly resource: string,
    readonly purposeOfUse: PurposeOfUse,
    readonly roles: readonly string[],
    /** @internal */ readonly root: PlanNode,
    /** @internal */ readonly leaves: readonly Leaf[],
    /** @internal The patient ids a value is about (see CompiledResource.subjectsOf). */ private readonly subjects: (value: unknown) => { readonly ids: readonly string[]; readonly complete: boolean },
    /** @internal */ private readonly host: PlanHost,
    /** @internal Whether any node carries sensitive categories. */ private readonly sensitive = false,
  ) {
    this.scratch = new Uint8Array(leaves.length);
    const decrypted = [...new Set(leaves.filter((l) => l.decrypts).map((l) => l.path))];
    this.decryptPaths = Object.freeze(decrypted.map((p) => Object.freeze(parsePath(p) as string[])));
  }

  /**
   * Projects `value` for this plan. Throws {@link AccessDeniedError} (`not_own_record`) when a
   * patient request (PATRQT) targets another patient's record, and {@link LimitExceededError}
   * when the value is too large or deep. Values are projected as JSON.stringify would see them
   * (`toJSON` applied first).
   */
  apply<T = unknown>(
    value: unknown,
    context: Pick<AccessContext, 'principal' | 'patientRelationship' | 'authentication'>,
    plaintexts: ReadonlyMap<string, unknown> | null = null,
  ): Protected<T> {
    return this.walk(value, context, plaintexts, (root, w) => {
      let out = visitJson(this.root, root, 0, w);
      if (out === undefined && root !== null && typeof root === 'object') out = Array.isArray(root) ? [] : {};
      return out as T;
    }, (value, disclosure) => ({ value, disclosure }));
  }

  /**
   * Projects and serializes `value`: the JSON text of what {@link Plan.apply} returns (`null`
   * when nothing projects), with the same disclosure record, limits and errors. Runs code
   * generated once per plan from its tree (compiled.ts): declared keys read by name, operators
   * called only where they transform, fields sent as plain JSON kept by reference, then one
   * native JSON.stringify. In development mode (unclassified fields reported) it runs the
   * interpreter instead.
   */
  serialize(
    value: unknown,
    context: Pick<AccessContext, 'principal' | 'patientRelationship' | 'authentication'>,
    plaintexts: ReadonlyMap<string, unknown> | null = null,
  ): Serialized {
    return this.walk(value, context, plaintexts, (root, w) => {
      let out =
        w.unclassified !== null
          ? visitJson(this.root, root, 0, w)
          : (this.compiled ??= compileProjector(this.root, this.host.limits, RUNTIME))(root, w);
      if (out === undefined && root !== null && typeof root === 'object') out = Array.isArray(root) ? [] : {};
      return JSON.stringify(out) ?? 'null';
    }, (json, disclosure) => ({ json, disclosure }));
  }

  /** The checks and bookkeeping `apply` and `serialize` share around one walk of the value. */
  private walk<R, O>(
    value: unknown,
    context: Pick<AccessContext, 'principal' | 'patientRelationship' | 'authentication'>,
    plaintexts: ReadonlyMap<string, unknown> | null,
    body: (root: unknown, w: Walk) => R,
    result: (out: R, disclosure: Disclosure) => O,
  ): O {
    // What would be serialized: an ORM instance is read through its toJSON, the subject too.
    const root = jsonOf(value, '');
    // 45 CFR 164.524: a patient's right of access covers their own record only.
    if (this.purposeOfUse === 'PATRQT') {
      const own = context.principal?.patientId;
      // Every patient of a list must be the caller (a list of no one discloses no one's record).
      const subjects = this.subjects(root);
      // Plain ids only: String() of an object or array could equal a crafted patientId.
      if (!isId(own) || !subjects.complete || subjects.ids.some((id) => id !== String(own))) {
        throw new AccessDeniedError('not_own_record');
      }
    }
    const hits = this.scratchBusy ? new Uint8Array(this.leaves.length) : this.scratch;
    const owned = hits === this.scratch;
    if (owned) {
      this.scratchBusy = true;
      hits.fill(0);
    }
    try {
      const walkContext: WalkContext | null = this.sensitive
        ? { relationships: relationshipsOf(context), mfa: this.host.recentMfa(context), stepUpMaxAge: this.host.stepUpMaxAge }
        : null;
      const w = new Walk(this.host.limits, hits, this.host.onUnclassified !== null, plaintexts, walkContext);
      const out = body(root, w);
      if (w.unclassified !== null && w.unclassified.length > 0) this.host.onUnclassified!(this.resource, w.unclassified);
      return result(out, this.disclosureFor(hits));
    } finally {
      if (owned) this.scratchBusy = false;
    }
  }

  /** Builds (or reuses, when the same fields were hit as last time) the disclosure record. */
  private disclosureFor(hits: Uint8Array): Disclosure {
    const last = this.lastHits;
    if (last !== null && this.lastDisclosure !== null) {
      let same = true;
      for (let i = 0; i < hits.length; i++) {
        if (hits[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastDisclosure;
    }
    const disclosed: string[] = [];
    const transforms: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const leaf of this.leaves) {
      if (hits[leaf.index] !== 1) continue;
      // A field under a sensitive element has two leaves (as is, masked): list its path once.
      if (leaf.discloses && (disclosed.length === 0 || disclosed[disclosed.length - 1] !== leaf.path) && !disclosed.includes(leaf.path)) {
        disclosed.push(leaf.path);
      }
      if (!leaf.isSend) transforms[leaf.path] = leaf.opName;
    }
    const disclosure: Disclosure = Object.freeze({
      resource: this.resource,
      purposeOfUse: this.purposeOfUse,
      roles: this.roles,
      disclosed: Object.freeze(disclosed),
      transforms: Object.freeze(transforms),
    });
    this.lastHits = Uint8Array.from(hits);
    this.lastDisclosure = disclosure;
    return disclosure;
  }
}
