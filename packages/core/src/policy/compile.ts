import { isTrustedGrant } from '../access/trusted-grant.js';
import { isClock, systemClock, type Clock } from '../base/clock.js';
import { hkdfSync } from 'node:crypto';
import { AccessDeniedError, PolicyError, type DenyReason } from '../errors.js';
import {
  BUILTIN_OPERATORS,
  customOperatorFactory,
  hmacDigest,
  type CustomOperator,
  type OperatorFactory,
  type OperatorFunction,
} from '../operators/builtin.js';
import { PURPOSES_OF_USE, isPurposeOfUse, type PurposeOfUse } from '../purpose.js';
import type { AccessContext } from '../context.js';
import { didYouMean } from '../suggest.js';
import { ANY_KEY, ELEMENT, formatPath, parsePath } from './path.js';
import { DEFAULT_LIMITS, Plan, type Branch, type Leaf, type PlanNode, type ProtectLimits, type Protected } from './plan.js';
import { PHI_TYPES } from '../dlp/scanner.js';
import type { PhiType } from '../dlp/index.js';
import type { FieldClass, FieldSpec, OperatorSpec, PolicyDefinition, Relationship, ResourceDefinition, RuleSet } from './types.js';
import { compileAccess, compileRelationships, compileSensitive, hasRecentMfa, relationshipsOf, type CompiledAccess, type CompiledSensitive } from './access.js';

/** Options of {@link compilePolicy}. */
export interface CompileOptions {
  /**
   * Secret (32+ bytes, random) from which the token and patient-reference keys are derived
   * (HKDF-SHA256). Required when a rule uses `token` or a resource declares a `subject`.
   */
  readonly secret?: Uint8Array | string;
  /** Custom operators, by name, usable in rules as `{ custom: name, args }`. */
  readonly operators?: Readonly<Record<string, CustomOperator>>;
  /** Limits applied by `protect`; defaults in {@link DEFAULT_LIMITS}. */
  readonly limits?: Partial<ProtectLimits>;
  /**
   * `development` reports unclassified fields (paths only, once each) through `warn`.
   * Default: `production` when NODE_ENV is `production`, else `development`.
   */
  readonly mode?: 'development' | 'production';
  /** Receives development warnings. Default: `process.emitWarning`. */
  readonly warn?: (message: string) => void;
  /**
   * The time decisions read (break-glass grant expiry, step-up age); the engine built on this
   * policy reads the same one. Default: the wall clock.
   */
  readonly clock?: Clock;
}

/** Outcome of an access decision. */
export type Decision =
  | { readonly effect: 'allow'; readonly plan: Plan; readonly breakGlass?: BreakGlassUse }
  | {
      readonly effect: 'deny';
      readonly reason: DenyReason;
      /** From `PhiGuard.authorize` with an asynchronous sink: settles once the denial is recorded. Answer after it. */
      readonly pending?: Promise<void>;
    };

