import { systemClock } from './base/clock.js';
import {
  AccessDeniedError,
  AuditUnavailableError,
  DlpBlockedError,
  StepUpRequiredError,
  ThrottledError,
  OptionsError,
  PhiGuardError,
} from './errors.js';
import {
  actionForMethod,
  denialEvent,
  disclosureEvent,
  queryOf,
  errorEvent,
  pinoAuditSink,
  type AuditAction,
  type AuditEvent,
  type AuditSink,
  type PinoLike,
} from './audit/event.js';
import type { AccessContext } from './context.js';
import type { PurposeOfUse } from './purpose.js';
import { compilePolicy, type CompileOptions, type CompiledPolicy, type Decision } from './policy/compile.js';
import { jsonOf, readJsonPath, type Plan, type Protected, type Serialized } from './policy/plan.js';
import type { PolicyDefinition } from './policy/types.js';
import type { FieldCipher } from './crypto/field-cipher.js';
import { createRecordCipher, type RecordCipher } from './crypto/records.js';
import { createScanner, type Scanner, type ScannerOptions } from './dlp/scanner.js';
import { inspectBody } from './inbound.js';
import { breakGlassEvent, dlpEvent } from './audit/event.js';
import { createBreakGlassService, type BreakGlassService } from './access/break-glass.js';
import { trustGrant } from './access/trusted-grant.js';
import { MemoryStateStore, type StateStore } from './state/store.js';
import type { DenyList } from './governance/containment.js';
import { option, optionsSchema, type OptionsSchema } from './options.js';

/** Options of {@link createPhiGuard}. */
export interface PhiGuardOptions extends CompileOptions {
  /** The policy, as defined (compiled here) or already compiled. */
  readonly policy: PolicyDefinition | CompiledPolicy;
  /**
   * Where audit events go: a pino logger or any {@link AuditSink}. Required: PHI is never
   * released without an audit record (45 CFR 164.312(b)).
   */
  readonly audit: AuditSink | PinoLike;
  /** Decrypts fields the policy declares `encrypt: true`. Required when the policy has any. */
  readonly cipher?: FieldCipher;
  /** Tenant bound into every encrypted value's context. Default `'default'`. */
  readonly tenant?: string;
  /** Secret (≥ 32 bytes) for blind indexes of encrypted fields (`guard.records.blindIndex`). */
  readonly indexKey?: Uint8Array;
  /** The DLP scanner for request bodies of resources that declare `dlp`, or its options. Default: `createScanner()`. */
  readonly scanner?: Scanner | ScannerOptions;
  /**
   * Answers what ties the principal to a patient, for resources whose rules require a
   * relationship: care-team membership and encounters. Called only when a rule needs it.
   */
  readonly relationship?: RelationshipResolver;
  /** Days after discharge an encounter still counts (follow-up). Default 30. */
  readonly encounterFollowUpDays?: number;
  /**
   * Shared state (break-glass grants and revocations). Default: in memory, which holds for one
   * instance only; give a RedisStateStore when several instances serve the same users.
   */
  readonly state?: StateStore;
  /**
   * Refuse (429 `throttled`) callers that `guard.throttle(actorId, ms)` paused, on every instance
   * sharing `state`. Costs one state-store read per PHI request. Default false.
   */
  readonly throttling?: boolean;
  /**
   * Incident containment: refuse (403 `principal_disabled` / `client_disabled`, audited) users and
   * clients on this shared deny list (`createDenyList`), on every instance. One state read per PHI request.
   */
  readonly denyList?: DenyList;
}

/** What ties a principal to a patient; the engine applies the encounter window. */
export interface RelationshipFacts {
  readonly careTeam?: boolean;
  readonly encounters?: readonly { readonly admittedAt: string | number | Date; readonly dischargedAt?: string | number | Date | null }[];
}

/** A user-supplied lookup of relationship facts (a care-team table, an ADT feed…). */
export type RelationshipResolver = (
  principal: AccessContext['principal'],
  patientId: string,
) => RelationshipFacts | Promise<RelationshipFacts>;

/** A request body after DLP: what the handler receives, and the audit write still in flight. */
export interface Inspection {
  readonly value: unknown;
  readonly counts: Readonly<Record<string, number>>;
  readonly pending?: Promise<void>;
}

