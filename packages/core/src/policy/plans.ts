/**
 * Plan building: from the model's field index and rules, the precompiled plan of one
 * (resource, role set, purpose of use). Single-role plans are built at start-up, combined role
 * sets on first use (bounded cache).
 */
import type { PurposeOfUse } from '../purpose.js';
import type { IndexNode } from './field-index.js';
import type { EnvelopeModel, PolicyModel, ResolvedRule, ResourceModel } from './model.js';
import { Plan, type Branch, type Leaf, type PlanHost, type PlanNode, type Protected } from './plan.js';
import { categoryIndex } from './sensitive.js';

/** @internal Plans of a model. */
export interface Planner {
  /** The plan for `roles` (each holding a rule for `purpose` on `resource`). */
  planOf(resource: ResourceModel, roles: readonly string[], purpose: PurposeOfUse): Plan;
}

/** @internal */
export function createPlanner(model: PolicyModel, host: PlanHost): Planner {
  const caches = new Map<ResourceModel, Map<string, Plan>>();
  for (const resource of model.resources.values()) if (resource.envelope !== null) caches.set(resource.envelope.model, new Map());
  const single = new Map<ResourceModel, Map<string, Map<PurposeOfUse, Plan>>>();
  for (const resource of model.resources.values()) {
    caches.set(resource, new Map());
    const byRole = new Map<string, Map<PurposeOfUse, Plan>>();
    for (const [role, perPurpose] of resource.rules) {
      const plans = new Map<PurposeOfUse, Plan>();
      for (const purpose of perPurpose.keys()) plans.set(purpose, planFor(resource, [role], purpose, host, caches));
      byRole.set(role, plans);
    }
    single.set(resource, byRole);
  }
  return {
    planOf(resource, roles, purpose) {
      if (roles.length === 1) {
        const plan = single.get(resource)?.get(roles[0]!)?.get(purpose);
        if (plan !== undefined) return plan;
      }
      return planFor(resource, roles, purpose, host, caches);
    },
  };
}

/** A plan that walks the resource as is, or inside its envelope when the value is one. */
class EnvelopedPlan extends Plan {
  constructor(
    private readonly inner: Plan,
    private readonly envelope: EnvelopeModel,
    ...args: ConstructorParameters<typeof Plan>
  ) {
    super(...args);
  }

  override apply<T = unknown>(...[value, context, plaintexts]: Parameters<Plan['apply']>): Protected<T> {
    if (this.envelope.matches(value)) return this.inner.apply<T>(this.envelope.prepare(value), context, plaintexts);
    return super.apply<T>(value, context, plaintexts);
  }
}

function planFor(resource: ResourceModel, roles: readonly string[], purpose: PurposeOfUse, host: PlanHost, caches: Map<ResourceModel, Map<string, Plan>>): Plan {
  const cache = caches.get(resource)!;
  const sorted = roles.length === 1 ? roles : [...new Set(roles)].sort();
  const key = `${purpose}\0${sorted.join('\0')}`;
  const cached = cache.get(key);
  if (cached) return cached;

  const resolvers = sorted.flatMap((r) => {
    const f = resource.rules.get(r)?.get(purpose);
    return f ? [f] : [];
  });
  const leaves: Leaf[] = [];
  const leafFor = (path: string, encrypt: boolean, masked: boolean): Leaf => {
    if (masked) {
      // Withheld because of the element's sensitive category; recorded so audit shows it.
      const leaf: Leaf = {
        kind: 'leaf', index: leaves.length, path, opName: 'masked', op: () => undefined,
        isSend: false, discloses: false, recorded: true, decrypts: false,
      };
      leaves.push(leaf);
      return leaf;
    }
    // Several roles: the strongest disclosure of any of them (roles add, never subtract).
    let best: ResolvedRule | null = null;
    for (const resolve of resolvers) {
      const rule = resolve(path);
      if (best === null || rule.factory.rank > best.factory.rank) best = rule;
    }
    const rule = best!;
    const leaf: Leaf = {
      kind: 'leaf',
      index: leaves.length,
      path,
      opName: rule.name,
      op: rule.fn,
      isSend: rule.name === 'send',
      discloses: rule.factory.discloses,
      recorded: rule.name !== 'deny',
      decrypts: encrypt && rule.factory.readsValue !== false,
    };
    leaves.push(leaf);
    return leaf;
  };
  const sensitive = resource.compiled.sensitive;
  let anySensitive = false;
  // `mask`: fields withheld in this subtree; `inside`: the sensitive elements whose masked
  // variant is being built (their rule is not attached again, nested ones are).
  const build = (node: IndexNode, mask: ReadonlySet<string> | null, inside: ReadonlySet<string> = new Set()): PlanNode => {
    if (node.field !== null) return leafFor(node.field.path, node.field.spec.encrypt === true, mask?.has(node.field.path) ?? false);
    let keys: Record<string, PlanNode> | null = null;
    for (const [k, child] of node.keys) (keys ??= Object.create(null) as Record<string, PlanNode>)[k] = build(child, mask, inside);
    const branch = {
      kind: 'branch' as const,
      path: node.path,
      keys,
      names: keys === null ? [] : Object.keys(keys),
      children: keys === null ? [] : Object.values(keys),
      anyKey: node.anyKey && build(node.anyKey, mask, inside),
      element: node.element && build(node.element, mask, inside),
    };
    const rule = inside.has(node.path) ? undefined : sensitive.find((x) => x.elements === node.path);
    if (rule === undefined) return { ...branch, sensitive: null };
    anySensitive = true;
    const { byCode, byTag } = categoryIndex(rule);
    const masked = build(node, new Set([...(mask ?? []), ...rule.mask]), new Set([...inside, node.path])) as Branch;
    return {
      ...branch,
      sensitive: {
        codes: rule.codes,
        tags: rule.tags,
        byCode,
        byTag,
        access: rule.categories.map((c) => (!sorted.some((r) => c.reveal.get(r)?.has(purpose)) ? 'mask' : c.stepUp ? 'step-up' : 'open')),
        relationship: rule.categories.map((c) => c.relationship),
        masked,
      },
    };
  };
  const root = build(resource.compiled.index.root, null);
  const args: ConstructorParameters<typeof Plan> = [resource.compiled.name, purpose, Object.freeze([...sorted]), root, leaves, resource.compiled.subjectsOf, host, anySensitive];
  const envelope = resource.envelope;
  const plan = envelope === null ? new Plan(...args) : new EnvelopedPlan(planFor(envelope.model, sorted, purpose, host, caches), envelope, ...args);
  // Role sets come from callers; bound the cache so odd combinations cannot grow it forever.
  if (cache.size < 512) cache.set(key, plan);
  return plan;
}
