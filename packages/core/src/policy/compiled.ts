/**
 * Plans compiled to code: one generated function per plan that walks a value and builds its
 * projection exactly as the interpreter's `visit` (plan.ts) builds it, with the plan's keys,
 * depths, operators and limits fixed in the code instead of looked up per value. `serialize`
 * hands the result to one native JSON.stringify. The interpreter stays the reference; a
 * property test holds the two to the same text, the same disclosure record and the same errors.
 *
 * Why a projection and not JSON text pieces: writing text per field (fast-json-stringify's way)
 * was measured to cost 2–5× more than this on pages of 1,000–10,000 rows, all of it in garbage
 * collection of the many short strings; fields sent as plain JSON are kept by reference here
 * and serialized once, natively, so the cost stays linear in the size of the page.
 *
 * What goes into the generated source: numbers (limits, depths, leaf indexes), identifiers this
 * module makes up, and the policy's field names as JSON string literals (JSON.stringify of the
 * name, a valid JavaScript string literal, so no name can end the literal). Field values never
 * do: they are only ever read at run time. Operators and nodes are handed to the generated code
 * as constants, never written into it.
 */
import type { Branch, Leaf, PlanNode, ProtectLimits, SensitiveNode, WalkState } from './plan-nodes.js';

/** Projects `root` (already passed through its own toJSON) under one plan, as `visit` does. */
export type CompiledProjector = ((root: unknown, w: WalkState) => unknown) & {
  /** The generated source, for review and tests. */
  readonly source: string;
};

/** @internal The interpreter's helpers the generated code calls. */
export interface ProjectorRuntime {
  sendWhole(value: unknown, depth: number, w: WalkState): unknown;
  sensitiveView(node: Branch, s: SensitiveNode, value: object, w: WalkState): Branch;
  isCiphertext(value: unknown): boolean;
  /** Sets an own key on a fresh output object without invoking the `__proto__` setter. */
  put(out: Record<string, unknown>, key: string, value: unknown): void;
  limit(name: 'maxDepth' | 'maxNodes' | 'maxChars', limits: ProtectLimits): never;
  decryptError(): never;
}

const lit = (s: string): string => JSON.stringify(s);

/**
 * Generates the projector of the plan rooted at `root`. Every function generated takes the
 * value found at a position, the walk, and the key of the position (for `toJSON(key)`), and
 * returns what the interpreter's `visit` returns there.
 */
export function compileProjector(root: PlanNode, limits: ProtectLimits, rt: ProjectorRuntime): CompiledProjector {
  const { maxNodes, maxDepth, maxChars } = limits;
  for (const n of [maxNodes, maxDepth, maxChars]) {
    // Written into the source: integers only.
    if (!Number.isSafeInteger(n) || n <= 0) throw new TypeError('compileProjector: limits must be positive integers');
  }
  const constants: unknown[] = [];
  const constant = (value: unknown): string => {
    constants.push(value);
    return `c${constants.length - 1}`;
  };
  const functions: string[] = [];
  const tail: string[] = [];
  let next = 0;

  // Walk.count and Walk.text of plan.ts, inlined with the limits as literals.
  const count = (depth: number): string =>
    `if (++w.nodes > ${maxNodes}) limit('maxNodes', L);${depth > maxDepth ? ` limit('maxDepth', L);` : ''}`;
  const text = (expr: string): string => `if ((w.chars += ${expr}.length) > ${maxChars}) limit('maxChars', L);`;
  // jsonOf of plan.ts, inlined.
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
      node.isSend
        ? [
            // Scalars sent as is, as sendWhole sends them; anything else through sendWhole.
            `if (typeof v === 'string') { ${count(depth)} ${text('v')} ${hitAlways} return v; }`,
            `if (typeof v === 'number' || typeof v === 'boolean' || v === null) { ${count(depth)} ${hitAlways} return v; }`,
            `const r = sendWhole(v, ${depth}, w);`,
          ].join('\n')
        : `${count(depth)} const r = ${constant(node.op)}(v); if (typeof r === 'string') { ${text('r')} }`,
      hit,
      'return r;',
      '}',
    ];
    functions.push(lines.filter((l) => l !== '').join('\n'));
    return name;
  };

  /** Statements that build the projected members of object `v` under `node` and return them. */
  const members = (node: Branch, depth: number): string => {
    // `put` only for the one key whose plain assignment would set the prototype.
    const assign = (key: string) => (key === '__proto__' ? `put((out ??= {}), ${lit(key)}, r);` : `(out ??= {})[${lit(key)}] = r;`);
    if (node.anyKey === null) {
      // Only the declared keys are read, in declaration order.
      const lines = node.names.map((key, i) => {
        const child = gen(node.children[i]!, depth + 1, true);
        return `if (Object.hasOwn(v, ${lit(key)})) { const r = ${child}(v[${lit(key)}], w, ${lit(key)}); if (r !== undefined) ${assign(key)} }`;
      });
      return ['let out;', ...lines, 'return out;'].join('\n');
    }
    // A `*` key: every own key of the value, declared ones by their own node.
    const any = gen(node.anyKey, depth + 1, true);
    let lookup = any;
    if (node.keys !== null) {
      const map = `m${next++}`;
      tail.push(`const ${map} = Object.create(null);`);
      for (let i = 0; i < node.names.length; i++) tail.push(`${map}[${lit(node.names[i]!)}] = ${gen(node.children[i]!, depth + 1, true)};`);
      lookup = `(${map}[key] ?? ${any})`;
    }
    return [
      'const ks = Object.keys(v); let out;',
      'for (let i = 0; i < ks.length; i++) {',
      `const key = ks[i]; const f = ${lookup}; const r = f(v[key], w, key);`,
      'if (r === undefined) continue;',
      // A key matched by `*` comes from the value; declared keys are bounded.
      `if (f === ${any}) { ${text('key')} }`,
      'put((out ??= {}), key, r);',
      '}',
      'return out;',
    ].join('\n');
  };

  const branch = (node: Branch, depth: number, converts: boolean): string => {
    const name = `f${next++}`;
    let array = 'return undefined;';
    if (node.element !== null) {
      const element = gen(node.element, depth + 1, true);
      array = [
        'const out = [];',
        'for (let i = 0; i < v.length; i++) {',
        `const x = v[i]; const r = ${element}(x, w, i);`,
        'if (r !== undefined) out.push(r);',
        // An element object that projects to nothing keeps its place as {}.
        node.element.kind === 'branch' ? "else if (x !== null && typeof x === 'object') out.push({});" : '',
        '}',
        'return out;',
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
    'const { sendWhole, sensitiveView, isCiphertext, put, limit, decryptError } = rt;',
    ...constants.map((_, i) => `const c${i} = c[${i}];`),
    ...functions,
    ...tail,
    `return function project(v, w) { return ${entry}(v, w, ''); };`,
  ].join('\n');
  const fn = new Function('rt', 'c', 'L', source)(rt, constants, limits) as (root: unknown, w: WalkState) => unknown;
  return Object.defineProperty(fn, 'source', { value: source }) as CompiledProjector;
}
