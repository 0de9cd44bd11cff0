import 'reflect-metadata';
import { PolicyError, type PolicyDefinition } from '@phiguard/core';
import { declarationSources, flattenDeclarations, policyFromFieldDeclarations, type NestedDeclaration } from '@phiguard/core/policy';
import { METADATA } from './tokens.js';

type DtoClass = abstract new (...args: never[]) => unknown;

/** What `@Phi` declares about a DTO property: a core field declaration, and how DTOs nest (`nested`, `each`). */
export type PhiFieldOptions = NestedDeclaration<DtoClass>;

/** What `@Phi` records on a class: property and declaration, in the shape core's `flattenDeclarations` reads. */
type DtoField = readonly [property: string, options: PhiFieldOptions];

/** Declares a DTO property's PHI class; read by {@link policyFromDtos}. */
export function Phi(options: PhiFieldOptions): PropertyDecorator {
  return (target, property) => {
    if (typeof property !== 'string') throw new PolicyError([`@Phi on a symbol property of ${target.constructor.name}: use a string key`]);
    const ctor = target.constructor;
    // Own list, seeded from the parent class so subclasses inherit their parent's fields.
    const own: DtoField[] = Reflect.getOwnMetadata(METADATA.dtoFields, ctor) ?? [...((Reflect.getMetadata(METADATA.dtoFields, ctor) as DtoField[] | undefined) ?? [])];
    Reflect.defineMetadata(METADATA.dtoFields, [...own.filter(([p]) => p !== property), [property, options]], ctor);
  };
}

/** The field declarations `@Phi` makes on a DTO class (nested DTOs flattened by core), with their masks. */
export function dtoFields(dto: DtoClass, prefix = '', seen: ReadonlySet<DtoClass> = new Set()): Map<string, PhiFieldOptions> {
  return flattenDeclarations(dto, (cls) => (Reflect.getMetadata(METADATA.dtoFields, cls) as DtoField[] | undefined) ?? [], prefix, seen);
}

/**
 * Merges the field declarations of DTO classes (`@Phi`) into a central policy and returns a new
 * policy (the input is not changed), through core's `policyFromFieldDeclarations`. `dtos` maps a
 * resource name of the policy to its DTO class(es). A DTO field the policy also declares must
 * agree on class, category and `encrypt`; every disagreement is reported at once in a
 * PolicyError. A field's `mask` is written into each rule set that would send it in full by class or `*`.
 *
 * @example
 * const policy = policyFromDtos(centralPolicy, { PatientResults: LabResultsDto });
 */
export function policyFromDtos<P extends PolicyDefinition>(policy: P, dtos: Readonly<Record<string, DtoClass | readonly DtoClass[]>>): P {
  return policyFromFieldDeclarations(policy, declarationSources(dtos, (dto) => dtoFields(dto)), { caller: 'policyFromDtos', marker: '@Phi', sources: 'DTOs' });
}
