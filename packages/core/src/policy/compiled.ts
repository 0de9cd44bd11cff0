/**
 * Plans compiled to code: one generated function per plan that projects a value and writes its
 * JSON text in the same pass, as the interpreter in plan.ts would project it and JSON.stringify
 * would then serialize it. The interpreter stays the reference; a property test holds the two
 * to the same text and the same disclosure record.
 *
 * What goes into the generated source: numbers (limits, depths, leaf indexes), identifiers this
 * module makes up, and the policy's field names as JSON string literals (JSON.stringify of the
 * name, which is a valid JavaScript string literal, so no name can end the literal). Field
 * values never do: they are only ever read at run time. Operators, nodes and maps are handed to
 * the generated code as constants, never written into it.
 */
import type { Branch, Leaf, PlanNode, ProtectLimits, SensitiveNode, WalkState } from './plan-nodes.js';

/** Serializes `root` (already passed through its own toJSON) under one plan; undefined or '' when nothing projects. */
export type CompiledSerializer = ((root: unknown, w: WalkState) => string | undefined) & {
  /** The generated source, for review and tests. */
  readonly source: string;
};

/** @internal The interpreter's helpers the generated code calls. */
export interface SerializerRuntime {
  sendWhole(value: unknown, depth: number, w: WalkState): unknown;
  sensitiveView(node: Branch, s: SensitiveNode, value: object, w: WalkState): Branch;
  isCiphertext(value: unknown): boolean;
  limit(name: 'maxDepth' | 'maxNodes' | 'maxChars', limits: ProtectLimits): never;
  decryptError(): never;
}

/** Canonical array-index keys come first, ascending, in a JSON object's key order. */
function isIndexKey(key: string): boolean {
  return /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;
}

/** The order JSON.stringify writes the keys of an object built by inserting `names` in order. */
function emissionOrder(names: readonly string[]): number[] {
  const order = names.map((_, i) => i);
  const index = order.filter((i) => isIndexKey(names[i]!)).sort((a, b) => Number(names[a]) - Number(names[b]));
  return [...index, ...order.filter((i) => !isIndexKey(names[i]!))];
}

const lit = (s: string): string => JSON.stringify(s);