/** A value released under a plan, with the audit write still in flight when the sink is async. */
export interface Release<T = unknown> {
  readonly value: T;
  readonly event: AuditEvent;
  /** Present when the sink is asynchronous: send only after it resolves (it rejects with AuditUnavailableError). */
  readonly pending?: Promise<void>;
}

/** A value released under a plan as JSON text (see {@link PhiGuard.releaseJson}). */
export interface JsonRelease {
  readonly json: string;
  readonly event: AuditEvent;
  /** As in {@link Release}: send only after it resolves. */
  readonly pending?: Promise<void>;
}

/**
 * The engine the framework adapters drive: decisions, projection and audit, with fail-closed
 * behaviour. Framework-free; one per application.
 */
export interface PhiGuard {
  readonly policy: CompiledPolicy;
  readonly sink: AuditSink;
  /** Encrypts and decrypts the policy's `encrypt: true` fields; null without a `cipher`. */
  readonly records: RecordCipher | null;
  /**
   * Decrypts the encrypted fields `plan` will read from `value`, for {@link PhiGuard.release}.
   * Null when there is nothing to decrypt (the common, synchronous case). Rejects with
   * KeyUnavailableError or DecryptError; the caller fails the response closed.
   */
  prepare(plan: Plan, value: unknown): Promise<ReadonlyMap<string, unknown>> | null;
  /** Decides access and audits a denial. Pure apart from the audit write. See CompiledPolicy.decide for `subjectId`. */
  authorize(context: AccessContext | null, resource: string, action: AuditAction, subjectId?: string | number): Decision;
  /**
   * Projects `value` under `plan` and audits the disclosure. Throws AccessDeniedError (audited)
   * for a patient request on another patient's record, LimitExceededError (audited as an
   * error) for oversized values, AuditUnavailableError when the audit write fails. `subjectId`
   * is the patient the route names (its `subjectParam`), audited (keyed) when the value names none.
   */
  release<T = unknown>(
    plan: Plan,
    value: unknown,
    context: AccessContext,
    action: AuditAction,
    plaintexts?: ReadonlyMap<string, unknown> | null,
    subjectId?: string | number,
  ): Release<T>;
  /**
   * {@link PhiGuard.release} that projects and serializes in one pass (the plan's compiled
   * serializer): the JSON text of the released value, with the same audit and errors.
   */
  releaseJson(plan: Plan, value: unknown, context: AccessContext, action: AuditAction, plaintexts?: ReadonlyMap<string, unknown> | null, subjectId?: string | number): JsonRelease;
  /**
   * Applies the resource's DLP rule to a request body (null when it declares none). Under
   * `block`, throws DlpBlockedError (audited with counts by type) when identifiers are found;
   * under `redact` the returned value is the redacted copy; findings are audited either way.
   */
  inspect(context: AccessContext | null, resource: string, action: AuditAction, body: unknown): Inspection | null;
  /** The scanner DLP uses (created on first use). */
  readonly scanner: Scanner;
  /** Emergency access, when the policy declares `breakGlass`. */
  readonly breakGlass: BreakGlassService | null;
  /**
   * Completes a context before {@link PhiGuard.authorize}: validates an invoked break-glass grant
   * against the state store and asks the relationship resolver when the resource's rules need
   * it. Synchronous (returns the same context) when neither applies. Rejects with
   * StateUnavailableError when the store cannot answer (fail closed: 503).
   */
  resolve(context: AccessContext, resource: string, subjectId?: string | number): AccessContext | Promise<AccessContext>;
  /**
   * Pauses a user's PHI access for `forMs` on every instance sharing the state store (with
   * `throttling: true`): the anomaly rules' answer to mass access or repeated denials.
   */
  throttle(actorId: string, forMs: number): Promise<void>;
  /** Audits a failure while serving a resource (never throws). */
  recordError(context: AccessContext | null, resource: string, action: AuditAction, code: string): void;
  /** Writes an event, translating any sink failure to AuditUnavailableError. */
  write(event: AuditEvent): Promise<void> | undefined;
}

const compiled = (expected: string) => option.any<never>(expected);

