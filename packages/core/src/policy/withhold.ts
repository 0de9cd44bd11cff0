/**
 * The reveal and step-up rules of sensitive categories, for readers that transform records
 * outside a disclosure plan (Safe Harbor, extracts): the same answer as the plan gives the same
 * caller, from the same element detection (sensitive.ts).
 */
import { StepUpRequiredError } from '../errors.js';
import type { AccessContext } from '../context.js';
import { isPurposeOfUse } from '../purpose.js';
import { hasRecentMfa, relationshipsOf, type CompiledAccess } from './access.js';
import { childOf, type IndexNode } from './field-index.js';
import type { CompiledResource } from './model.js';
import { categoriesOf, categoryIndex } from './sensitive.js';

/** What a sensitive filter did: the masked field paths (policy spelling) and how often. */
export type WithheldCounts = Map<string, number>;

/**
 * Returns a copy of `value` (a record of `resource`) with the masked fields of every sensitive
 * element withheld unless its categories reveal them to `context`. Without a context nothing
 * is revealed. Throws {@link StepUpRequiredError} where a category is revealed to the caller only
 * with a recent second factor the context lacks. Elements whose codes cannot all be read are
 * withheld. The input is never mutated.
 */
export function withholdSensitive(
  resource: CompiledResource,
  access: Pick<CompiledAccess, 'stepUp'>,
  /** Epoch milliseconds, for the age of a second factor. */
  now: number,
  value: unknown,
  context: AccessContext | null,
  withheld: WithheldCounts = new Map(),
  budget = { left: 100_000, limit: 100_000 },
): unknown {
  if (resource.sensitive.length === 0) return value;
  const roles = context !== null && Array.isArray(context.roles) ? context.roles : [];
  const purpose = context?.purposeOfUse;
  const held = context === null ? [] : relationshipsOf(context);
  let mfa: boolean | null = null;
  const rules = new Map(resource.sensitive.map((r) => [r.elements, r]));

  const go = (v: unknown, node: IndexNode): unknown => {
    if (node.field !== null || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      if (node.element === null) return v;
      let out: unknown[] | null = null;
      for (let i = 0; i < v.length; i++) {
        const r = go(v[i], node.element);
        if (r !== v[i]) (out ??= v.slice())[i] = r;
      }
      return out ?? v;
    }
    let element: unknown = v;
    const rule = rules.get(node.path);
    if (rule !== undefined) {
      const found = categoriesOf(v, rule, categoryIndex(rule));
      let masked = found === null;
      for (const c of found ?? []) {
        const category = rule.categories[c]!;
        const revealed = isPurposeOfUse(purpose) && roles.some((r) => category.reveal.get(r)?.has(purpose));
        if (!revealed || (category.relationship !== null && !held.includes(category.relationship))) masked = true;
        else if (category.stepUp && !(mfa ??= context !== null && hasRecentMfa(context, access.stepUp, now))) {
          throw new StepUpRequiredError(access.stepUp.maxAgeSeconds);
        }
      }
      if (masked) {
        element = resource.index.mapFields(v, rule.mask, (_, field) => {
          withheld.set(field.path, (withheld.get(field.path) ?? 0) + 1);
          return undefined;
        }, budget, node);
      }
    }
    let out: Record<string, unknown> | null = null;
    const source = element as Record<string, unknown>;
    for (const key of Object.keys(source)) {
      const child = childOf(node, key);
      if (child === null) continue;
      const before = source[key];
      const r = go(before, child);
      if (r !== before) {
        out ??= { ...source };
        Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
      }
    }
    return out ?? element;
  };
  return go(value, resource.index.root);
}
