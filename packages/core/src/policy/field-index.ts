/**
 * The one answer to "which declared field is this path": built once per resource from its field
 * declarations, read by every consumer (projection plans, request-body DLP, Safe Harbor, the
 * record cipher, per-handler narrowing). Matching rules, in one place:
 * - a declared key wins over `*` at the same level, whatever the declaration order;
 * - `[]` matches the elements of an array, and only of an array;
 * - a declared field covers everything below it (a leaf may hold an object or an array);
 * - a path that leaves the declared tree, or meets an array where an object is declared (or the
 *   reverse), is in no field: unclassified.
 */
import { LimitExceededError } from '../errors.js';
import { jsonOf } from './json.js';
import { ANY_KEY, ELEMENT, formatPath, parsePath } from './path.js';
import type { FieldClass, FieldSpec } from './types.js';

/** A declared field: its policy spelling, segments and declaration. */
export interface DeclaredField {
  readonly path: string;
  readonly segments: readonly string[];
  readonly spec: FieldSpec;
  readonly class: FieldClass;
}

/** A node of the index: an object key level, an array level, or a declared field. */
export interface IndexNode {
  /** Policy spelling of the path to this node (`reports[].observations[]`). */
  readonly path: string;
  readonly keys: ReadonlyMap<string, IndexNode>;
  readonly anyKey: IndexNode | null;
  readonly element: IndexNode | null;
  readonly field: DeclaredField | null;
}

interface MutableNode {
  path: string;
  keys: Map<string, MutableNode>;
  anyKey: MutableNode | null;
  element: MutableNode | null;
  field: DeclaredField | null;
}

const newNode = (path: string): MutableNode => ({ path, keys: new Map(), anyKey: null, element: null, field: null });

function freeze(node: MutableNode): IndexNode {
  for (const child of node.keys.values()) freeze(child);
  if (node.anyKey) freeze(node.anyKey);
  if (node.element) freeze(node.element);
  return Object.freeze(node);
}

/** The child of `node` that an object key leads to: a declared key wins over `*`. */
export function childOf<N extends { readonly keys: ReadonlyMap<string, N>; readonly anyKey: N | null }>(node: N, key: string): N | null {
  return node.keys.get(key) ?? node.anyKey;
}

// The nodes on the way to a wanted field, per (start node, wanted set): computed once per set.
const reaches = new WeakMap<ReadonlySet<string>, Map<IndexNode, ReadonlySet<IndexNode>>>();

function reachOf(from: IndexNode, wanted: ReadonlySet<string>): ReadonlySet<IndexNode> {
  let byStart = reaches.get(wanted);
  if (byStart === undefined) reaches.set(wanted, (byStart = new Map()));
  let reach = byStart.get(from);
  if (reach !== undefined) return reach;
  const found = new Set<IndexNode>();
  const visit = (node: IndexNode): boolean => {
    let leads = node.field !== null && wanted.has(node.field.path);
    for (const child of node.keys.values()) if (visit(child)) leads = true;
    if (node.anyKey !== null && visit(node.anyKey)) leads = true;
    if (node.element !== null && visit(node.element)) leads = true;
    if (leads) found.add(node);
    return leads;
  };
  visit(from);
  byStart.set(from, (reach = found));
  return reach;
}

/** A copy of the index's tree carrying a reader's own data per field. */
export interface FieldTree<F> {
  readonly keys: ReadonlyMap<string, FieldTree<F>>;
  readonly anyKey: FieldTree<F> | null;
  readonly element: FieldTree<F> | null;
  readonly field: F | null;
}

/** The index's tree with each declared field mapped by `fn`, for readers that carry their own per-field data. */
export function mapTree<F>(node: IndexNode, fn: (field: DeclaredField) => F): FieldTree<F> {
  return {
    keys: new Map([...node.keys].map(([k, child]) => [k, mapTree(child, fn)])),
    anyKey: node.anyKey && mapTree(node.anyKey, fn),
    element: node.element && mapTree(node.element, fn),
    field: node.field && fn(node.field),
  };
}

/** The fields of one resource, indexed. Build with {@link buildFieldIndex}. */
export class FieldIndex {
  /** @internal */
  constructor(
    readonly root: IndexNode,
    /** Declared fields by policy spelling, in declaration order. */
    readonly fields: ReadonlyMap<string, DeclaredField>,
  ) {
    Object.freeze(this);
  }

  /**
   * The declared field holding the value at a concrete path (object keys as strings, array
   * indexes as numbers), or null when no field covers it.
   */
  fieldAt(path: readonly (string | number)[]): DeclaredField | null {
    let node: IndexNode | null = this.root;
    for (const p of path) {
      if (node.field !== null) return node.field;
      node = typeof p === 'number' ? node.element : childOf(node, p);
      if (node === null) return null;
    }
    return node.field;
  }

