import { randomUUID } from 'node:crypto';
import type { AccessContext } from '../context.js';
import { AuditUnavailableError, OptionsError, type DenyReason } from '../errors.js';
import { optionIssue } from '../options.js';
import type { Disclosure } from '../policy/plan.js';
import type { DisclosureDetails } from '../governance/disclosure.js';

/** What was done. `deny` records a refused attempt. */
export type AuditAction =
  | 'read'
  | 'create'
  | 'update'
  | 'delete'
  | 'export'
  | 'disclose'
  | 'break-glass'
  | 'login'
  | 'deny';

/** Every audit action, for checking one given at run time (a decorator's argument). */
export const AUDIT_ACTIONS: readonly AuditAction[] = Object.freeze(['read', 'create', 'update', 'delete', 'export', 'disclose', 'break-glass', 'login', 'deny']);

export type AuditOutcome = 'success' | 'denied' | 'error';

/**
 * One audit record (45 CFR 164.312(b)): who accessed which patient's data, when, from where,
 * why, and with what outcome. Carries references and field paths, never PHI values.
 */
export interface AuditEvent {
  readonly id: string;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly action: AuditAction;
  readonly outcome: AuditOutcome;
  /** For denials, the action that was attempted. */
  readonly attemptedAction?: AuditAction;
  /** For denials and errors, the stable reason code. */
  readonly reason?: DenyReason | string;
  readonly actor: {
    readonly id: string | null;
    readonly roles: readonly string[];
    readonly ip?: string;
    readonly userAgent?: string;
  };
  /** HL7 v3 PurposeOfUse as claimed by the caller (null when absent). */
  readonly purposeOfUse: string | null;
  /** Keyed hash of the patient id (`pt_…`), never the id itself. */
  readonly patient?: { readonly ref: string };
  /** Every patient of a list response (keyed hashes; the first is `patient.ref`), when there are several. */
  readonly patients?: readonly string[];
  readonly resource: { readonly type: string; readonly id?: string };
  /** Field paths sent. */
  readonly disclosed?: readonly string[];
  /** Field path → operator, for fields sent transformed or withheld by `redact`. */
  readonly transforms?: Readonly<Record<string, string>>;
  readonly request?: {
    readonly method?: string;
    readonly route?: string;
    readonly requestId?: string;
    readonly traceId?: string;
  };
  /** When DLP acted: what it did and how many identifiers of each type it found (never the values). */
  readonly dlp?: { readonly action: 'block' | 'redact' | 'report'; readonly counts: Readonly<Record<string, number>> };
  /** For `disclose` and `export`: recipient, purpose, basis, authorization, delivery and digest (45 CFR 164.528(b)). */
  readonly disclosure?: DisclosureDetails;
  /**
   * When the read was a query (a list or search answer, a searchset Bundle, or a resource declared
   * `query`): the query-string parameter names the resource declares that the request used, and
   * how many other names it carried. Never a value. The route pattern is `request.route`.
   */
  readonly query?: { readonly params: readonly string[]; readonly other?: number };
  /** Break-glass grant used for this access, when one was. */
  readonly breakGlass?: { readonly reason: string; readonly grantId: string; readonly expiresAt: string };
  /** Tamper-evidence link, added by `createChainSink` (never by the engine). */
  readonly chain?: ChainLink;
}

/**
 * One link of an audit hash chain (see `createChainSink`): the event is the `seq`-th of `stream`,
 * `prev` is the previous event's `hash` (`CHAIN_GENESIS` for seq 1), and `hash` is the
 * HMAC-SHA256, in lowercase hex, of the event's canonical JSON with `chain.hash` left out.
 */
