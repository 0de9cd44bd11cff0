import type { CompiledPolicy } from './compile.js';
import type { Leaf } from './plan.js';
import { PURPOSES_OF_USE, type PurposeOfUse } from '../purpose.js';

/** One resource's disclosure matrix: every declared field × every (role, purpose) with rules. */
export interface ResourceMatrix {
  readonly resource: string;
  readonly fields: readonly { readonly path: string; readonly class: string; readonly category?: string; readonly encrypt: boolean }[];
  readonly columns: readonly { readonly role: string; readonly purpose: PurposeOfUse; readonly relationship?: string }[];
  /** `cells[field][column]`: the operator name (`send`, `partial`, `deny`…). */
  readonly cells: readonly (readonly string[])[];
}

/**
 * Computes, from the compiled plans themselves, what each role receives of each field for each
 * purpose of use: the matrix the engine enforces, not a restatement of the policy text.
 */
export function disclosureMatrix(policy: CompiledPolicy): ResourceMatrix[] {
  const out: ResourceMatrix[] = [];
  for (const resource of policy.resources.values()) {
    const fields = [...resource.fields].map(([path, spec]) => ({
      path,
      class: spec.class,
      ...(spec.category === undefined ? {} : { category: spec.category }),
      encrypt: spec.encrypt === true,
    }));
    const columns: { role: string; purpose: PurposeOfUse; relationship?: string }[] = [];
    const cells: string[][] = fields.map(() => []);
    for (const role of policy.roles) {
      for (const purpose of PURPOSES_OF_USE) {
        const relationship = resource.relationships.get(role)?.get(purpose);
        const decision = policy.decide(
          { principal: { id: 'report', patientId: 'report' }, roles: [role], purposeOfUse: purpose, patientRelationship: ['care-team', 'encounter'] },
          resource.name,
        );
        if (decision.effect !== 'allow') continue;
        columns.push(relationship === undefined ? { role, purpose } : { role, purpose, relationship });
        // A field under a sensitive element also has a `masked` leaf; the matrix shows the rule.
        const byPath = new Map<string, string>();
        for (const leaf of decision.plan.leaves as readonly Leaf[]) if (leaf.opName !== 'masked') byPath.set(leaf.path, leaf.opName);
        fields.forEach((f, i) => cells[i]!.push(byPath.get(f.path) ?? 'deny'));
      }
    }
    out.push({ resource: resource.name, fields, columns, cells });
  }
  return out;
}
