/**
 * Validation of a policy definition into a frozen model: every check of `compilePolicy` lives
 * here, and every problem is collected so that a start-up fails with the whole list. The model
 * carries, per resource, its field index and, per role and purpose, the operator of each field;
 * plans (plans.ts) and decisions (decide.ts) are built from it and never read the definition.
 */
import { hkdfSync } from 'node:crypto';
import { isClock, systemClock, type Clock } from '../base/clock.js';
import { PolicyError } from '../errors.js';
import {
  BUILTIN_OPERATORS,
  customOperatorFactory,
  hmacDigest,
  type CustomOperator,
  type OperatorFactory,
  type OperatorFunction,
} from '../operators/builtin.js';
import { PURPOSES_OF_USE, isPurposeOfUse, type PurposeOfUse } from '../purpose.js';
import { didYouMean } from '../suggest.js';
import { ANY_KEY, ELEMENT, parsePath } from './path.js';
import { DEFAULT_LIMITS, jsonOf, type ProtectLimits } from './plan.js';
import { PHI_TYPES } from '../dlp/scanner.js';
import { cachedTokenText, tokenCacheBounds, type TokenCacheOptions } from '../operators/token-cache.js';
import type { PhiType } from '../dlp/index.js';
import type { FieldClass, FieldSpec, OperatorSpec, PolicyDefinition, Relationship, ResourceDefinition, RuleSet } from './types.js';
import { compileAccess, compileRelationships, compileSensitive, type CompiledAccess, type CompiledSensitive } from './access.js';
import { buildFieldIndex, type FieldIndex } from './field-index.js';
import { parseRoute, routeCovers, routesOverlap, routeParams, type ParsedRoute } from './routes.js';

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
  /** Bounds of the cache of `token` digests (default 16 MiB, 250,000 ids); `false` turns it off. */
  readonly tokenCache?: TokenCacheOptions | false;
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