export interface ChainLink {
  readonly stream: string;
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

/** Where audit events go. Implementations must not drop events silently. */
export interface AuditSink {
  /** Records one event. A throw (or rejection) means the event was not recorded. */
  write(event: AuditEvent): void | Promise<void>;
}

/**
 * A sink that can also record many events at once (one round trip, one fsync), in order. A
 * rejection means none of them may be assumed recorded; retrying the whole batch must be safe
 * (the event `id` makes stores idempotent).
 */
export interface AuditBatchSink extends AuditSink {
  writeBatch(events: readonly AuditEvent[]): Promise<void>;
}

/**
 * A store that takes events as NDJSON text, one canonical JSON event per line, exactly as the
 * durable writer stored them (no parsing or re-serialization on the way). Idempotent on `id`.
 */
export interface AuditLineSink {
  writeLines(ndjson: string): Promise<void>;
}

/** The subset of a pino logger the pino sink uses. */
export interface PinoLike {
  info(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
}

/**
 * An audit sink writing one JSON line per event through a pino logger, under the `audit` key
 * (so pino's own `time`/`level` stay separate): `{"level":30,…,"audit":{…},"msg":"phiguard.audit"}`.
 */
export function pinoAuditSink(logger: PinoLike): AuditSink {
  if (logger === null || typeof logger !== 'object' || typeof logger.info !== 'function') {
    throw optionIssue('createPinoAuditSink', 'logger', 'a pino logger (an object with info(obj, msg))', logger, logger === undefined ? 'missing' : 'type');
  }
  // A logger set above `info` would drop audit events silently: refuse it, now and per write.
  const enabled = typeof logger.isLevelEnabled === 'function' ? () => logger.isLevelEnabled!('info') : () => true;
  if (!enabled()) {
    throw new OptionsError('the audit logger drops `info` lines (its level is above info); give phiguard a logger at level info or lower');
  }
  return {
    write(event) {
      if (!enabled()) throw new AuditUnavailableError();
      logger.info({ audit: event }, 'phiguard.audit');
    },
  };
}

// The date and time to the minute of the last event: events come many per minute, and
// formatting a Date in full costs more than building the event around it.
let minuteStart = NaN;
let minutePrefix = '';

/** @internal `new Date(ms).toISOString()` for an integer `ms`, with the text up to the minute kept. */
export function isoTime(ms: number): string {
  const into = ms - minuteStart;
  if (!(into >= 0 && into < 60_000)) {
    const text = new Date(ms).toISOString();
    // `…THH:MM:` then `SS.mmmZ` (7 characters), for every year toISOString can write.
    minuteStart = ms - (((ms % 60_000) + 60_000) % 60_000);
    minutePrefix = text.slice(0, -7);
    return text;
  }
  const s = Math.floor(into / 1000);
  const m = into - s * 1000;
  return `${minutePrefix}${s < 10 ? '0' : ''}${s}.${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
}

const LENGTH_CAP = 256;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f]/;
// Request strings come from the client; cap them and strip control characters.
function clean(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.length > LENGTH_CAP ? value.slice(0, LENGTH_CAP) : value;
  return HAS_CONTROL.test(s) ? s.replace(CONTROL, '') : s;
}

const MAX_ROLES = 16;
// Roles are claimed by the caller: record a bounded list of bounded strings.
function rolesOf(context: AccessContext | null): readonly string[] {
  const roles = context?.roles;
  if (!Array.isArray(roles)) return [];
  const out: string[] = [];
  for (const r of roles) {
    if (out.length === MAX_ROLES) break;
    if (typeof r === 'string') out.push(clean(r)!.slice(0, 64));
  }
  return out;
}

/**
 * Builds an event with one fixed shape (the same keys in the same order every time, absent
 * ones undefined), which keeps it cheap to build and to serialize per request.
 */
function event(
  context: AccessContext | null,
  action: AuditAction,
  outcome: AuditOutcome,
  resource: { readonly type: string; readonly id?: string },
  extra: {
    readonly attemptedAction?: AuditAction;
    readonly reason?: string;
    readonly purposeOfUse?: string;
    readonly patientRef?: string;
    readonly patientRefs?: readonly string[];
    readonly disclosed?: readonly string[];
    readonly transforms?: Readonly<Record<string, string>>;
  },
): AuditEvent {
  const req = context?.request;
  const principalId = context?.principal?.id;
  const claimedPurpose = context?.purposeOfUse;
  return {
    id: randomUUID(),
    time: isoTime(Date.now()),
    action,
    outcome,
    attemptedAction: extra.attemptedAction,
    reason: extra.reason,
    actor: {
      id: typeof principalId === 'string' ? clean(principalId)! : null,
      roles: rolesOf(context),
      ip: clean(req?.ip),
      userAgent: clean(req?.userAgent),
    },
    purposeOfUse: extra.purposeOfUse ?? (typeof claimedPurpose === 'string' ? clean(claimedPurpose)!.slice(0, 16) : null),
    patient: extra.patientRef === undefined ? undefined : { ref: extra.patientRef },
    patients: extra.patientRefs,
    resource,
    disclosed: extra.disclosed,
    transforms: extra.transforms,
    request:
      req === undefined
        ? undefined
        : { method: clean(req.method), route: clean(req.route), requestId: clean(req.requestId), traceId: clean(req.traceId) },
  };
}

/** Builds the event for a successful disclosure. */
export function disclosureEvent(
  action: AuditAction,
  context: AccessContext,
  disclosure: Disclosure,
  refs: { readonly patientRef?: string; readonly patientRefs?: readonly string[]; readonly resourceId?: string },
): AuditEvent {
  const resource = refs.resourceId === undefined ? { type: disclosure.resource } : { type: disclosure.resource, id: refs.resourceId };
  return event(context, action, 'success', resource, {
    purposeOfUse: disclosure.purposeOfUse,
    patientRef: refs.patientRef,
    patientRefs: refs.patientRefs,
    disclosed: disclosure.disclosed,
    transforms: disclosure.transforms,
  });
}

/**
 * The `query` of a read event: present when the resource is declared a query (`query` in the
 * policy) or the value released is a collection. Only declared parameter names are kept (a name
 * the client made up may itself be a value); the others are counted.
 */
export function queryOf(
  resource: { readonly query: { readonly params: readonly string[] } | null },
  context: AccessContext,
  collection: boolean,
): AuditEvent['query'] | undefined {
  if (resource.query === null && !collection) return undefined;
  const declared = resource.query?.params ?? [];
  const names = context.request?.query ?? [];
  const params = names.filter((n) => declared.includes(n));
  const other = names.length - params.length;
  return other > 0 ? { params, other } : { params };
}

/** Builds the event for a refused attempt. */
export function denialEvent(
  attemptedAction: AuditAction,
  context: AccessContext | null,
  resource: string,
  reason: string,
  refs: { readonly patientRef?: string } = {},
): AuditEvent {
  return event(context, 'deny', 'denied', { type: resource }, { attemptedAction, reason, patientRef: refs.patientRef });
}

/** Builds the event for a failure while serving PHI (limits, audit, internal errors). */
export function errorEvent(attemptedAction: AuditAction, context: AccessContext | null, resource: string, code: string): AuditEvent {
  return event(context, attemptedAction, 'error', { type: resource }, { reason: code });
}

/**
 * Builds the event for DLP acting on a request body: a denial under `block`, otherwise the
 * attempted action with outcome success. Counts by type only.
 */
export function dlpEvent(
  attemptedAction: AuditAction,
  context: AccessContext | null,
  resource: string,
  dlp: NonNullable<AuditEvent['dlp']>,
): AuditEvent {
  const base =
    dlp.action === 'block'
      ? event(context, 'deny', 'denied', { type: resource }, { attemptedAction, reason: 'dlp_blocked' })
      : event(context, attemptedAction, 'success', { type: resource }, {});
  return { ...base, dlp };
}

/**
 * Builds the event for a break-glass grant being made, revoked or reviewed (`kind` goes to
 * `reason`). Carries the reason code, never the free-text justification.
 */
export function breakGlassEvent(
  context: AccessContext,
  kind: string,
  grant: { readonly id: string; readonly reason: string; readonly expiresAt: number; readonly patientRef: string },
): AuditEvent {
  const base = event(context, 'break-glass', 'success', { type: 'break-glass', id: grant.id }, { reason: kind, patientRef: grant.patientRef, purposeOfUse: 'ETREAT' });
  return { ...base, breakGlass: { reason: grant.reason, grantId: grant.id, expiresAt: new Date(grant.expiresAt).toISOString() } };
}

/**
 * Builds the event for an application's own action on a record (a release approved, a request
 * taken in), in the same fixed shape as the engine's events: references and codes only.
 */
export function actionEvent(
  action: AuditAction,
  context: AccessContext | null,
  details: {
    readonly resource: { readonly type: string; readonly id?: string };
    readonly outcome?: AuditOutcome;
    /** A short code (`review:approve`), never free text. */
    readonly reason?: string;
    readonly patientRef?: string;
    /** For a refused action (`action: 'deny'`), what was attempted. */
    readonly attemptedAction?: AuditAction;
    /** Overrides the purpose the caller claimed. */
    readonly purposeOfUse?: string;
  },
): AuditEvent {
  return event(context, action, details.outcome ?? 'success', details.resource, {
    reason: details.reason,
    patientRef: details.patientRef,
    attemptedAction: details.attemptedAction,
    purposeOfUse: details.purposeOfUse,
  });
}

/** Maps an HTTP method to the audit action it performs on a resource. */
export function actionForMethod(method: string | undefined): AuditAction {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
    case 'PATCH':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return 'read';
  }
}