/** The grant an access was allowed under; audited with every disclosure it permits. */
export interface BreakGlassUse {
  readonly grantId: string;
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** A resource after validation, with its routes and audit paths. */
export interface CompiledResource {
  readonly name: string;
  readonly routes: readonly { readonly method: string; readonly path: string }[];
  readonly rawBody: 'allow' | 'deny';
  /** Reads the patient id (for hashing) from a value of this resource. */
  readonly subjectPath: readonly string[] | null;
  /** Route parameter holding the patient id, if declared. */
  readonly subjectParam: string | null;
  /** Reads the opaque resource id from a value of this resource. */
  readonly idPath: readonly string[] | null;
  readonly fields: ReadonlyMap<string, FieldSpec>;
  /** Fields declared `encrypt: true`, in policy spelling. */
  readonly encrypted: readonly string[];
  /** DLP on request bodies, when declared. */
  readonly dlp: { readonly request: 'block' | 'redact' | 'report'; readonly types: readonly PhiType[] | null } | null;
  /** role → purpose → relationship the rule requires. */
  readonly relationships: ReadonlyMap<string, ReadonlyMap<PurposeOfUse, Relationship>>;
  /** Sensitive categories of this resource's elements. */
  readonly sensitive: readonly CompiledSensitive[];
  /** Whether some role has emergency (ETREAT) rules here: where a break-glass grant may decide by default. */
  readonly emergency: boolean;
}

/** A validated policy with its plans precompiled. Build once at start-up with {@link compilePolicy}. */
export interface CompiledPolicy {
  readonly roles: ReadonlySet<string>;
  readonly resources: ReadonlyMap<string, CompiledResource>;
  readonly limits: ProtectLimits;
  /** Separation of duties, break-glass terms and what counts as a recent second factor. */
  readonly access: CompiledAccess;
  /**
   * Decides access for `context` to `resource`; pure, never throws for a known resource. Pass
   * `subjectId` (the patient id the request targets, when known before the handler runs) to
   * refuse patient requests for another patient early.
   */
  decide(context: AccessContext, resource: string, subjectId?: string | number): Decision;
  /** Decides, then projects `value`; throws {@link AccessDeniedError} when denied. */
  protect<T = unknown>(value: unknown, context: AccessContext, resource: string): Protected<T>;
  /** Keyed, non-reversible reference to a patient id (`pt_…`), for audit records. */
  patientRef(patientId: string | number): string;
  /** The clock its decisions read ({@link CompileOptions.clock}). */
  readonly clock: Clock;
}

const FIELD_CLASSES: ReadonlySet<FieldClass> = new Set<FieldClass>([
  'direct-identifier',
  'quasi-identifier',
  'clinical',
  'free-text',
  'sensitive',
  'non-phi',
]);
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ALL']);
const POLICY_KEYS = ['roles', 'resources', 'separationOfDuties', 'breakGlass', 'stepUp'];
const FIELD_SPEC_KEYS = ['class', 'category', 'description', 'encrypt'];
const RESOURCE_KEYS = ['description', 'fields', 'subject', 'subjectParam', 'id', 'routes', 'rawBody', 'dlp', 'relationship', 'sensitive', 'disclose'];
const DLP_ACTIONS = ['block', 'redact', 'report'];
const OPTION_KEYS = ['secret', 'operators', 'limits', 'mode', 'warn', 'clock'];

interface ClassNode {
  path: string;
  keys: Map<string, ClassNode>;
  anyKey: ClassNode | null;
  element: ClassNode | null;
  field: { path: string; spec: FieldSpec } | null;
}

interface ResolvedRule {
  name: string;
  factory: OperatorFactory;
  fn: OperatorFunction;
}

interface ResourceState {
  compiled: CompiledResource;
  sensitive: readonly CompiledSensitive[];
  tree: ClassNode;
  /** role → purpose → declared path → rule */
  rules: Map<string, Map<PurposeOfUse, (path: string, spec: FieldSpec) => ResolvedRule>>;
  plans: Map<string, Plan>;
  /** role → purpose → plan, for the common single-role caller (no key building per request). */
  single: Map<string, Map<PurposeOfUse, Plan>>;
}

function newNode(path: string): ClassNode {
  return { path, keys: new Map(), anyKey: null, element: null, field: null };
}

function unknownKeys(obj: object, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) problems.push(`${where}: unknown key "${key}"${didYouMean(key, allowed)}`);
  }
}

function toKey(secret: Uint8Array | string | undefined, problems: string[]): Buffer | null {
  if (secret === undefined) return null;
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < 32) {
    problems.push('options.secret must be at least 32 bytes (use crypto.randomBytes(32))');
    return null;
  }
  return bytes;
}

/**
 * Validates a policy and precompiles its plans. Every problem is reported at once in one
 * {@link PolicyError} so a start-up fails with the whole list.
 */