/** A resource after validation, with its routes and audit paths. */
export interface CompiledResource {
  readonly name: string;
  readonly routes: readonly { readonly method: string; readonly path: string }[];
  readonly rawBody: 'allow' | 'deny';
  /** Declared a query resource (`query`), with the parameter names audit may record; null otherwise. */
  readonly query: { readonly params: readonly string[] } | null;
  /** Reads the patient id (for hashing) from a value of this resource; null when the subject is a list (see `subjectsOf`). */
  readonly subjectPath: readonly string[] | null;
  /**
   * The patient ids a value of this resource is about (normalised by `subjectFormat`): one for a
   * plain subject, every element's for a list. `complete` is false when the resource has no
   * subject, or a subject is missing, not a plain id, or past the cap: a PATRQT request is then
   * refused, and audit lists the ids that could be read.
   */
  readonly subjectsOf: (value: unknown) => { readonly ids: readonly string[]; readonly complete: boolean };
  /** Route parameter holding the patient id, if declared. */
  readonly subjectParam: string | null;
  /** Reads the opaque resource id from a value of this resource. */
  readonly idPath: readonly string[] | null;
  readonly fields: ReadonlyMap<string, FieldSpec>;
  /** Which declared field (and class) each path of a value of this resource is: the one index every reader asks. */
  readonly index: FieldIndex;
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

/** @internal An operator bound to one field. */
export interface ResolvedRule {
  readonly name: string;
  readonly factory: OperatorFactory;
  readonly fn: OperatorFunction;
}

/** @internal The operator of each declared field for one role and purpose. */
export type RuleResolver = (path: string) => ResolvedRule;

/** @internal One resource of the model. */
export interface ResourceModel {
  readonly compiled: CompiledResource;
  /** role → purpose → resolver. */
  readonly rules: ReadonlyMap<string, ReadonlyMap<PurposeOfUse, RuleResolver>>;
  /** The resource inside its envelope, when it declares one. */
  readonly envelope: EnvelopeModel | null;
}

/** @internal A resource's envelope: its model, and how a value in it is recognised and prepared. */
export interface EnvelopeModel {
  readonly model: ResourceModel;
  /** Whether a value is the envelope (a Bundle, a page) rather than the resource itself. */
  readonly matches: (value: unknown) => boolean;
  /** The envelope with the entries of other resource types left out (fail closed). */
  readonly prepare: (value: unknown) => unknown;
}

/** @internal A validated policy: what plans and decisions are built from. Frozen. */
export interface PolicyModel {
  readonly roles: ReadonlySet<string>;
  readonly access: CompiledAccess;
  readonly limits: ProtectLimits;
  readonly resources: ReadonlyMap<string, ResourceModel>;
  /** Key of audit patient references; null without a secret. */
  readonly refKey: Buffer | null;
  /** The time decisions read. */
  readonly clock: Clock;
  /** Routes listed as carrying no PHI, `METHOD /path`. */
  readonly nonPhi: readonly string[];
}

const FIELD_CLASSES: ReadonlySet<FieldClass> = new Set<FieldClass>([
  'direct-identifier',
  'quasi-identifier',
  'clinical',
  'free-text',
  'sensitive',
  'non-phi',
]);
const POLICY_KEYS = ['roles', 'resources', 'separationOfDuties', 'breakGlass', 'stepUp', 'categories', 'nonPhi'];
/** Keys under which data usually lists its codes or security labels (FHIR, LOINC, lab exports). */
const CODED_KEY = /^(code|codes|coding|loinc|loinccode|test|tests|testcode|security|meta|valuecodeableconcept)$/i;
const FIELD_SPEC_KEYS = ['class', 'category', 'description', 'encrypt'];
const QUERY_PARAM = /^[A-Za-z_][\w.:-]{0,63}$/;
const RESOURCE_KEYS = ['description', 'fields', 'envelope', 'subject', 'subjectFormat', 'subjectParam', 'id', 'routes', 'rawBody', 'query', 'dlp', 'relationship', 'sensitive', 'disclose'];
const DLP_ACTIONS = ['block', 'redact', 'report'];
const OPTION_KEYS = ['secret', 'operators', 'limits', 'tokenCache', 'mode', 'warn', 'clock'];

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
 * Validates a policy into a frozen {@link PolicyModel}. Throws one {@link PolicyError} listing
 * every problem found.
 */
export function validatePolicy(policy: PolicyDefinition, options: CompileOptions = {}): PolicyModel {
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
  const tokenBounds = tokenCacheBounds(options.tokenCache, problems);
  const tokenText = tokenDigest && cachedTokenText(tokenDigest, tokenBounds);

  if (options.limits !== undefined && options.limits !== null && typeof options.limits === 'object') {
    unknownKeys(options.limits, Object.keys(DEFAULT_LIMITS), 'options.limits', problems);
  }
  const limits: ProtectLimits = Object.freeze({ ...DEFAULT_LIMITS, ...(options.limits ?? {}) });
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
  const shared = policy.categories;
  if (shared !== undefined && (shared === null || typeof shared !== 'object' || Array.isArray(shared))) {
    problems.push('policy.categories must be an object: category name → { codes, tags, reveal, stepUp }');
  }
  // Sensitive categories are a property of the data: once the policy knows any, every resource
  // whose fields carry codes must say where its elements list them (or that it carries none).
  const knowsCategories =
    (shared !== undefined && shared !== null) ||
    Object.values((policy.resources ?? {}) as Record<string, ResourceDefinition>).some((d) => Array.isArray(d?.sensitive) && d.sensitive.length > 0);
  const rolesWithPurpose = new Set<string>();
  const claimed: { resource: string; route: ParsedRoute }[] = [];
  const models = new Map<string, ResourceModel>();
  const resources = (policy.resources ?? {}) as Record<string, ResourceDefinition>;
  if (Object.keys(resources).length === 0) problems.push('policy.resources must declare at least one resource');

  /** Validates one resource (or the enveloped form of one) into its model. */
  const validateResource = (name: string, def: ResourceDefinition, where: string): ResourceModel | null => {
    if (def === null || typeof def !== 'object') {
      problems.push(`${where} must be an object`);
      return null;
    }
    unknownKeys(def, RESOURCE_KEYS, where, problems);

    // Fields → the field index.
    const declared: [string, FieldSpec][] = [];
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
      declared.push([path, spec]);
    }
    const index = buildFieldIndex(declared, where, problems);
    const fields = new Map<string, FieldSpec>([...index.fields].map(([path, f]) => [path, f.spec]));
    if (fields.size === 0) problems.push(`${where}: declare at least one field`);

    // `subject` and `id` are read from every value: a path no declared field covers would read
    // nothing, silently (no patient reference in audit, no PATRQT check possible).
    const concretePath = (key: 'subject' | 'id'): string[] | null => {
      const p = def[key];
      if (p === undefined) return null;
      const segments = parsePath(p);
      if (typeof segments === 'string' || segments.some((s) => s === ELEMENT || s === ANY_KEY)) {
        problems.push(`${where}: ${key} "${p}" must be a plain dotted path (no [] or *)`);
        return null;
      }
      if (fields.size > 0 && index.fieldAt(segments) === null) {
        problems.push(`${where}: ${key} "${p}" is not a declared field${didYouMean(p, fields.keys())}; declare it in fields`);
      }
      return segments;
    };
    const subjectSegments = subjectPathOf(def.subject, where, index, fields, problems);
    const subjectPath = subjectSegments !== null && !subjectSegments.includes(ELEMENT) ? subjectSegments : null;
    const subjectFormat = subjectFormatOf(def.subjectFormat, where, problems);
    // The same resource in its envelope (a FHIR Bundle, a page): its own model, chosen by shape.
    const envelope = def.envelope === undefined ? null : envelopeOf(name, def, where, problems, validateResource);
    const bare = subjectReader(subjectSegments, subjectFormat);
    const subjectsOf: CompiledResource['subjectsOf'] =
      envelope === null ? bare : (value) => (envelope.matches(value) ? envelope.model.compiled.subjectsOf(value) : bare(value));
    const idPath = concretePath('id');
    const encrypted = [...fields].filter(([, spec]) => spec.encrypt === true).map(([path]) => path);
    if (encrypted.length > 0 && def.id === undefined) {
      problems.push(`${where}: encrypts ${encrypted.join(', ')}, so it must declare \`id\` (the record id bound into each ciphertext)`);
    }
    if (subjectSegments !== null && !refKey) problems.push(`${where}: declares a subject, so audit needs a keyed patient reference; pass options.secret (the secret option of phiguard(), PhiGuardModule, createPhiGuard or compilePolicy)`);

    const routes: { method: string; path: string }[] = [];
    for (const route of def.routes ?? []) {
      const parsed = parseRoute(route);
      if (typeof parsed === 'string') {
        problems.push(`${where}: ${parsed}`);
        continue;
      }
      // Two resources answering one request: which plan applies would depend on registration
      // order, and the wrong one can disclose fields its rules never meant for this route.
      for (const other of claimed) {
        // One strictly more specific than the other (`/items/summary` and `/items/:id`) is an
        // explicit order: the adapters decide by the route the framework ran, whose handler
        // produced the body. Equal or crossing patterns have no such order.
        const ordered = routeCovers(other.route, parsed) !== routeCovers(parsed, other.route);
        if (routesOverlap(other.route, parsed) && !ordered) {
          problems.push(
            other.resource === name && other.route.key === parsed.key
              ? `${where}: route "${parsed.key}" is listed twice`
              : other.resource === name
                ? `${where}: routes "${other.route.key}" and "${parsed.key}" overlap; list one pattern`
                : other.route.key === parsed.key
                  ? `route "${parsed.key}" is claimed by both "${other.resource}" and "${name}"`
                  : `routes "${other.route.key}" and "${parsed.key}" can match the same request with neither more specific, so it would be claimed by ${other.resource} and ${name}; make the patterns distinct (a literal segment or suffix)`,
          );
        }
      }
      claimed.push({ resource: name, route: parsed });
      routes.push({ method: parsed.method, path: parsed.path });
    }

    const subjectParam = typeof def.subjectParam === 'string' && def.subjectParam.length > 0 ? def.subjectParam : null;
    if (def.subjectParam !== undefined && subjectParam === null) problems.push(`${where}: subjectParam must be a route parameter name`);
    if (subjectParam !== null && routes.length > 0) {
      // A parameter no route has is never read: PATRQT and relationship checks would not run early.
      const params = [...new Set(routes.flatMap((r) => routeParams(r.path)))];
      if (!params.includes(subjectParam)) {
        problems.push(`${where}: subjectParam "${subjectParam}" is not a parameter of any of its routes${didYouMean(subjectParam, params)}`);
      }
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
    // Query parameter names go into audit as written here: they must be names, not values.
    let query: { readonly params: readonly string[] } | null = null;
    if (def.query === true) query = Object.freeze({ params: Object.freeze([]) });
    else if (def.query !== undefined) {
      const q = def.query as unknown;
      const params = isObject(q) && Array.isArray(q.params) ? (q.params as unknown[]) : undefined;
      if (params === undefined) problems.push(`${where}: query must be true or { params: ['name', …] }`);
      else {
        if (isObject(q)) unknownKeys(q, ['params'], `${where}: query`, problems);
        const bad = params.filter((n) => typeof n !== 'string' || !QUERY_PARAM.test(n));
        for (const n of bad) problems.push(`${where}: query.params has ${JSON.stringify(n)}, not a parameter name (letters, digits, _ . : -)`);
        if (bad.length === 0) query = Object.freeze({ params: Object.freeze([...new Set(params as string[])]) });
      }
    }

    const relationships = compileRelationships(def, roles, where, problems);
    const sensitive = compileSensitive(def, fields, roles, where, problems, shared ?? undefined);
    if (knowsCategories && def.sensitive === undefined && def.rawBody === 'allow' && [...index.fields.values()].some((f) => f.class !== 'non-phi')) {
      // A raw body is sent as the handler built it: no plan can withhold a sensitive element in it.
      problems.push(
        `${where}: sends raw bodies of PHI, which no plan can mask, so its sensitive elements must be declared (for rows the handler filters through protect), ` +
          'or `sensitive: []` once the handler applies the categories itself (createSafeHarbor with the caller\'s context)',
      );
    } else if (knowsCategories && def.sensitive === undefined) {
      const coded = [...index.fields.values()]
        .filter((f) => f.class !== 'non-phi' && f.segments.some((s) => CODED_KEY.test(s)))
        .map((f) => f.path);
      if (coded.length > 0) {
        problems.push(
          `${where}: carries coded fields (${coded.slice(0, 5).join(', ')}) but declares no sensitive elements, so HIV, genetic and other ` +
            'sensitive results would pass unmasked; declare `sensitive: [{ elements, codes, mask }]` (categories default to the policy\'s), or `sensitive: []` if it carries none',
        );
      }
    } else if (knowsCategories) {
      const prefixes = sensitive.map((x) => x.elements).filter((p) => p.length > 0);
      const uncovered = [...index.fields.values()].filter(
        (f) => f.class !== 'non-phi' && f.segments.some((s) => CODED_KEY.test(s)) && !prefixes.some((p) => f.path.startsWith(p)),
      );
      if (sensitive.length > 0 && uncovered.length > 0) {
        problems.push(`${where}: coded fields outside every sensitive element: ${uncovered.slice(0, 5).map((f) => f.path).join(', ')}; cover them with a \`sensitive\` entry`);
      }
    }

    // Disclosure matrix → per role and purpose, a resolver from field to operator.
    const subjectField = subjectSegments === null ? undefined : index.fieldAt(subjectSegments.map((s) => (s === ELEMENT ? 0 : s)))?.path;
    const rules = new Map<string, Map<PurposeOfUse, RuleResolver>>();
    for (const [role, byPurpose] of Object.entries(def.disclose ?? {})) {
      if (!roles.has(role)) {
        problems.push(`${where}: disclose names unknown role "${role}"${didYouMean(role, roles)}`);
        continue;
      }
      const perPurpose = new Map<PurposeOfUse, RuleResolver>();
      for (const [purpose, ruleSet] of Object.entries(byPurpose ?? {})) {
        const at = `${where}, role "${role}", purpose ${purpose}`;
        if (!isPurposeOfUse(purpose)) {
          problems.push(`${where}, role "${role}": unknown purpose of use "${purpose}"${didYouMean(purpose, PURPOSES_OF_USE)}`);
          continue;
        }
        if (purpose === 'PATRQT' && subjectSegments === null) {
          problems.push(`${at}: patient requests are limited to the patient's own record, so the resource must declare "subject"`);
        }
        const resolver = compileRuleSet(ruleSet as RuleSet, fields, at, problems, operators, tokenDigest, subjectField, subjectFormat, tokenText);
        if (resolver) perPurpose.set(purpose, resolver);
        rolesWithPurpose.add(role);
      }
      rules.set(role, perPurpose);
    }

    return Object.freeze({
        compiled: Object.freeze({
          name,
          routes: Object.freeze(routes),
          rawBody: def.rawBody ?? 'deny',
          query,
          subjectPath,
          subjectsOf,
          subjectParam,
          idPath,
          fields,
          index,
          encrypted: Object.freeze(encrypted),
          dlp,
          relationships,
          sensitive: Object.freeze(sensitive),
          emergency: [...rules.values()].some((perPurpose) => perPurpose.has('ETREAT')),
        }),
        rules,
        envelope,
      });
  };
  for (const [name, def] of Object.entries(resources)) {
    const model = validateResource(name, def, `resource "${name}"`);
    if (model !== null) models.set(name, model);
  }

  if (access.breakGlass !== null) {
    if (!refKey) problems.push('policy.breakGlass: grants are bound to a keyed patient reference; pass options.secret (the secret option of phiguard(), PhiGuardModule, createPhiGuard or compilePolicy)');
    for (const role of access.breakGlass.roles) {
      if (![...models.values()].some((m) => m.rules.get(role)?.has('ETREAT'))) {
        problems.push(`policy.breakGlass.roles: "${role}" has no ETREAT rules on any resource, so a grant would show it nothing; add ETREAT rules`);
      }
    }
  }
  for (const role of roles) {
    if (!rolesWithPurpose.has(role)) {
      problems.push(`role "${role}" has no purpose of use on any resource; give it a rule in some resource's disclose, or remove it`);
    }
  }
  // Routes without PHI: checked here for their shape; the exchange refuses one a resource claims.
  const nonPhi: string[] = [];
  if (policy.nonPhi !== undefined) {
    if (!Array.isArray(policy.nonPhi)) problems.push('policy.nonPhi must be a list of routes such as "GET /health"');
    else {
      for (const route of policy.nonPhi) {
        const parsed = parseRoute(route);
        if (typeof parsed === 'string') problems.push(`policy.nonPhi: ${parsed}`);
        else nonPhi.push(parsed.key);
      }
    }
  }
  // Shared definitions (policy.categories) are checked where each resource uses them: report once.
  if (problems.length > 0) throw new PolicyError([...new Set(problems)]);
  return Object.freeze({ roles, access, limits, resources: models, refKey, clock, nonPhi: Object.freeze(nonPhi) });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The enveloped form of a resource: every field, rule, subject and sensitive element of the
 * resource moved under the envelope's item path, plus the envelope's own fields.
 * - `{ bundle: 'Observation' }`: a FHIR Bundle; entries whose resource is of another type are
 *   left out; `entry[].fullUrl` is classed and disclosed as the resource's `id` field, and
 *   `link[].url` (search URLs carry identifiers) is never sent.
 * - `{ items: 'data[]', fields }`: a page wrapper, its own fields declared in `fields`.
 */
function envelopeOf(
  name: string,
  def: ResourceDefinition,
  where: string,
  problems: string[],
  validate: (name: string, def: ResourceDefinition, where: string) => ResourceModel | null,
): EnvelopeModel | null {
  const e = def.envelope as { bundle?: unknown; items?: unknown; fields?: unknown };
  const at = `${where}: envelope`;
  if (!isObject(e) || (typeof e.bundle === 'string') === (typeof e.items === 'string')) {
    problems.push(`${at} must be { bundle: '<FHIR resourceType>' } or { items: '<path ending in []>', fields? }`);
    return null;
  }
  unknownKeys(e, typeof e.bundle === 'string' ? ['bundle'] : ['items', 'fields'], at, problems);
  const own = Object.entries(def.fields ?? {});
  if (own.some(([p]) => p.startsWith('[]'))) {
    problems.push(`${at}: a resource whose fields start at a top-level array cannot be enveloped; declare its items`);
    return null;
  }
  if (own.some(([, d]) => typeof d === 'object' && d !== null && d.encrypt === true)) {
    problems.push(`${at}: encrypted fields are bound to one record id, so a resource with them cannot be enveloped`);
    return null;
  }
  let prefix: string;
  let wrapper: Record<string, FieldClass | FieldSpec>;
  let matches: (value: unknown) => boolean;
  let prepare: (value: unknown) => unknown = (v) => v;
  if (typeof e.bundle === 'string') {
    const type = e.bundle;
    prefix = 'entry[].resource.';
    const idSpec = def.fields?.id;
    wrapper = {
      resourceType: 'non-phi',
      id: 'non-phi',
      meta: 'non-phi',
      type: 'non-phi',
      timestamp: 'non-phi',
      total: 'non-phi',
      'link[].relation': 'non-phi',
      'link[].url': { class: 'direct-identifier', description: 'search URLs carry the search parameters' },
      'entry[].fullUrl': idSpec === undefined ? 'direct-identifier' : typeof idSpec === 'string' ? idSpec : { class: idSpec.class },
      'entry[].search': 'non-phi',
    };
    matches = (v) => isObject(v) && v.resourceType === 'Bundle';
    // The discriminator: an entry of another resource type is not this resource; it is left out.
    prepare = (v) => {
      const b = v as Record<string, unknown>;
      if (!Array.isArray(b.entry)) return v;
      return { ...b, entry: b.entry.filter((x) => isObject(x) && isObject(x.resource) && x.resource.resourceType === type) };
    };
  } else {
    const items = parsePath(e.items as string);
    if (typeof items === 'string' || items[items.length - 1] !== ELEMENT || items.includes(ANY_KEY) || items[0] === ELEMENT) {
      problems.push(`${at}: items must be a key path ending in [] (e.g. "data[]")`);
      return null;
    }
    prefix = `${e.items as string}.`;
    wrapper = isObject(e.fields) ? (e.fields as Record<string, FieldClass | FieldSpec>) : {};
    if (e.fields !== undefined && !isObject(e.fields)) problems.push(`${at}: fields must be an object of path → class`);
    const key = items[0]!;
    matches = (v) => isObject(v) && Array.isArray(v[key]);
    if (own.some(([p]) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[]`))) {
      problems.push(`${at}: the resource declares "${key}" itself, so a page could not be told from a resource`);
      return null;
    }
  }
  const moved = (path: string) => `${prefix}${path}`;
  const fields: Record<string, FieldClass | FieldSpec> = { ...wrapper };
  for (const [path, decl] of own) fields[moved(path)] = decl;
  const disclose: Record<string, Record<string, RuleSet>> = {};
  for (const [role, byPurpose] of Object.entries(def.disclose ?? {})) {
    disclose[role] = {};
    for (const [purpose, rules] of Object.entries(byPurpose ?? {})) {
      if (!isObject(rules)) continue;
      // Search URLs echo the search parameters (names, identifiers): never sent, whatever `*` says.
      const out: Record<string, OperatorSpec> = typeof e.bundle === 'string' ? { 'link[].url': 'deny' } : {};
      for (const [selector, op] of Object.entries(rules as Record<string, OperatorSpec>)) {
        if (selector === '*' || selector.startsWith('@')) out[selector] = op;
        else {
          out[moved(selector)] = op;
          if (selector === 'id' && typeof e.bundle === 'string') out['entry[].fullUrl'] = op;
        }
      }
      disclose[role]![purpose] = out as RuleSet;
    }
  }
  const envelopeDef = {
    fields,
    disclose,
    ...(def.subject === undefined ? {} : { subject: moved(def.subject) }),
    ...(def.subjectFormat === undefined ? {} : { subjectFormat: def.subjectFormat }),
    ...(def.rawBody === undefined ? {} : { rawBody: def.rawBody }),
    ...(def.query === undefined ? {} : { query: def.query }),
    ...(def.relationship === undefined ? {} : { relationship: def.relationship, subjectParam: def.subjectParam }),
    ...(def.sensitive === undefined
      ? {}
      : { sensitive: def.sensitive.map((x) => (isObject(x) && typeof x.elements === 'string' ? { ...x, elements: moved(x.elements) } : x)) }),
  } as unknown as ResourceDefinition;
  const model = validate(name, envelopeDef, at);
  return model === null ? null : Object.freeze({ model, matches, prepare });
}

/** The subject's segments: a declared field, through arrays if it names a list, never `*`. */
function subjectPathOf(p: string | undefined, where: string, index: FieldIndex, fields: ReadonlyMap<string, FieldSpec>, problems: string[]): string[] | null {
  if (p === undefined) return null;
  const segments = parsePath(p);
  if (typeof segments === 'string' || segments.includes(ANY_KEY) || segments[segments.length - 1] === ELEMENT) {
    problems.push(`${where}: subject "${p}" must be a dotted path, through arrays with [] for a list (no *, not ending in [])`);
    return null;
  }
  if (fields.size > 0 && index.fieldAt(segments.map((s) => (s === ELEMENT ? 0 : s))) === null) {
    problems.push(`${where}: subject "${p}" is not a declared field${didYouMean(p, fields.keys())}; declare it in fields`);
  }
  return segments;
}

/** `'Patient/{id}'` → a reader of the id, or null when absent. */
function subjectFormatOf(format: unknown, where: string, problems: string[]): ((raw: string) => string) | null {
  if (format === undefined) return null;
  if (typeof format !== 'string' || format.split('{id}').length !== 2 || format === '{id}') {
    problems.push(`${where}: subjectFormat must contain "{id}" once with fixed text around it, e.g. "Patient/{id}"`);
    return null;
  }
  const [before, after] = format.split('{id}') as [string, string];
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${escape(before)}(.+)${escape(after)}$`);
  return (raw) => re.exec(raw)?.[1] ?? raw;
}

/** Most patients read from one value (a list response); more refuse PATRQT and audit the first ones. */
const MAX_SUBJECTS = 1000;
const NO_SUBJECT = Object.freeze({ ids: Object.freeze([]) as readonly string[], complete: false });

function subjectReader(segments: readonly string[] | null, format: ((raw: string) => string) | null): CompiledResource['subjectsOf'] {
  if (segments === null) return () => NO_SUBJECT;
  const list = segments.includes(ELEMENT);
  return (value) => {
    const out: string[] = [];
    let ok = true;
    // Read as JSON.stringify would: a subject inside a model instance sits behind its toJSON.
    const go = (raw: unknown, i: number, key: string): void => {
      const v = jsonOf(raw, key);
      if (i === segments.length) {
        if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) {
          if (out.length >= MAX_SUBJECTS) ok = false;
          else out.push(format === null ? String(v) : format(String(v)));
        } else ok = false; // missing, or not a plain id: String() of an object could be crafted
        return;
      }
      if (v === null || typeof v !== 'object') {
        ok = false;
        return;
      }
      const s = segments[i]!;
      if (s === ELEMENT) {
        if (!Array.isArray(v)) ok = false;
        else v.forEach((el, k) => go(el, i + 1, String(k)));
        return;
      }
      if (Array.isArray(v) || !Object.hasOwn(v, s)) {
        ok = false;
        return;
      }
      go((v as Record<string, unknown>)[s], i + 1, s);
    };
    go(value, 0, '');
    return { ids: out, complete: ok && (list || out.length === 1) };
  };
}

/**
 * Compiles one rule set: validates every selector and operator, and binds an operator to each
 * declared field. The most specific selector wins: field path, then `@class`, then `*`; a field
 * nothing matches is denied (non-PHI fields default to `send`).
 */
function compileRuleSet(
  ruleSet: RuleSet,
  fields: ReadonlyMap<string, FieldSpec>,
  at: string,
  problems: string[],
  custom: Readonly<Record<string, OperatorFactory>>,
  tokenDigest: ((domain: string, value: string) => Buffer) | undefined,
  subjectField: string | undefined,
  subjectFormat: ((raw: string) => string) | null,
  tokenText?: (domain: string, value: string) => string,
): RuleResolver | null {
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
    // A token of the patient id is keyed by the identity, not by where it sits, so that one
    // patient gets one token from every resource and envelope that carries the subject.
    const identity = name === 'token' && path === subjectField && !('domain' in args);
    if (identity) args = { ...args, domain: 'patient' };
    const created = factory.create(args, { path, tokenDigest, tokenText });
    if (typeof created === 'string') {
      problems.push(`${at}: ${created}`);
      return null;
    }
    // `Patient/1001` and `1001` are one patient: tokenized as the id.
    const fn = identity && subjectFormat !== null ? (v: unknown) => created(typeof v === 'string' ? subjectFormat(v) : v) : created;
    const rule = Object.freeze({ name, factory, fn });
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
