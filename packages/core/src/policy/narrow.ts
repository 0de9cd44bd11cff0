/**
 * Per-handler narrowing: a handler that needs less than the policy grants names what it sends
 * (`{ 'patient.name': 'send', '@clinical': 'send' }`), and the policy's plan runs on what is
 * left. HandlerNarrowing only takes fields away: it can never send a field the caller's plan denies,
 * nor unmask one. Built once at start-up from the resource's field index; problems name the field.
 */
import { OptionsError, PolicyError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { CompiledPolicy } from './compile.js';
import type { FieldClass } from './types.js';

/** Operators a handler may narrow with: it can take fields away, never add or unmask. */
export const NARROWING_OPERATORS = Object.freeze(['send', 'deny'] as const);

/** A narrowing rule set: selector (declared path, `@class` or `*`) → `send` or `deny`. */
export type NarrowingRules = Readonly<Record<string, (typeof NARROWING_OPERATORS)[number]>>;

/**
 * Checks a rule set where it is written (a decorator), before any policy is at hand: non-empty,
 * and only `send` / `deny`. `label` names the API in messages (`@MinimumNecessary`). The
 * selectors are checked against the resource by {@link compileNarrowing}.
 */
export function checkNarrowingRules(rules: NarrowingRules, label: string): NarrowingRules {
  if (rules === null || typeof rules !== 'object' || Object.keys(rules).length === 0) {
    throw new OptionsError(`${label}(rules) needs a non-empty rule set: { "field.path": "send", … }`);
  }
  for (const [selector, op] of Object.entries(rules)) {
    if (!(NARROWING_OPERATORS as readonly string[]).includes(op)) {
      throw new OptionsError(`${label}: "${selector}" uses "${String(op)}"; a handler can only narrow, with ${NARROWING_OPERATORS.join(', ')}`);
    }
  }
  return Object.freeze({ ...rules });
}

/** A handler's narrowing of one resource. */
export interface HandlerNarrowing {
  readonly resource: string;
  /** Declared fields the handler sends (policy spelling). */
  readonly sends: ReadonlySet<string>;
  /**
   * Before the plan: a copy of the handler's value without the fields it does not send, read
   * through `toJSON` as the plan reads it (ORM instances, Dates). The
   * resource's `id` and `subject` are kept so the plan can still audit them; `after` removes them.
   */
  before<T>(value: T): T;
  /** After the plan: the projected value without the `id` and `subject` the handler does not send. */
  after<T>(value: T): T;
}

const CLASSES: readonly FieldClass[] = ['direct-identifier', 'quasi-identifier', 'clinical', 'free-text', 'sensitive', 'non-phi'];

/**
 * Compiles a handler's narrowing of `resource`. Throws {@link PolicyError} listing every unknown
 * selector (with a suggestion) and every operator other than `send` and `deny`.
 */
export function compileNarrowing(policy: CompiledPolicy, resource: string, rules: NarrowingRules, where = 'narrowing'): HandlerNarrowing {
  const compiled = policy.resources.get(resource);
  if (compiled === undefined) throw new PolicyError([`${where}: unknown resource "${resource}"${didYouMean(resource, policy.resources.keys())}`]);
  const problems: string[] = [];
  if (rules === null || typeof rules !== 'object' || Array.isArray(rules)) throw new PolicyError([`${where}: rules must be an object of selector → "send" | "deny"`]);
  const selectors = [...compiled.fields.keys(), ...CLASSES.map((c) => `@${c}`), '*'];
  for (const [selector, op] of Object.entries(rules)) {
    if (op !== 'send' && op !== 'deny') {
      problems.push(`${where}: "${selector}" uses ${JSON.stringify(op)}; a handler can only narrow, with "send" or "deny"`);
    }
    if (!selectors.includes(selector)) {
      problems.push(`${where}: "${selector}" is not a declared field of ${resource}, a class selector or "*"${didYouMean(selector, selectors)}`);
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);

  const sends = new Set<string>();
  for (const [path, f] of compiled.index.fields) {
    const op = rules[path] ?? rules[`@${f.class}`] ?? rules['*'] ?? (f.class === 'non-phi' ? 'send' : 'deny');
    if (op === 'send') sends.add(path);
  }
  const { index } = compiled;
  // The id and subject are audited from the value the plan receives: kept through `before`.
  const audited = new Set<string>();
  for (const segments of [compiled.idPath, compiled.subjectPath]) {
    const field = segments === null ? null : index.fieldAt(segments);
    if (field !== null && !sends.has(field.path)) audited.add(field.path);
  }
  const dropBefore = new Set([...index.fields.keys()].filter((p) => !sends.has(p) && !audited.has(p)));
  const budget = () => ({ left: policy.limits.maxNodes, limit: policy.limits.maxNodes });
  const drop = () => undefined;
  return Object.freeze({
    resource,
    sends,
    before: <T>(value: T): T => (dropBefore.size === 0 ? value : (index.mapFields(value, dropBefore, drop, budget(), index.root, false, true) as T)),
    after: <T>(value: T): T => (audited.size === 0 ? value : (index.mapFields(value, audited, drop, budget(), index.root, true, true) as T)),
  });
}
