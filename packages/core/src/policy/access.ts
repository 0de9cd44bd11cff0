/**
 * Validation and compilation of the access-context parts of a policy: separation of duties,
 * break-glass, step-up, required relationships and sensitive categories.
 */
import { DEFAULT_BREAK_GLASS_REASONS } from '../base/constants.js';
import type { AccessContext } from '../context.js';
import { PURPOSES_OF_USE, isPurposeOfUse, type PurposeOfUse } from '../purpose.js';
import { didYouMean } from '../suggest.js';
import { ELEMENT, formatPath, parsePath } from './path.js';
import type { FieldSpec, PolicyDefinition, Relationship, ResourceDefinition, SensitiveCategory } from './types.js';

const RELATIONSHIPS: readonly Relationship[] = ['care-team', 'encounter'];
const DEFAULT_MFA_METHODS = ['mfa', 'otp', 'hwk', 'swk', 'sc', 'fpt', 'face', 'sms', 'pop'];

/** The policy-wide access rules, compiled. */
export interface CompiledAccess {
  readonly separationOfDuties: readonly (readonly string[])[];
  readonly breakGlass: {
    readonly roles: ReadonlySet<string>;
    readonly reviewers: ReadonlySet<string>;
    readonly reasons: readonly string[];
    readonly maxMinutes: number;
    readonly minJustification: number;
  } | null;
  readonly stepUp: { readonly maxAgeSeconds: number; readonly methods: ReadonlySet<string> };
}

/** @internal One sensitive definition of a resource, compiled. */
export interface CompiledSensitive {
  /** Policy spelling of the element path (`reports[].observations[]`). */
  readonly elements: string;
  readonly codes: readonly string[] | null;
  readonly tags: readonly string[] | null;
  /** Absolute policy paths of the masked fields. */
  readonly mask: ReadonlySet<string>;
  readonly categories: readonly {
    readonly name: string;
    readonly codes: ReadonlySet<string>;
    readonly tags: ReadonlySet<string>;
    readonly reveal: ReadonlyMap<string, ReadonlySet<PurposeOfUse>>;
    readonly stepUp: boolean;
    readonly relationship: Relationship | null;
  }[];
}

function stringList(value: unknown, where: string, problems: string[]): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    problems.push(`${where} must be a list of non-empty strings`);
    return [];
  }
  return value as string[];
}

function roleList(value: unknown, roles: ReadonlySet<string>, where: string, problems: string[]): string[] {
  const list = stringList(value, where, problems);
  for (const r of list) if (!roles.has(r)) problems.push(`${where} names unknown role "${r}"${didYouMean(r, roles)}`);
  return list.filter((r) => roles.has(r));
}

