import 'reflect-metadata';
import {
  PolicyError,
  type FieldClass,
  type FieldSpec,
  type OperatorSpec,
  type PolicyDefinition,
  type RuleSet,
} from '@phiguard/core';
import { METADATA } from './tokens.js';

/** What `@Phi` declares about a DTO property. */
export interface PhiFieldOptions {
  /** The field's class (`direct-identifier`, `clinical`…). */
  readonly class: FieldClass;
  /** Sensitive category tag (`HIV`, `genetic`…). */
  readonly category?: string;
  readonly description?: string;
  /** Stored encrypted (see core's field cipher). */
  readonly encrypt?: boolean;
  /**
   * Default masking: in every rule set of the resource that would send this field in full
   * through `@class` or `*`, the field is disclosed through this operator instead. A rule that
   * names the field's path keeps its own operator.
   */
  readonly mask?: OperatorSpec;
  /** The property holds another DTO (or, with `each`, an array of them): its `@Phi` fields nest under it. */
  readonly nested?: () => abstract new (...args: never[]) => unknown;
  readonly each?: boolean;
}

interface DtoField {
  readonly property: string;
  readonly options: PhiFieldOptions;
}

type DtoClass = abstract new (...args: never[]) => unknown;

/** Declares a DTO property's PHI class; read by {@link policyFromDtos}. */
export function Phi(options: PhiFieldOptions): PropertyDecorator {
  return (target, property) => {
    if (typeof property !== 'string') throw new PolicyError([`@Phi on a symbol property of ${target.constructor.name}: use a string key`]);
    const ctor = target.constructor;
    // Own list, seeded from the parent class so subclasses inherit their parent's fields.
    const own: DtoField[] = Reflect.getOwnMetadata(METADATA.dtoFields, ctor) ?? [...((Reflect.getMetadata(METADATA.dtoFields, ctor) as DtoField[] | undefined) ?? [])];
    Reflect.defineMetadata(METADATA.dtoFields, [...own.filter((f) => f.property !== property), { property, options }], ctor);
  };
}

/** The field declarations `@Phi` makes on a DTO class (nested DTOs flattened), with their masks. */
export function dtoFields(dto: DtoClass, prefix = '', seen: ReadonlySet<DtoClass> = new Set()): Map<string, PhiFieldOptions> {
  const out = new Map<string, PhiFieldOptions>();
  if (seen.has(dto)) throw new PolicyError([`${dto.name}: DTOs nest in a cycle; declare the repeated part once`]);
  const fields = (Reflect.getMetadata(METADATA.dtoFields, dto) as DtoField[] | undefined) ?? [];
  for (const { property, options } of fields) {
    const path = `${prefix}${property}`;
    if (options.nested !== undefined) {
      const child = options.nested();
      for (const [p, o] of dtoFields(child, `${path}${options.each ? '[]' : ''}.`, new Set([...seen, dto]))) out.set(p, o);
    } else {
      out.set(path, options);
    }
  }
  return out;
}

function specOf(o: PhiFieldOptions): FieldSpec {
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

/** The operator a rule set applies to a field by selector precedence (path, `@class`, `*`). */
function ruleFor(rules: RuleSet, path: string, spec: FieldSpec): OperatorSpec | undefined {
  const r = rules as Record<string, OperatorSpec | undefined>;
  return r[path] ?? r[`@${spec.class}`] ?? r['*'];
}

/**
 * Merges the field declarations of DTO classes (`@Phi`) into a central policy and returns a new
 * policy (the input is not changed). `dtos` maps a resource name of the policy to its DTO
 * class(es). A DTO field the policy also declares must agree on class, category and `encrypt`;
 * every disagreement is reported at once in a PolicyError. A field's `mask` is written into each
 * rule set that would send it in full by class or `*`.
 *
 * @example
 * const policy = policyFromDtos(centralPolicy, { PatientResults: LabResultsDto });
 */
export function policyFromDtos<P extends PolicyDefinition>(
  policy: P,
  dtos: Readonly<Record<string, DtoClass | readonly DtoClass[]>>,
): P {
  const problems: string[] = [];
  const resources: Record<string, unknown> = { ...policy.resources };
  for (const [name, classes] of Object.entries(dtos)) {
    const resource = (policy.resources as PolicyDefinition['resources'])[name];
    if (resource === undefined) {
      problems.push(`policyFromDtos: the policy has no resource "${name}"`);
      continue;
    }
    const fields: Record<string, FieldSpec | FieldClass> = { ...resource.fields };
    const masks = new Map<string, OperatorSpec>();
    for (const dto of Array.isArray(classes) ? (classes as readonly DtoClass[]) : [classes as DtoClass]) {
      let declared: Map<string, PhiFieldOptions>;
      try {
        declared = dtoFields(dto);
      } catch (err) {
        problems.push(...(err instanceof PolicyError ? err.problems : [String(err)]));
        continue;
      }
      if (declared.size === 0) problems.push(`${name}: ${dto.name} declares no @Phi fields`);
      for (const [path, options] of declared) {
        const spec = specOf(options);
        const existing = fields[path];
        if (existing !== undefined && !same(normal(existing), spec)) {
          const e = normal(existing);
          problems.push(
            `${name}.${path}: ${dto.name} declares ${spec.class}${spec.category ? `/${spec.category}` : ''}${spec.encrypt ? ' (encrypted)' : ''}, ` +
              `the policy ${e.class}${e.category ? `/${e.category}` : ''}${e.encrypt ? ' (encrypted)' : ''}`,
          );
          continue;
        }
        fields[path] = existing ?? spec;
        if (options.mask !== undefined) {
          const known = masks.get(path);
          if (known !== undefined && JSON.stringify(known) !== JSON.stringify(options.mask)) problems.push(`${name}.${path}: DTOs disagree on its mask`);
          masks.set(path, options.mask);
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