export function compilePolicy(policy: PolicyDefinition, options: CompileOptions = {}): CompiledPolicy {
  const problems: string[] = [];
  if (policy === null || typeof policy !== 'object') throw new PolicyError(['the policy must be an object from definePolicy()']);
  unknownKeys(policy, POLICY_KEYS, 'policy', problems);
  unknownKeys(options, OPTION_KEYS, 'options', problems);
  if (options.clock !== undefined && !isClock(options.clock)) problems.push('options.clock must be a Clock: an object with now() returning epoch milliseconds');
  const clock = options.clock ?? systemClock;

  const secret = toKey(options.secret, problems);
  const tokenKey = secret && Buffer.from(hkdfSync('sha256', secret, 'phiguard', 'phiguard/token/v1', 32));
  const refKey = secret && Buffer.from(hkdfSync('sha256', secret, 'phiguard', 'phiguard/patient-ref/v1', 32));
  const tokenDigest = tokenKey ? (domain: string, value: string) => hmacDigest(tokenKey, domain, value) : undefined;

  if (options.limits !== undefined && options.limits !== null && typeof options.limits === 'object') {
    unknownKeys(options.limits, Object.keys(DEFAULT_LIMITS), 'options.limits', problems);
  }
  const limits: ProtectLimits = { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v <= 0) problems.push(`options.limits.${k} must be a positive integer`);
    else if (k === 'maxDepth' && v > 1000) problems.push('options.limits.maxDepth must be at most 1000 (deeper nesting risks the stack)');
  }

  const operators: Record<string, OperatorFactory> = Object.create(null) as Record<string, OperatorFactory>;
  for (const [name, fn] of Object.entries(options.operators ?? {})) {
    if (typeof fn !== 'function') problems.push(`options.operators.${name} must be a function (value, args) => value`);
    else if (name in BUILTIN_OPERATORS) problems.push(`options.operators.${name} would shadow the built-in operator "${name}"`);
    else operators[name] = customOperatorFactory(fn);
  }

  const roles = new Set<string>();
  if (!Array.isArray(policy.roles) || policy.roles.length === 0) problems.push('policy.roles must list at least one role');
  for (const role of policy.roles ?? []) {
    if (typeof role !== 'string' || role.length === 0) problems.push('policy.roles must contain non-empty strings');
    else if (roles.has(role)) problems.push(`role "${role}" is listed twice`);
    else roles.add(role);
  }

  const access = compileAccess(policy, roles, problems);
  const rolesWithPurpose = new Set<string>();
  const routeOwners = new Map<string, string>();
  const states = new Map<string, ResourceState>();
  const resources = (policy.resources ?? {}) as Record<string, ResourceDefinition>;
  if (Object.keys(resources).length === 0) problems.push('policy.resources must declare at least one resource');

  for (const [name, def] of Object.entries(resources)) {
    const where = `resource "${name}"`;
    if (def === null || typeof def !== 'object') {
      problems.push(`${where} must be an object`);
      continue;
    }
    unknownKeys(def, RESOURCE_KEYS, where, problems);

    // Fields → classification tree.
    const tree = newNode('');
    const fields = new Map<string, FieldSpec>();
    for (const [path, decl] of Object.entries(def.fields ?? {})) {
      const spec: FieldSpec = typeof decl === 'string' ? { class: decl } : decl;
      if (spec === null || typeof spec !== 'object' || !FIELD_CLASSES.has(spec.class)) {
        const given = typeof decl === 'string' ? decl : String(spec?.class);
        problems.push(`${where}: field "${path}" has unknown class "${given}"${didYouMean(given, FIELD_CLASSES)}`);
        continue;
      }
      // A misspelt `encrypt` would store the field in the clear: every key is checked.
      if (typeof decl === 'object') unknownKeys(decl, FIELD_SPEC_KEYS, `${where}: field "${path}"`, problems);
      if (spec.encrypt !== undefined && typeof spec.encrypt !== 'boolean') {
        problems.push(`${where}: field "${path}": encrypt must be true or false`);
      }
      const segments = parsePath(path);
      if (typeof segments === 'string') {
        problems.push(`${where}: ${segments}`);
        continue;
      }
      let node = tree;
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
      if (conflict || node.field !== null || node.keys.size > 0 || node.anyKey !== null || node.element !== null) {
        problems.push(`${where}: field "${path}" overlaps another declared field; declare only leaves (a path cannot be both a field and the parent of one)`);
        continue;
      }
      node.field = { path, spec };
      fields.set(path, spec);
    }
    if (fields.size === 0) problems.push(`${where}: declare at least one field`);

    const concretePath = (key: 'subject' | 'id'): string[] | null => {
      const p = def[key];
      if (p === undefined) return null;
      const segments = parsePath(p);
      if (typeof segments === 'string' || segments.some((s) => s === ELEMENT || s === ANY_KEY)) {
        problems.push(`${where}: ${key} "${p}" must be a plain dotted path (no [] or *)`);
        return null;
      }
      return segments;
    };
    const subjectPath = concretePath('subject');
    const idPath = concretePath('id');
    const encrypted = [...fields].filter(([, spec]) => spec.encrypt === true).map(([path]) => path);
    if (encrypted.length > 0 && def.id === undefined) {
      problems.push(`${where}: encrypts ${encrypted.join(', ')}, so it must declare \`id\` (the record id bound into each ciphertext)`);
    }
    if (subjectPath !== null && !refKey) problems.push(`${where}: declares a subject, so audit needs a keyed patient reference; pass options.secret`);

    const routes: { method: string; path: string }[] = [];
    for (const route of def.routes ?? []) {
      const m = /^([A-Z]+)\s+(\/\S*)$/.exec(typeof route === 'string' ? route.trim() : '');
      if (!m || !HTTP_METHODS.has(m[1]!)) {
        problems.push(`${where}: route "${String(route)}" must look like "GET /patients/:id/results"`);
        continue;
      }
      const key = `${m[1]} ${m[2]}`;
      const owner = routeOwners.get(key);
      if (owner !== undefined) problems.push(`route "${key}" is claimed by both "${owner}" and "${name}"`);
      else routeOwners.set(key, name);
      routes.push({ method: m[1]!, path: m[2]! });
    }
    let dlp: CompiledResource['dlp'] = null;
    if (def.dlp !== undefined) {
      const d = def.dlp as { request?: unknown; types?: unknown };
      if (d === null || typeof d !== 'object' || !DLP_ACTIONS.includes(d.request as string)) {
        problems.push(`${where}: dlp.request must be one of ${DLP_ACTIONS.join(', ')}`);
      } else {
        unknownKeys(d, ['request', 'types'], `${where}: dlp`, problems);
        const types = d.types === undefined ? null : Array.isArray(d.types) ? (d.types as unknown[]) : undefined;
        const bad = types === undefined ? ['(not an array)'] : (types ?? []).filter((t) => !PHI_TYPES.includes(t as PhiType));
        for (const t of bad) problems.push(`${where}: dlp.types has unknown type ${JSON.stringify(t)}${didYouMean(String(t), PHI_TYPES)}`);
        dlp = Object.freeze({ request: d.request as 'block' | 'redact' | 'report', types: (types ?? null) as readonly PhiType[] | null });
      }
    }
    if (def.rawBody !== undefined && def.rawBody !== 'allow' && def.rawBody !== 'deny') {
      problems.push(`${where}: rawBody must be "allow" or "deny"`);
    }

    const relationships = compileRelationships(def, roles, where, problems);
    const sensitive = compileSensitive(def, fields, roles, where, problems);

    // Disclosure matrix → per role and purpose, a resolver from field to operator.
    const rules = new Map<string, Map<PurposeOfUse, (path: string, spec: FieldSpec) => ResolvedRule>>();
    for (const [role, byPurpose] of Object.entries(def.disclose ?? {})) {
      if (!roles.has(role)) {
        problems.push(`${where}: disclose names unknown role "${role}"${didYouMean(role, roles)}`);
        continue;
      }
      const perPurpose = new Map<PurposeOfUse, (path: string, spec: FieldSpec) => ResolvedRule>();
      for (const [purpose, ruleSet] of Object.entries(byPurpose ?? {})) {
        const at = `${where}, role "${role}", purpose ${purpose}`;
        if (!isPurposeOfUse(purpose)) {
          problems.push(`${where}, role "${role}": unknown purpose of use "${purpose}"${didYouMean(purpose, PURPOSES_OF_USE)}`);
          continue;
        }
        if (purpose === 'PATRQT' && subjectPath === null) {
          problems.push(`${at}: patient requests are limited to the patient's own record, so the resource must declare "subject"`);
        }
        const resolver = compileRuleSet(ruleSet as RuleSet, fields, at, problems, operators, tokenDigest);
        if (resolver) perPurpose.set(purpose, resolver);
        rolesWithPurpose.add(role);
      }
      rules.set(role, perPurpose);
    }

    states.set(name, {
      compiled: Object.freeze({
        name,
        routes: Object.freeze(routes),
        rawBody: def.rawBody ?? 'deny',
        subjectPath,
        subjectParam: typeof def.subjectParam === 'string' && def.subjectParam.length > 0 ? def.subjectParam : null,
        idPath,
        fields,
        encrypted: Object.freeze(encrypted),
        dlp,
        relationships,
        sensitive,
        emergency: [...rules.values()].some((perPurpose) => perPurpose.has('ETREAT')),
      }),
      sensitive,
      tree,
      rules,
      plans: new Map(),
      single: new Map(),
    });
  }

  if (access.breakGlass !== null) {
    if (!refKey) problems.push('policy.breakGlass: grants are bound to a keyed patient reference; pass options.secret');
    for (const role of access.breakGlass.roles) {
      if (![...states.values()].some((st) => st.rules.get(role)?.has('ETREAT'))) {
        problems.push(`policy.breakGlass.roles: "${role}" has no ETREAT rules on any resource, so a grant would show it nothing; add ETREAT rules`);
      }
    }
  }
  for (const role of roles) {
    if (!rolesWithPurpose.has(role)) {
      problems.push(`role "${role}" has no purpose of use on any resource; give it a rule in some resource's disclose, or remove it`);
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);

  const mode = options.mode ?? (process.env.NODE_ENV === 'production' ? 'production' : 'development');
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PHIGUARD_UNCLASSIFIED' }));
  const warned = new Set<string>();
  const host = {
    limits,
    recentMfa: (context: Pick<AccessContext, 'authentication'>) => hasRecentMfa(context, access.stepUp, clock.now()),
    stepUpMaxAge: access.stepUp.maxAgeSeconds,
    onUnclassified:
      mode === 'development'
        ? (resource: string, paths: readonly string[]) => {
            const fresh = paths.filter((p) => {
              const key = `${resource}\0${p}`;
              if (warned.has(key) || warned.size >= 1000) return false;
              warned.add(key);
              return true;
            });
            if (fresh.length > 0) {
              warn(`phiguard: ${resource} has unclassified fields, not sent (deny by default): ${fresh.join(', ')}. Classify them in the policy.`);
            }
          }
        : null,
  };

  // Precompile every single-role plan now; combined role sets are built on first use.
  for (const state of states.values()) {
    for (const [role, perPurpose] of state.rules) {
      const plans = new Map<PurposeOfUse, Plan>();
      for (const purpose of perPurpose.keys()) plans.set(purpose, planFor(state, [role], purpose, host));
      state.single.set(role, plans);
    }
  }

  const refCache = new Map<string, string>();

  const decide = (context: AccessContext, resource: string, subjectId?: string | number): Decision => {
    const state = states.get(resource);
    if (state === undefined) throw new PolicyError([`unknown resource "${resource}"${didYouMean(resource, states.keys())}`]);
    const purpose = context.purposeOfUse;
    const grant = context.breakGlass !== undefined && context.breakGlass !== null;
    if (!grant) {
      if (purpose === undefined || purpose === null || purpose === '') return deny('purpose_required');
      if (!isPurposeOfUse(purpose)) return deny('purpose_unknown');
    }
    let known: string[] | null = null;
    for (const role of Array.isArray(context.roles) ? context.roles : []) if (roles.has(role)) (known ??= []).push(role);
    if (known === null) return deny('role_unknown');
    for (const set of access.separationOfDuties) {
      if (set.every((r) => known!.includes(r))) return deny('separation_of_duties');
    }
    if (grant) return underGrant(state, context, known, subjectId);
    if (!isPurposeOfUse(purpose)) return deny('purpose_unknown');
    let permitted = known.filter((role) => state.rules.get(role)?.has(purpose));
    if (permitted.length === 0) return deny('purpose_not_permitted');
    // 45 CFR 164.524: a patient's own record only; refused before the handler when the target is known.
    if (purpose === 'PATRQT' && subjectId !== undefined) {
      const own = context.principal?.patientId;
      if ((typeof own !== 'string' && typeof own !== 'number') || String(own) !== String(subjectId)) return deny('not_own_record');
    }
    // A role whose rule needs a relationship the caller lacks contributes nothing.
    if (state.compiled.relationships.size > 0) {
      const held = relationshipsOf(context);
      permitted = permitted.filter((role) => {
        const needed = state.compiled.relationships.get(role)?.get(purpose);
        return needed === undefined || held.includes(needed);
      });
      if (permitted.length === 0) return deny('relationship_required');
    }
    return { effect: 'allow', plan: planOf(state, permitted, purpose) };
  };

  const planOf = (state: ResourceState, permitted: string[], purpose: PurposeOfUse): Plan =>
    permitted.length === 1 ? state.single.get(permitted[0]!)!.get(purpose)! : planFor(state, permitted, purpose, host);

  /** Emergency access under a grant the guard validated: ETREAT rules, no relationship needed. */
  const underGrant = (state: ResourceState, context: AccessContext, known: string[], subjectId?: string | number): Decision => {
    const claim = context.breakGlass!;
    const grant = claim.validated;
    if (access.breakGlass === null) return deny('break_glass_not_permitted');
    if (
      grant === undefined ||
      !isTrustedGrant(grant) ||
      grant.expiresAt <= clock.now() ||
      grant.principalId !== context.principal?.id ||
      (subjectId !== undefined && String(subjectId) !== grant.patientId)
    ) {
      return deny('break_glass_invalid');
    }
    const eligible = known.filter((r) => access.breakGlass!.roles.has(r));
    if (eligible.length === 0) return deny('break_glass_not_permitted');
    const permitted = eligible.filter((r) => state.rules.get(r)?.has('ETREAT'));
    if (permitted.length === 0) return deny('purpose_not_permitted');
    return {
      effect: 'allow',
      plan: planOf(state, permitted, 'ETREAT'),
      breakGlass: { grantId: claim.grantId, reason: grant.reason, expiresAt: grant.expiresAt },
    };
  };

  return Object.freeze({
    roles,
    resources: new Map([...states].map(([k, v]) => [k, v.compiled])),
    limits,
    access,
    decide,
    clock,
    protect<T>(value: unknown, context: AccessContext, resource: string): Protected<T> {
      const decision = decide(context, resource);
      if (decision.effect === 'deny') throw new AccessDeniedError(decision.reason);
      return decision.plan.apply<T>(value, context);
    },
    patientRef(patientId: string | number): string {
      if (!refKey) throw new PolicyError(['patientRef needs options.secret']);
      const id = String(patientId);
      let ref = refCache.get(id);
      if (ref === undefined) {
        ref = `pt_${hmacDigest(refKey, 'patient', id).subarray(0, 16).toString('base64url')}`;
        // Recently seen patients are looked up again and again; keep a bounded cache of refs.
        if (refCache.size >= 4096) refCache.delete(refCache.keys().next().value!);
        refCache.set(id, ref);
      }
      return ref;
    },
  });
}