function intIn(value: unknown, fallback: number, min: number, max: number, where: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    problems.push(`${where} must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return value as number;
}

export function compileAccess(policy: PolicyDefinition, roles: ReadonlySet<string>, problems: string[]): CompiledAccess {
  const sod: string[][] = [];
  if (policy.separationOfDuties !== undefined) {
    if (!Array.isArray(policy.separationOfDuties)) problems.push('policy.separationOfDuties must be a list of role lists');
    else
      policy.separationOfDuties.forEach((set, i) => {
        const list = roleList(set, roles, `policy.separationOfDuties[${i}]`, problems);
        if (list.length < 2) problems.push(`policy.separationOfDuties[${i}] must name at least two roles`);
        else sod.push(list);
      });
  }
  let breakGlass: CompiledAccess['breakGlass'] = null;
  const bg = policy.breakGlass;
  if (bg !== undefined) {
    const where = 'policy.breakGlass';
    if (bg === null || typeof bg !== 'object') problems.push(`${where} must be an object`);
    else {
      for (const k of Object.keys(bg)) {
        const known = ['roles', 'reviewers', 'reasons', 'maxMinutes', 'minJustification'];
        if (!known.includes(k)) problems.push(`${where}: unknown key "${k}"${didYouMean(k, known)}`);
      }
      breakGlass = {
        roles: new Set(roleList(bg.roles, roles, `${where}.roles`, problems)),
        reviewers: new Set(roleList(bg.reviewers, roles, `${where}.reviewers`, problems)),
        reasons: bg.reasons === undefined ? DEFAULT_BREAK_GLASS_REASONS : stringList(bg.reasons, `${where}.reasons`, problems),
        maxMinutes: intIn(bg.maxMinutes, 60, 1, 24 * 60, `${where}.maxMinutes`, problems),
        minJustification: intIn(bg.minJustification, 20, 0, 1000, `${where}.minJustification`, problems),
      };
    }
  }
  const su = policy.stepUp ?? {};
  const stepUp = {
    maxAgeSeconds: intIn(su.maxAgeSeconds, 900, 1, 86_400, 'policy.stepUp.maxAgeSeconds', problems),
    methods: new Set(su.methods === undefined ? DEFAULT_MFA_METHODS : stringList(su.methods, 'policy.stepUp.methods', problems)),
  };
  return { separationOfDuties: sod, breakGlass, stepUp };
}

/** role → purpose → required relationship. */
export function compileRelationships(
  def: ResourceDefinition,
  roles: ReadonlySet<string>,
  where: string,
  problems: string[],
): ReadonlyMap<string, ReadonlyMap<PurposeOfUse, Relationship>> {
  const out = new Map<string, Map<PurposeOfUse, Relationship>>();
  if (def.relationship === undefined) return out;
  if (def.subjectParam === undefined) {
    problems.push(`${where}: requires relationships, so it must declare "subjectParam" (the route parameter naming the patient)`);
  }
  for (const [role, byPurpose] of Object.entries(def.relationship ?? {})) {
    if (!roles.has(role)) {
      problems.push(`${where}: relationship names unknown role "${role}"${didYouMean(role, roles)}`);
      continue;
    }
    const m = new Map<PurposeOfUse, Relationship>();
    for (const [purpose, rel] of Object.entries(byPurpose ?? {})) {
      if (!isPurposeOfUse(purpose)) problems.push(`${where}: relationship of "${role}": unknown purpose "${purpose}"${didYouMean(purpose, PURPOSES_OF_USE)}`);
      else if (purpose === 'PATRQT') problems.push(`${where}: relationship of "${role}": patient requests (PATRQT) never require a relationship`);
      else if (!RELATIONSHIPS.includes(rel as Relationship)) problems.push(`${where}: relationship of "${role}" for ${purpose} must be ${RELATIONSHIPS.join(' or ')}`);
      else m.set(purpose, rel as Relationship);
    }
    out.set(role, m);
  }
  return out;
}

function relative(path: unknown, where: string, problems: string[]): string[] | null {
  if (path === undefined) return null;
  const segs = typeof path === 'string' ? parsePath(path) : 'must be a path';
  if (typeof segs === 'string') {
    problems.push(`${where}: ${segs}`);
    return null;
  }
  return segs;
}

export function compileSensitive(
  def: ResourceDefinition,
  fields: ReadonlyMap<string, FieldSpec>,
  roles: ReadonlySet<string>,
  where: string,
  problems: string[],
): CompiledSensitive[] {
  if (def.sensitive === undefined) return [];
  if (!Array.isArray(def.sensitive)) {
    problems.push(`${where}: sensitive must be a list`);
    return [];
  }
  return def.sensitive.map((s, i) => {
    const at = `${where}: sensitive[${i}]`;
    const elements = typeof s?.elements === 'string' ? parsePath(s.elements) : 'elements must be a path';
    let prefix = '';
    if (typeof elements === 'string' || elements[elements.length - 1] !== ELEMENT) {
      problems.push(`${at}: elements must be an array path ending in [] (e.g. "results[]")`);
    } else {
      prefix = formatPath(elements);
      if (![...fields.keys()].some((f) => f.startsWith(prefix))) problems.push(`${at}: no declared field lies under "${prefix}"`);
    }
    const mask = new Set<string>();
    for (const m of stringList(s?.mask, `${at}.mask`, problems)) {
      const segs = relative(m, `${at}.mask`, problems);
      if (segs === null) continue;
      const full = `${prefix}.${formatPath(segs)}`.replace('[].[]', '[][]');
      if (!fields.has(full)) problems.push(`${at}.mask: "${m}" is not a declared field under "${prefix}" ("${full}")${didYouMean(full, fields.keys())}`);
      else mask.add(full);
    }
    const categories = Object.entries((s?.categories ?? {}) as Record<string, SensitiveCategory>).map(([name, c]) => {
      const cat = `${at}.categories.${name}`;
      const reveal = new Map<string, Set<PurposeOfUse>>();
      for (const [role, purposes] of Object.entries(c?.reveal ?? {})) {
        if (!roles.has(role)) problems.push(`${cat}.reveal names unknown role "${role}"${didYouMean(role, roles)}`);
        const set = new Set<PurposeOfUse>();
        for (const p of stringList(purposes, `${cat}.reveal.${role}`, problems)) {
          if (isPurposeOfUse(p)) set.add(p);
          else problems.push(`${cat}.reveal.${role}: unknown purpose "${p}"`);
        }
        reveal.set(role, set);
      }
      if (c?.relationship !== undefined && !RELATIONSHIPS.includes(c.relationship)) problems.push(`${cat}.relationship must be ${RELATIONSHIPS.join(' or ')}`);
      const codes = c?.codes === undefined ? [] : stringList(c.codes, `${cat}.codes`, problems);
      const tags = c?.tags === undefined ? [] : stringList(c.tags, `${cat}.tags`, problems);
      if (codes.length + tags.length === 0) problems.push(`${cat}: give codes or tags that put an element in the category`);
      return { name, codes: new Set(codes), tags: new Set(tags), reveal, stepUp: c?.stepUp === true, relationship: c?.relationship ?? null };
    });
    if (categories.length === 0) problems.push(`${at}: declare at least one category`);
    const codes = relative(s?.codes, `${at}.codes`, problems);
    const tags = relative(s?.tags, `${at}.tags`, problems);
    if (codes === null && tags === null) problems.push(`${at}: give "codes" or "tags" (where an element lists them)`);
    return { elements: prefix, codes, tags, mask, categories };
  });
}

/** The relationships in a context, as a list. */
export function relationshipsOf(context: Pick<AccessContext, 'patientRelationship'>): readonly string[] {
  const r = context.patientRelationship;
  return typeof r === 'string' ? [r] : Array.isArray(r) ? r : [];
}

/** Whether the context shows a second factor within `maxAgeSeconds`. */
export function hasRecentMfa(context: Pick<AccessContext, 'authentication'>, stepUp: CompiledAccess['stepUp'], now = Date.now()): boolean {
  const auth = context.authentication;
  if (!auth || typeof auth.time !== 'number' || !Array.isArray(auth.methods)) return false;
  if (!auth.methods.some((m) => stepUp.methods.has(m))) return false;
  const age = now / 1000 - auth.time;
  return age >= -60 && age <= stepUp.maxAgeSeconds; // a minute of clock skew
}