/**
 * The options of {@link createPhiGuard}. Compile options (`secret`, `limits`…) are checked by
 * compilePolicy, which reports every policy problem at once. Adapters extend this schema.
 */
export const ENGINE_OPTIONS: OptionsSchema<PhiGuardOptions> = optionsSchema<PhiGuardOptions>('phiguard', {
  policy: option.required(option.custom('a policy from definePolicy (or compilePolicy)', ['object'])),
  audit: option.required(
    option.custom('an audit destination (45 CFR 164.312(b)): `audit: pino()` or an object with write(event)', ['object'], (a) =>
      typeof (a as AuditSink).write === 'function' || typeof (a as PinoLike).info === 'function'),
  ),
  secret: compiled('checked by compilePolicy'),
  operators: compiled('checked by compilePolicy'),
  limits: compiled('checked by compilePolicy'),
  tokenCache: compiled('checked by compilePolicy'),
  mode: compiled('checked by compilePolicy'),
  warn: compiled('checked by compilePolicy'),
  clock: compiled('checked by compilePolicy'),
  cipher: option.implementing('a field cipher (createFieldCipher)', 'encrypt', 'decrypt'),
  tenant: option.string('a non-empty tenant name', (t) => t.length > 0),
  indexKey: option.custom('a Uint8Array of at least 32 bytes', ['bytes']),
  scanner: option.custom('a Scanner (createScanner) or scanner options', ['object']),
  relationship: option.func('a function (principal, patientId) => facts'),
  encounterFollowUpDays: option.number('a number of days ≥ 0', (d) => Number.isFinite(d) && d >= 0),
  state: option.implementing('a StateStore (MemoryStateStore, RedisStateStore)', 'getMany'),
  throttling: option.boolean(),
  denyList: option.implementing('a deny list from createDenyList({ store, audit, roles })', 'check'),
});

/** The option names {@link createPhiGuard} accepts. */
export const ENGINE_OPTION_KEYS: readonly string[] = ENGINE_OPTIONS.keys;

const actionForResolve = (context: AccessContext): AuditAction => actionForMethod(context.request?.method);

function isCompiled(p: PolicyDefinition | CompiledPolicy): p is CompiledPolicy {
  return typeof (p as CompiledPolicy).decide === 'function';
}

const toSink = (audit: AuditSink | PinoLike): AuditSink => (typeof (audit as AuditSink).write === 'function' ? (audit as AuditSink) : pinoAuditSink(audit as PinoLike));

/** Creates the engine. Validates everything eagerly: misconfiguration fails at start-up. */
/** A JSON array, or a FHIR Bundle of search results: what a query answers. */
function isCollection(root: unknown): boolean {
  if (Array.isArray(root)) return true;
  const b = root as { resourceType?: unknown; type?: unknown } | null;
  return b !== null && typeof b === 'object' && b.resourceType === 'Bundle' && b.type === 'searchset';
}