const denials = new Map<DenyReason, Decision>();
function deny(reason: DenyReason): Decision {
  let d = denials.get(reason);
  if (d === undefined) denials.set(reason, (d = Object.freeze({ effect: 'deny', reason })));
  return d;
}

function compileRuleSet(
  ruleSet: RuleSet,
  fields: ReadonlyMap<string, FieldSpec>,
  at: string,
  problems: string[],
  custom: Readonly<Record<string, OperatorFactory>>,
  tokenDigest: ((domain: string, value: string) => Buffer) | undefined,
): ((path: string, spec: FieldSpec) => ResolvedRule) | null {
  if (ruleSet === null || typeof ruleSet !== 'object') {
    problems.push(`${at}: rules must be an object of selector → operator`);
    return null;
  }
  const byPath = new Map<string, OperatorSpec>();
  const byClass = new Map<string, OperatorSpec>();
  let all: OperatorSpec | undefined;
  const selectors = [...fields.keys(), ...[...FIELD_CLASSES].map((c) => `@${c}`), '*'];
  for (const [selector, spec] of Object.entries(ruleSet)) {
    if (spec === undefined) continue;
    if (selector === '*') all = spec;
    else if (selector.startsWith('@')) {
      if (!FIELD_CLASSES.has(selector.slice(1) as FieldClass)) {
        problems.push(`${at}: unknown field class selector "${selector}"${didYouMean(selector, selectors)}`);
      } else byClass.set(selector.slice(1), spec);
    } else if (!fields.has(selector)) {
      problems.push(`${at}: rule names undeclared field "${selector}"${didYouMean(selector, selectors)}; declare it in fields first`);
    } else byPath.set(selector, spec);
  }
  // Validate every operator once, bound to each field it can apply to.
  const cache = new Map<string, ResolvedRule>();
  const resolve = (spec: OperatorSpec, path: string): ResolvedRule | null => {
    const key = `${path}\0${JSON.stringify(spec)}`;
    const hit = cache.get(key);
    if (hit) return hit;
    let name: string;
    let args: Readonly<Record<string, unknown>>;
    let factory: OperatorFactory | undefined;
    if (typeof spec === 'string') {
      name = spec;
      args = {};
      factory = BUILTIN_OPERATORS[spec];
    } else if (spec !== null && typeof spec === 'object' && 'custom' in spec) {
      name = spec.custom;
      args = spec.args ?? {};
      factory = custom[spec.custom];
      if (!factory) {
        problems.push(`${at}: custom operator "${name}" is not registered${didYouMean(name, Object.keys(custom))}; pass it in compilePolicy(…, { operators })`);
        return null;
      }
    } else if (spec !== null && typeof spec === 'object' && 'op' in spec) {
      const { op, ...rest } = spec as { op: string };
      name = op;
      args = rest;
      factory = BUILTIN_OPERATORS[op];
    } else {
      problems.push(`${at}: operator must be a name, { op, …args } or { custom, args }`);
      return null;
    }
    if (!factory) {
      problems.push(`${at}: unknown operator "${name}"${didYouMean(name, Object.keys(BUILTIN_OPERATORS))}`);
      return null;
    }
    const known = factory.args;
    if (known !== undefined) {
      // A misspelled argument must not silently fall back to a weaker default (`kep: 0` → last 4 shown).
      const unknownArgs = Object.keys(args).filter((k) => !known.includes(k));
      for (const k of unknownArgs) problems.push(`${at}: ${name}: unknown argument "${k}"${didYouMean(k, known)}`);
      if (unknownArgs.length > 0) return null;
    }
    const fn = factory.create(args, { path, tokenDigest });
    if (typeof fn === 'string') {
      problems.push(`${at}: ${fn}`);
      return null;
    }
    const rule = { name, factory, fn };
    cache.set(key, rule);
    return rule;
  };
  const denied = resolve('deny', '')!;
  const sent = resolve('send', '')!;
  const ruleFor = (path: string, spec: FieldSpec): OperatorSpec | undefined =>
    byPath.get(path) ?? byClass.get(spec.class) ?? all ?? (spec.class === 'non-phi' ? 'send' : undefined);
  // Resolve each field now so operator errors surface at compile time.
  const resolved = new Map<string, ResolvedRule>();
  for (const [path, spec] of fields) {
    const op = ruleFor(path, spec);
    const rule = op === undefined ? denied : op === 'send' ? sent : resolve(op, path);
    if (rule) resolved.set(path, rule);
  }
  return (path) => resolved.get(path) ?? denied;
}