/** Characters JSON.stringify escapes (controls, quote, backslash) and surrogates (lone ones are escaped). */
const UNSAFE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** JSON text of a string: most need no escaping; the rest go through JSON.stringify. */
function jsonString(s: string): string {
  return UNSAFE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * Generates the serializer of the plan rooted at `root`. Every function generated takes the
 * value found at a position, the walk, and the key of the position (for `toJSON(key)`), and
 * returns the JSON text of what the interpreter's `visit` returns there: undefined when it
 * returns undefined, '' when it returns something JSON.stringify cannot write (a custom
 * operator's function: omitted in an object, `null` in an array).
 */
export function compileSerializer(root: PlanNode, limits: ProtectLimits, rt: SerializerRuntime): CompiledSerializer {
  const maxNodes = limits.maxNodes;
  const maxDepth = limits.maxDepth;
  const maxChars = limits.maxChars;
  for (const n of [maxNodes, maxDepth, maxChars]) {
    // Written into the source: integers only.
    if (!Number.isSafeInteger(n) || n <= 0) throw new TypeError('compileSerializer: limits must be positive integers');
  }
  const constants: unknown[] = [];
  const constant = (value: unknown): string => {
    constants.push(value);
    return `c${constants.length - 1}`;
  };
  const functions: string[] = [];
  const tail: string[] = [];
  let next = 0;

  const count = (depth: number): string =>
    `if (++w.nodes > ${maxNodes}) limit('maxNodes', L);${depth > maxDepth ? ` limit('maxDepth', L);` : ''}`;
  const text = (expr: string): string => `if ((w.chars += ${expr}.length) > ${maxChars}) limit('maxChars', L);`;
  // jsonOf in plan.ts, inlined.
  const convert = `if (v !== null && typeof v === 'object' && typeof v.toJSON === 'function' && !ArrayBuffer.isView(v)) v = v.toJSON(typeof k === 'string' ? k : String(k));`;

  const leaf = (node: Leaf, depth: number, converts: boolean): string => {
    const name = `f${next++}`;
    const hit = !node.recorded ? '' : node.discloses ? `if (r !== undefined) w.hits[${node.index}] = 1;` : `w.hits[${node.index}] = 1;`;
    const hitAlways = node.recorded ? `w.hits[${node.index}] = 1;` : '';
    const lines = [
      `function ${name}(v, w, k) {`,
      converts ? convert : '',
      'if (v === undefined) return undefined;',
      // Never hand a ciphertext to an operator as if it were the value: decrypted, or refused.
      node.decrypts ? 'if (isCiphertext(v)) { if (w.plain === null || !w.plain.has(v)) decryptError(); v = w.plain.get(v); }' : '',
      // Sent as is: scalars written directly (what sendWhole and JSON.stringify do with them).
      node.isSend
        ? [
            `if (typeof v === 'string') { ${count(depth)} ${text('v')} ${hitAlways} return str(v); }`,
            `if (typeof v === 'number') { ${count(depth)} ${hitAlways} return Number.isFinite(v) ? '' + v : 'null'; }`,
            `if (typeof v === 'boolean' || v === null) { ${count(depth)} ${hitAlways} return v === null ? 'null' : v ? 'true' : 'false'; }`,
            `const r = sendWhole(v, ${depth}, w);`,
          ].join('\n')
        : `${count(depth)} const r = ${constant(node.op)}(v); if (typeof r === 'string') { ${text('r')} }`,
      hit,
      'if (r === undefined) return undefined;',
      node.isSend ? '' : "if (typeof r === 'string') return str(r);",
      "const t = JSON.stringify(r); return t === undefined ? '' : t;",
      '}',
    ];
    functions.push(lines.filter((l) => l !== '').join('\n'));
    return name;
  };

  /** Statements that write the members of object `v` under `node` and return its text. */
  const members = (node: Branch, depth: number): string => {
    if (node.anyKey === null) {
      // Only the declared keys are read, in declaration order; written in JSON key order.
      const names = node.names;
      const parts = names.map((key, i) => {
        const child = gen(node.children[i]!, depth + 1, true);
        return `if (Object.hasOwn(v, ${lit(key)})) p${i} = ${child}(v[${lit(key)}], w, ${lit(key)});`;
      });
      const writes = emissionOrder(names).map((i) => {
        const key = lit(names[i]!);
        return `if (p${i} !== undefined) { any = true; if (p${i} !== '') s += (s === '' ? ${lit(`${key}:`)} : ${lit(`,${key}:`)}) + p${i}; }`;
      });
      return [
        names.length > 0 ? `let ${names.map((_, i) => `p${i}`).join(', ')};` : '',
        ...parts,
        "let s = '', any = false;",
        ...writes,
        "return any ? '{' + s + '}' : undefined;",
      ].join('\n');
    }
    // A `*` key: every own key of the value, declared ones by their own node.
    const any = gen(node.anyKey, depth + 1, true);
    let lookup = any;
    if (node.keys !== null) {
      const map = `m${next++}`;
      tail.push(`const ${map} = Object.create(null);`);
      for (let i = 0; i < node.names.length; i++) {
        tail.push(`${map}[${lit(node.names[i]!)}] = ${gen(node.children[i]!, depth + 1, true)};`);
      }
      lookup = `(${map}[key] ?? ${any})`;
    }
    return [
      "const ks = Object.keys(v); let s = '', any = false;",
      'for (let i = 0; i < ks.length; i++) {',
      `const key = ks[i]; const f = ${lookup}; const t = f(v[key], w, key);`,
      'if (t === undefined) continue;',
      // A key matched by `*` comes from the value; declared keys are bounded.
      `if (f === ${any}) { ${text('key')} }`,
      "any = true; if (t !== '') s += (s === '' ? '' : ',') + JSON.stringify(key) + ':' + t;",
      '}',
      "return any ? '{' + s + '}' : undefined;",
    ].join('\n');
  };

  const branch = (node: Branch, depth: number, converts: boolean): string => {
    const name = `f${next++}`;
    let array = 'return undefined;';
    if (node.element !== null) {
      const element = gen(node.element, depth + 1, true);
      array = [
        "let s = '';",
        'for (let i = 0; i < v.length; i++) {',
        `const x = v[i]; const t = ${element}(x, w, i);`,
        "if (t !== undefined) s += (s === '' ? '' : ',') + (t === '' ? 'null' : t);",
        // An element object that projects to nothing keeps its place as {}.
        node.element.kind === 'branch' ? "else if (x !== null && typeof x === 'object') s += s === '' ? '{}' : ',{}';" : '',
        '}',
        "return '[' + s + ']';",
      ].join('\n');
    }
    let body = members(node, depth);
    if (node.sensitive !== null) {
      // The element's categories decide between this node and its masked variant.
      const masked = `b${next++}`;
      functions.push(`function ${masked}(v, w) {\n${members(node.sensitive.masked, depth)}\n}`);
      const self = constant(node);
      body = `if (sensitiveView(${self}, ${constant(node.sensitive)}, v, w) !== ${self}) return ${masked}(v, w);\n${body}`;
    }
    functions.push(
      [
        `function ${name}(v, w, k) {`,
        converts ? convert : '',
        'if (v === undefined) return undefined;',
        count(depth),
        `if (Array.isArray(v)) {\n${array}\n}`,
        'if (v === null || typeof v !== "object" || ArrayBuffer.isView(v) || v instanceof Date) return undefined;',
        body,
        '}',
      ]
        .filter((l) => l !== '')
        .join('\n'),
    );
    return name;
  };

  // One function per (node, depth): a node shared between two places is generated for each.
  const gen = (node: PlanNode, depth: number, converts: boolean): string =>
    node.kind === 'leaf' ? leaf(node, depth, converts) : branch(node, depth, converts);

  const entry = gen(root, 0, false);
  const source = [
    "'use strict';",
    'const { sendWhole, sensitiveView, isCiphertext, limit, decryptError } = rt;',
    ...constants.map((_, i) => `const c${i} = c[${i}];`),
    ...functions,
    ...tail,
    `return function serialize(v, w) { return ${entry}(v, w, ''); };`,
  ].join('\n');
  const fn = new Function('rt', 'c', 'L', 'str', source)(rt, constants, limits, jsonString) as (root: unknown, w: WalkState) => string | undefined;
  return Object.defineProperty(fn, 'source', { value: source }) as CompiledSerializer;
}
