/**
 * Field declarations made next to the code (decorators on DTO classes, schema annotations)
 * merged into a central policy. Collecting the declarations is the framework's business; how
 * they combine with the policy (agreement on class, default masks) is decided here, once.
 */
import { PolicyError } from '../errors.js';
import type { FieldClass, FieldSpec, OperatorSpec, PolicyDefinition, RuleSet } from './types.js';

/** A field spec declared next to the code, with an optional default mask. */
export interface FieldDeclaration extends FieldSpec {
  /**
   * Default masking: in every rule set of the resource that would send this field in full
   * through `@class` or `*`, the field is disclosed through this operator instead. A rule that
   * names the field's path keeps its own operator.
   */
  readonly mask?: OperatorSpec;
}

/** One place that declares fields (a DTO class): its name for messages and its declarations by path. */
export interface DeclarationSource {
  readonly name: string;
  /** Read when merging; a PolicyError thrown here is reported with the other problems. */
  readonly fields: () => ReadonlyMap<string, FieldDeclaration>;
}

/** A declaration that holds further declarations: a nested source, or with `each` an array of them. */
export interface NestedDeclaration<S> extends FieldDeclaration {
  /** The nested source (a DTO class), read lazily so sources may refer to each other. */
  readonly nested?: () => S;
  /** The property is an array of the nested source: its fields nest under `path[]`. */
  readonly each?: boolean;
}

/**
 * A source's declarations with nested sources flattened into paths (`items[].code`): what a
 * framework reads from one class (`read`) becomes the paths the policy declares. Sources that
 * nest in a cycle are a PolicyError naming the source.
 */
export function flattenDeclarations<S extends { readonly name: string }>(
  source: S,
  read: (source: S) => Iterable<readonly [string, NestedDeclaration<S>]>,
  prefix = '',
  seen: ReadonlySet<S> = new Set(),
): Map<string, NestedDeclaration<S>> {
  if (seen.has(source)) throw new PolicyError([`${source.name}: DTOs nest in a cycle; declare the repeated part once`]);
  const out = new Map<string, NestedDeclaration<S>>();
  for (const [property, declaration] of read(source)) {
    const path = `${prefix}${property}`;
    if (declaration.nested === undefined) {
      out.set(path, declaration);
      continue;
    }
    const nested = flattenDeclarations(declaration.nested(), read, `${path}${declaration.each ? '[]' : ''}.`, new Set([...seen, source]));
    for (const [p, d] of nested) out.set(p, d);
  }
  return out;
}

/**
 * The declaration sources for {@link policyFromFieldDeclarations} from classes a framework
 * declares fields on (one or several per resource name), each read with `fields` when merging.
 */
export function declarationSources<S extends { readonly name: string }>(
  classes: Readonly<Record<string, S | readonly S[]>>,
  fields: (source: S) => ReadonlyMap<string, FieldDeclaration>,
): Record<string, DeclarationSource[]> {
  const list = (c: S | readonly S[]): readonly S[] => (Array.isArray(c) ? (c as readonly S[]) : [c as S]);
  return Object.fromEntries(Object.entries(classes).map(([name, c]) => [name, list(c).map((s) => ({ name: s.name, fields: () => fields(s) }))]));
}

export interface DeclarationMergeOptions {
  /** The function named in messages (`policyFromDtos`). */
  readonly caller?: string;
  /** What a source declares fields with, named in messages (`@Phi`). */
  readonly marker?: string;
  /** What the sources are, named in messages (`DTOs`). */
  readonly sources?: string;
}

function specOf(o: FieldDeclaration): FieldSpec {
  return {
    class: o.class,
    ...(o.category === undefined ? {} : { category: o.category }),
    ...(o.description === undefined ? {} : { description: o.description }),
    ...(o.encrypt === undefined ? {} : { encrypt: o.encrypt }),
  };
}