function planFor(
  state: ResourceState,
  roles: readonly string[],
  purpose: PurposeOfUse,
  host: ConstructorParameters<typeof Plan>[6],
): Plan {
  const sorted = roles.length === 1 ? roles : [...new Set(roles)].sort();
  const key = `${purpose}\0${sorted.join('\0')}`;
  const cached = state.plans.get(key);
  if (cached) return cached;

  const resolvers = sorted.flatMap((r) => {
    const f = state.rules.get(r)?.get(purpose);
    return f ? [f] : [];
  });
  const leaves: Leaf[] = [];
  const leafFor = (path: string, spec: FieldSpec, masked: boolean): Leaf => {
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
      const rule = resolve(path, spec);
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
      decrypts: spec.encrypt === true && rule.factory.readsValue !== false,
    };
    leaves.push(leaf);
    return leaf;
  };
  let anySensitive = false;
  // `mask`: fields withheld in this subtree; `inside`: the sensitive elements whose masked
  // variant is being built (their rule is not attached again, nested ones are).
  const build = (node: ClassNode, mask: ReadonlySet<string> | null, inside: ReadonlySet<string> = new Set()): PlanNode => {
    if (node.field !== null) return leafFor(node.field.path, node.field.spec, mask?.has(node.field.path) ?? false);
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
    const rule = inside.has(node.path) ? undefined : state.sensitive.find((x) => x.elements === node.path);
    if (rule === undefined) return { ...branch, sensitive: null };
    anySensitive = true;
    const byCode = new Map<string, number[]>();
    const byTag = new Map<string, number[]>();
    rule.categories.forEach((c, i) => {
      for (const code of c.codes) byCode.set(code, [...(byCode.get(code) ?? []), i]);
      for (const tag of c.tags) byTag.set(tag, [...(byTag.get(tag) ?? []), i]);
    });
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
  const root = build(state.tree, null);
  const plan = new Plan(state.compiled.name, purpose, Object.freeze([...sorted]), root, leaves, state.compiled.subjectPath, host, anySensitive);
  // Role sets come from callers; bound the cache so odd combinations cannot grow it forever.
  if (state.plans.size < 512) state.plans.set(key, plan);
  return plan;
}