  /** The index node a policy path (with `[]` and `*`) names, or null. */
  nodeAt(path: string): IndexNode | null {
    const segments = parsePath(path);
    if (typeof segments === 'string') return null;
    let node: IndexNode | null = this.root;
    for (const s of segments) {
      node = s === ELEMENT ? node.element : s === ANY_KEY ? node.anyKey : (node.keys.get(s) ?? null);
      if (node === null) return null;
    }
    return node;
  }

  /**
   * Rebuilds `value` with `fn` applied to each value that sits at one of the `wanted` fields
   * (an object key whose new value is `undefined` is removed), copying only the objects and arrays on the way to a changed value; the input is never
   * mutated. `budget` bounds the walk against huge values.
   */
  mapFields(
    value: unknown,
    wanted: ReadonlySet<string>,
    fn: (value: unknown, field: DeclaredField) => unknown,
    budget: { left: number; readonly limit: number },
    from: IndexNode = this.root,
    /** Also remove the objects that removals left empty (as a projection omits them). */
    prune = false,
    /**
     * Read each value as JSON.stringify would (`toJSON`), as the plans do, so a model instance is
     * mapped by what it serializes. A copy is then plain data; an untouched value is returned as is.
     */
    json = false,
  ): unknown {
    const reach = reachOf(from, wanted);
    if (!reach.has(from)) return value;
    const go = (raw: unknown, node: IndexNode, key: string | number): unknown => {
      if (--budget.left < 0) throw new LimitExceededError('maxNodes', budget.limit);
      const v = json ? jsonOf(raw, key) : raw;
      if (node.field !== null) return wanted.has(node.field.path) ? fn(v, node.field) : raw;
      if (v === null || typeof v !== 'object') return raw;
      if (Array.isArray(v)) {
        const element = node.element;
        if (element === null || !reach.has(element)) return raw;
        let out: unknown[] | null = null;
        for (let i = 0; i < v.length; i++) {
          const r = go(v[i], element, i);
          if (r !== v[i]) (out ??= v.slice())[i] = r;
        }
        return out ?? raw;
      }
      let out: Record<string, unknown> | null = null;
      for (const key of Object.keys(v)) {
        const child = childOf(node, key);
        // A subtree that holds no wanted field comes back as it is: not walked.
        if (child === null || !reach.has(child)) continue;
        const before = (v as Record<string, unknown>)[key];
        const r = go(before, child, key);
        if (r !== before) {
          out ??= { ...(v as Record<string, unknown>) };
          // `undefined` withholds the field: the key goes, as JSON would drop it.
          if (r === undefined) delete out[key];
          else Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
        }
      }
      if (prune && out !== null && Object.keys(out).length === 0) return undefined;
      return out ?? raw;
    };
    return go(value, from, '');
  }
}

/**
 * Indexes field declarations (already normalised to specs). Problems (bad paths, a field that
 * is also the parent of another) are pushed to `problems`, prefixed with `where`.
 */
export function buildFieldIndex(declarations: Iterable<readonly [string, FieldSpec]>, where: string, problems: string[]): FieldIndex {
  const root = newNode('');
  const fields = new Map<string, DeclaredField>();
  for (const [path, spec] of declarations) {
    const segments = parsePath(path);
    if (typeof segments === 'string') {
      problems.push(`${where}: ${segments}`);
      continue;
    }
    let node = root;
    let conflict = false;
    for (let i = 0; i < segments.length && !conflict; i++) {
      const s = segments[i]!;
      const childPath = formatPath(segments.slice(0, i + 1));
      if (node.field !== null) conflict = true;
      else if (s === ELEMENT) node = node.element ??= newNode(childPath);
      else if (s === ANY_KEY) node = node.anyKey ??= newNode(childPath);
      else {
        let next = node.keys.get(s);
        if (next === undefined) node.keys.set(s, (next = newNode(childPath)));
        node = next;
      }
    }
    // Declared fields are leaves: a path cannot be both a field and the parent of one.
    if (conflict || node.field !== null || node.keys.size > 0 || node.anyKey !== null || node.element !== null) {
      problems.push(`${where}: field "${path}" overlaps another declared field; declare only leaves (a path cannot be both a field and the parent of one)`);
      continue;
    }
    node.field = Object.freeze({ path, segments: Object.freeze(segments), spec, class: spec.class });
    fields.set(path, node.field);
  }
  return new FieldIndex(freeze(root), fields);
}