const normal = (s: FieldSpec | FieldClass): FieldSpec => (typeof s === 'string' ? { class: s } : s);

function same(a: FieldSpec, b: FieldSpec): boolean {
  return a.class === b.class && (a.category ?? null) === (b.category ?? null) && Boolean(a.encrypt) === Boolean(b.encrypt);
}

const describe = (s: FieldSpec) => `${s.class}${s.category ? `/${s.category}` : ''}${s.encrypt ? ' (encrypted)' : ''}`;

/** The operator a rule set applies to a field by selector precedence (path, `@class`, `*`). */
function ruleFor(rules: RuleSet, path: string, spec: FieldSpec): OperatorSpec | undefined {
  const r = rules as Record<string, OperatorSpec | undefined>;
  return r[path] ?? r[`@${spec.class}`] ?? r['*'];
}

/**
 * Merges field declarations into a central policy and returns a new policy (the input is not
 * changed). `sources` maps a resource name of the policy to the places that declare its fields.
 * A declared field the policy also declares must agree on class, category and `encrypt`; every
 * disagreement is reported at once in a PolicyError. A field's `mask` is written into each rule
 * set that would send it in full by class or `*`.
 */
export function policyFromFieldDeclarations<P extends PolicyDefinition>(
  policy: P,
  sources: Readonly<Record<string, readonly DeclarationSource[]>>,
  options: DeclarationMergeOptions = {},
): P {
  const { caller = 'policyFromFieldDeclarations', marker = 'PHI', sources: plural = 'sources' } = options;
  const problems: string[] = [];
  const resources: Record<string, unknown> = { ...policy.resources };
  for (const [name, list] of Object.entries(sources)) {
    const resource = (policy.resources as PolicyDefinition['resources'])[name];
    if (resource === undefined) {
      problems.push(`${caller}: the policy has no resource "${name}"`);
      continue;
    }
    const fields: Record<string, FieldSpec | FieldClass> = { ...resource.fields };
    const masks = new Map<string, OperatorSpec>();
    for (const source of list) {
      let declared: ReadonlyMap<string, FieldDeclaration>;
      try {
        declared = source.fields();
      } catch (err) {
        problems.push(...(err instanceof PolicyError ? err.problems : [String(err)]));
        continue;
      }
      if (declared.size === 0) problems.push(`${name}: ${source.name} declares no ${marker} fields`);
      for (const [path, declaration] of declared) {
        const spec = specOf(declaration);
        const existing = fields[path];
        if (existing !== undefined && !same(normal(existing), spec)) {
          problems.push(`${name}.${path}: ${source.name} declares ${describe(spec)}, the policy ${describe(normal(existing))}`);
          continue;
        }
        fields[path] = existing ?? spec;
        if (declaration.mask !== undefined) {
          const known = masks.get(path);
          if (known !== undefined && JSON.stringify(known) !== JSON.stringify(declaration.mask)) problems.push(`${name}.${path}: ${plural} disagree on its mask`);
          masks.set(path, declaration.mask);
        }
      }
    }
    const disclose: Record<string, Record<string, RuleSet>> = {};
    for (const [role, byPurpose] of Object.entries(resource.disclose as Record<string, Record<string, RuleSet> | undefined>)) {
      if (byPurpose === undefined) continue;
      disclose[role] = {};
      for (const [purpose, rules] of Object.entries(byPurpose)) {
        const next: Record<string, OperatorSpec> = { ...(rules as Record<string, OperatorSpec>) };
        for (const [path, mask] of masks) {
          if ((rules as Record<string, unknown>)[path] !== undefined) continue;
          if (ruleFor(rules, path, normal(fields[path]!)) === 'send') next[path] = mask;
        }
        disclose[role]![purpose] = next;
      }
    }
    resources[name] = { ...resource, fields, disclose };
  }
  if (problems.length > 0) throw new PolicyError(problems);
  return { ...policy, resources } as P;
}