export function createPhiGuard(options: PhiGuardOptions): PhiGuard {
  ENGINE_OPTIONS.parse(options);
  const sink = toSink(options.audit);
  const {
    policy: given,
    audit: _audit,
    cipher,
    tenant,
    indexKey,
    scanner: scannerOption,
    relationship,
    encounterFollowUpDays = 30,
    state: stateOption,
    throttling = false,
    denyList,
    ...compileOptions
  } = options;
  let scanner: Scanner | null =
    scannerOption !== undefined && typeof (scannerOption as Scanner).scan === 'function' ? (scannerOption as Scanner) : null;
  // Options are validated now; the scanner itself is built when a body first needs it.
  if (scanner === null && scannerOption !== undefined) scanner = createScanner(scannerOption as ScannerOptions);
  const scannerOf = (): Scanner => (scanner ??= createScanner());
  /* Precondition: compile options go with a policy definition, not with a compiled policy. */
  if (isCompiled(given) && Object.keys(compileOptions).length > 0) {
    throw new OptionsError(
      `options ${Object.keys(compileOptions).join(', ')} apply when phiguard compiles the policy; pass them to compilePolicy() instead`,
    );
  }
  const policy = isCompiled(given) ? given : compilePolicy(given, compileOptions);
  // One clock for the engine, its default state store and the policy's decisions.
  const clock = policy.clock;
  const state = stateOption ?? new MemoryStateStore({ clock });
  const encrypting = [...policy.resources.values()].filter((r) => r.encrypted.length > 0).map((r) => r.name);
  if (encrypting.length > 0 && cipher === undefined) {
    throw new OptionsError(`resources ${encrypting.join(', ')} have encrypted fields: pass \`cipher\` (createFieldCipher) so phiguard can decrypt them`);
  }
  const records = cipher === undefined ? null : createRecordCipher({ policy, cipher, tenant, indexKey });
  const needsRelationship = [...policy.resources.values()].filter((r) => r.relationships.size > 0).map((r) => r.name);
  if (needsRelationship.length > 0 && relationship === undefined) {
    throw new OptionsError(`resources ${needsRelationship.join(', ')} require relationships: pass \`relationship\` (principal, patientId) => ({ careTeam, encounters })`);
  }
  const followUpMs = encounterFollowUpDays * 86_400_000;
  const kindsOf = (facts: RelationshipFacts | null | undefined): string[] => {
    const kinds: string[] = [];
    if (facts?.careTeam === true) kinds.push('care-team');
    const now = clock.now();
    for (const e of facts?.encounters ?? []) {
      const from = new Date(e.admittedAt).getTime();
      const to = e.dischargedAt === undefined || e.dischargedAt === null ? now : new Date(e.dischargedAt).getTime() + followUpMs;
      if (from <= now && now <= to) {
        kinds.push('encounter');
        break;
      }
    }
    return kinds;
  };

  // The event builders stamp the wall clock; under an injected clock the engine's events carry its time.
  const stamp = clock === systemClock ? (e: AuditEvent) => e : (e: AuditEvent): AuditEvent => ({ ...e, time: new Date(clock.now()).toISOString() });
  const write = (event: AuditEvent): Promise<void> | undefined => {
    let r: void | Promise<void>;
    try {
      r = sink.write(stamp(event));
    } catch {
      throw new AuditUnavailableError();
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      return (r as Promise<void>).then(
        () => undefined,
        () => {
          throw new AuditUnavailableError();
        },
      );
    }
    return undefined;
  };

  /** The first patient's reference, and every patient's when the value is a list of several. */
  // One shape whatever the value names: the event built from it reads one layout.
  const patientRefsOf = (resource: string, value: unknown): { patientRef: string | undefined; patientRefs: readonly string[] | undefined } => {
    // Read as serialized: a subject inside a model instance sits behind its toJSON.
    const ids = policy.resources.get(resource)?.subjectsOf(jsonOf(value, '')).ids ?? [];
    if (ids.length === 0) return { patientRef: undefined, patientRefs: undefined };
    if (ids.length === 1) return { patientRef: policy.patientRef(ids[0]!), patientRefs: undefined };
    const refs = [...new Set(ids)].map((id) => policy.patientRef(id));
    return { patientRef: refs[0]!, patientRefs: refs.length === 1 ? undefined : refs };
  };
  const patientRefOf = (resource: string, value: unknown): string | undefined => patientRefsOf(resource, value).patientRef;

  /** Projects through `project` and audits the disclosure (or the refusal): release and releaseJson. */
  const released = <R extends Pick<Protected, 'disclosure'> | Serialized>(
    plan: Plan,
    value: unknown,
    context: AccessContext,
    action: AuditAction,
    project: () => R,
    subjectId?: string | number,
  ): { out: R; event: AuditEvent; pending: Promise<void> | undefined } => {
    let result: R;
    const grant = context.breakGlass?.validated;
    try {
      // A grant that expired while the handler ran covers nothing more.
      if (grant !== undefined && grant.expiresAt <= clock.now()) throw new AccessDeniedError('break_glass_invalid');
      // A grant opens one patient's chart: the record released must be that patient's.
      if (grant !== undefined) {
        const ref = patientRefOf(plan.resource, jsonOf(value, ''));
        if (ref !== undefined && ref !== policy.patientRef(grant.patientId)) throw new AccessDeniedError('break_glass_invalid');
      }
      result = project();
    } catch (err) {
      const refs = { patientRef: patientRefOf(plan.resource, jsonOf(value, '')) };
      const event =
        err instanceof AccessDeniedError || err instanceof StepUpRequiredError
          ? denialEvent(action, context, plan.resource, err.reason, refs)
          : errorEvent(action, context, plan.resource, err instanceof PhiGuardError ? err.code : 'internal_error');
      try {
        void write(event)?.catch(() => undefined);
      } catch {
        /* the original error wins */
      }
      throw err;
    }
    const resource = policy.resources.get(plan.resource)!;
    // Refs are read from what is serialized: an ORM instance's columns sit behind its toJSON.
    const root = jsonOf(value, '');
    const rawId = resource.idPath ? readJsonPath(root, resource.idPath) : undefined;
    const subject = resource.subjectPath ? readJsonPath(root, resource.subjectPath) : undefined;
    const fromValue = patientRefsOf(plan.resource, root);
    // A value that names no patient (a list of disclosures under /patients/:id/…) is about the route's patient.
    const refs = fromValue.patientRef === undefined && subjectId !== undefined ? { patientRef: policy.patientRef(subjectId), patientRefs: undefined } : fromValue;
    // A record whose id is the patient's id (a patient resource) is named by the keyed ref: audit never carries a raw patient id.
    const resourceId =
      typeof rawId !== 'string' && typeof rawId !== 'number' ? undefined : subject !== undefined && String(rawId) === String(subject) ? refs.patientRef : String(rawId).slice(0, 128);
    const base = disclosureEvent(action, context, result.disclosure, { patientRef: refs.patientRef, patientRefs: refs.patientRefs, resourceId });
    // A list or search answer (or a resource declared a query) is audited as a query: parameter names, never values.
    const query = action === 'read' ? queryOf(resource, context, isCollection(root)) : undefined;
    const disclosed = query === undefined ? base : { ...base, query };
    // Heightened audit: every access under a grant names it.
    const event =
      grant === undefined
        ? disclosed
        : { ...disclosed, breakGlass: { reason: grant.reason, grantId: context.breakGlass!.grantId, expiresAt: new Date(grant.expiresAt).toISOString() } };
    return { out: result, event, pending: write(event) };
  };

  const bg = policy.access.breakGlass;
  const breakGlass =
    bg === null
      ? null
      : createBreakGlassService({
          store: state,
          roles: bg.roles,
          reviewerRoles: bg.reviewers,
          reasons: bg.reasons,
          minJustification: bg.minJustification,
          maxMinutes: bg.maxMinutes,
          retentionDays: bg.retentionDays,
          approval: bg.approval,
          clock,
          patientRef: (id) => policy.patientRef(id),
          write: (event) => write(event),
          event: breakGlassEvent,
        });

  const resolve = (context: AccessContext, resource: string, subjectId?: string | number): AccessContext | Promise<AccessContext> => {
    const compiled = policy.resources.get(resource);
    const claim = context.breakGlass;
    const wantsGrant = claim !== undefined && claim !== null && breakGlass !== null && subjectId !== undefined;
    // Ask the resolver only when one of the caller's roles needs a relationship for this purpose.
    const wantsRelationship =
      compiled !== undefined &&
      compiled.relationships.size > 0 &&
      subjectId !== undefined &&
      context.patientRelationship === undefined &&
      !wantsGrant &&
      (Array.isArray(context.roles) ? context.roles : []).some((r) => compiled.relationships.get(r)?.has(context.purposeOfUse as PurposeOfUse) === true);
    // Never trust a `validated` that came with the request.
    const base: AccessContext = claim?.validated !== undefined ? { ...context, breakGlass: { grantId: claim.grantId } } : context;
    if (!wantsGrant && !wantsRelationship && !throttling && denyList === undefined) return base;
    return (async () => {
      // 45 CFR 164.308(a)(6)(ii): a contained account or client gets nothing, on any instance.
      const denied = denyList === undefined ? null : await denyList.check(base);
      if (denied !== null) {
        try {
          await write(denialEvent(actionForResolve(base), base, resource, denied, subjectId === undefined ? {} : { patientRef: policy.patientRef(subjectId) }));
        } catch {
          /* refused regardless */
        }
        throw new AccessDeniedError(denied);
      }
      if (throttling && typeof base.principal?.id === 'string' && (await state.get(`throttle:${base.principal.id}`)) !== null) {
        throw new ThrottledError();
      }
      if (!wantsGrant && !wantsRelationship) return base;
      if (wantsGrant) {
        const validated = await breakGlass!.validate(base, claim!.grantId, subjectId!);
        return validated === null ? base : { ...base, breakGlass: { grantId: claim!.grantId, validated: trustGrant({ ...validated }) } };
      }
      const facts = await relationship!(base.principal, String(subjectId));
      return { ...base, patientRelationship: kindsOf(facts) };
    })();
  };

  return Object.freeze({
    policy,
    sink,
    records,
    breakGlass,
    resolve,
    async throttle(actorId: string, forMs: number): Promise<void> {
      if (typeof actorId !== 'string' || actorId === '' || !(forMs > 0)) throw new OptionsError('throttle(actorId, forMs) needs a user id and a positive duration');
      await state.set(`throttle:${actorId}`, String(clock.now() + forMs), forMs);
    },
    get scanner() {
      return scannerOf();
    },
    inspect(context: AccessContext | null, resource: string, action: AuditAction, body: unknown): Inspection | null {
      const compiled = policy.resources.get(resource);
      if (compiled === undefined || compiled.dlp === null) return null;
      let result;
      try {
        result = inspectBody(compiled, body, scannerOf(), policy.limits);
      } catch (err) {
        if (err instanceof DlpBlockedError) {
          try {
            void write(dlpEvent(action, context, resource, { action: 'block', counts: err.counts }))?.catch(() => undefined);
          } catch {
            /* refused regardless */
          }
        }
        throw err;
      }
      if (result === null) return null;
      if (result.found === 0) return { value: result.value, counts: result.counts };
      const pending = write(dlpEvent(action, context, resource, { action: result.action, counts: result.counts }));
      return pending ? { value: result.value, counts: result.counts, pending } : { value: result.value, counts: result.counts };
    },
    write,
    prepare(plan: Plan, value: unknown): Promise<ReadonlyMap<string, unknown>> | null {
      return records === null ? null : records.plaintextsFor(plan, jsonOf(value, ''));
    },
    authorize(context: AccessContext | null, resource: string, action: AuditAction, subjectId?: string | number): Decision {
      const decision: Decision = context
        ? policy.decide(context, resource, subjectId)
        : { effect: 'deny', reason: 'role_unknown' };
      if (decision.effect === 'deny') {
        // A denial is recorded even if the sink fails; the caller is refused either way, but not
        // before an asynchronous sink has the record (so a crash cannot lose it).
        try {
          const refs = subjectId === undefined ? {} : { patientRef: policy.patientRef(subjectId) };
          const pending = write(denialEvent(action, context, resource, decision.reason, refs));
          if (pending !== undefined) return { ...decision, pending: pending.catch(() => undefined) };
        } catch {
          /* refused regardless */
        }
      }
      return decision;
    },
    release<T>(
      plan: Plan,
      value: unknown,
      context: AccessContext,
      action: AuditAction,
      plaintexts: ReadonlyMap<string, unknown> | null = null,
      subjectId?: string | number,
    ): Release<T> {
      const { out, event, pending } = released(plan, value, context, action, () => plan.apply<T>(value, context, plaintexts), subjectId);
      return pending ? { value: out.value, event, pending } : { value: out.value, event };
    },
    releaseJson(
      plan: Plan,
      value: unknown,
      context: AccessContext,
      action: AuditAction,
      plaintexts: ReadonlyMap<string, unknown> | null = null,
      subjectId?: string | number,
    ): JsonRelease {
      const { out, event, pending } = released(plan, value, context, action, () => plan.serialize(value, context, plaintexts), subjectId);
      return pending ? { json: out.json, event, pending } : { json: out.json, event };
    },
    recordError(context: AccessContext | null, resource: string, action: AuditAction, code: string): void {
      try {
        void write(errorEvent(action, context, resource, code))?.catch(() => undefined);
      } catch {
        /* best effort: the request is already failing closed */
      }
    },
  });
}
