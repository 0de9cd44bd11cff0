/**
 * Accounting of disclosures (45 CFR 164.528): who received which of a patient's data, when,
 * and why, from the audit trail.
 */
import { OptionsError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { AuditAction, AuditEvent } from './event.js';
import type { DisclosureQuery } from './postgres.js';
import { ACCOUNTING_EXEMPT, type DisclosureBasis, type DisclosureDetails } from '../governance/disclosure.js';
import { suspensionProblems, type AccountingSuspension } from '../governance/suspensions.js';

/** Query of {@link accountingOfDisclosures}. */
export interface AccountingQuery {
  /** The patient's reference as recorded (`policy.patientRef(id)`), never the raw id. */
  readonly patientRef: string;
  /** Inclusive start (ISO-8601 or Date). 164.528(a)(3): up to six years back. */
  readonly from?: string | Date;
  /** Exclusive end. */
  readonly to?: string | Date;
  /** Actions that count as disclosures. Default `read`, `disclose`, `export`. */
  readonly actions?: readonly AuditAction[];
  /**
   * Purposes of use to leave out: 164.528(a)(1) exempts disclosures for treatment, payment and
   * operations, e.g. `['TREAT', 'HPAYMT', 'HOPERAT']`. Default: none (everything is listed).
   */
  readonly excludePurposes?: readonly string[];
  /**
   * `'164.528'`: the accounting the rule requires. Only `disclose` and `export` events count
   * (uses inside the organization are not disclosures), and the exempt ones are left out by their
   * recorded basis (treatment, payment, operations, to the patient, under an authorization… see
   * ACCOUNTING_EXEMPT); an event without a basis is judged by its purpose of use (TREAT, ETREAT,
   * HPAYMT, HOPERAT, PATRQT exempt). Default: every matching event (an access report).
   */
  readonly rule?: '164.528';
  /** Resolves a recipient's name reference to the name and address given to the patient (164.528(b)(2)(ii)). */
  readonly recipientName?: (nameRef: string) => Promise<{ readonly name: string; readonly address?: string } | null> | { readonly name: string; readonly address?: string } | null;
  /**
   * Recorded suspensions (164.528(a)(2), `createAccountingSuspensions().list()`): a disclosure to
   * the suspension's agency made between its start and end is left out of an accounting given
   * before the end, and listed in one given after it.
   */
  readonly suspensions?: readonly AccountingSuspension[];
  /** When the accounting is given (decides which suspensions are in force). Default now. */
  readonly asOf?: string | Date;
  /**
   * 164.528(b)(3): several disclosures to the same recipient for the same purpose and basis are
   * listed once: the first in full, with `summary` (how many, their periodicity, the date of the last).
   */
  readonly summarize?: boolean;
}

/** 164.528(b)(3): the multiple disclosures one line of the accounting stands for. */
export interface DisclosureSummary {
  /** How many disclosures, this one included, in the accounting period. */
  readonly disclosures: number;
  /** Mean interval between them in days (one decimal), as their frequency or periodicity. */
  readonly everyDays: number;
  /** Date of the last disclosure of the series (ISO-8601 UTC) and its event. */
  readonly last: string;
  readonly lastEventId: string;
}

/** One line of the accounting. */
export interface DisclosureRecord {
  readonly eventId: string;
  /** When (ISO-8601 UTC). */
  readonly time: string;
  readonly action: AuditAction;
  /** Who received it. */
  readonly who: { readonly id: string | null; readonly roles: readonly string[] };
  /** What: the resource and the field paths sent. */
  readonly what: { readonly resourceType: string; readonly resourceId?: string; readonly fields: readonly string[] };
  /** Why: the HL7 v3 purpose of use. */
  readonly purposeOfUse: string | null;
  /** For governed disclosures (events with a `disclosure` block): the 164.528(b)(2) elements. */
  readonly recipient?: DisclosureDetails['recipient'] & { readonly name?: string; readonly address?: string };
  /** Brief statement of purpose (164.528(b)(2)(iv)). */
  readonly purpose?: string;
  readonly basis?: DisclosureBasis;
  /** Description of what was disclosed (164.528(b)(2)(iii)). */
  readonly description?: DisclosureDetails['description'];
  readonly authorizationRef?: string;
  readonly deliveryMethod?: DisclosureDetails['deliveryMethod'];
  readonly digest?: string;
  /** When this line stands for several disclosures (query `summarize`). */
  readonly summary?: DisclosureSummary;
}

/** A store answering the accounting query itself (the PostgreSQL sink does, by index). */
export interface DisclosureStore {
  disclosures(query: DisclosureQuery): Promise<readonly AuditEvent[]>;
}

/** Where the accounting reads events: a store, or events (an array, an NDJSON reader). */
export type AccountingSource = DisclosureStore | Iterable<AuditEvent> | AsyncIterable<AuditEvent>;

const QUERY_KEYS = ['patientRef', 'from', 'to', 'actions', 'excludePurposes', 'rule', 'recipientName', 'suspensions', 'asOf', 'summarize'];
// Purposes of use whose disclosures 164.528(a)(1)(i)-(ii) exempts, for events without a recorded basis.
const EXEMPT_PURPOSES = new Set(['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT', 'PATRQT']);

/** 45 CFR 164.528(a)(1): whether the rule leaves this disclosure out of the accounting. */
function exempt(e: AuditEvent): boolean {
  const basis = e.disclosure?.basis;
  if (basis !== undefined) return ACCOUNTING_EXEMPT[basis] !== undefined;
  return e.purposeOfUse !== null && EXEMPT_PURPOSES.has(e.purposeOfUse);
}
const DEFAULT_ACTIONS: readonly AuditAction[] = ['read', 'disclose', 'export'];
const RULE_ACTIONS: readonly AuditAction[] = ['disclose', 'export'];

function bound(v: string | Date | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = (v instanceof Date ? v : new Date(v)).getTime();
  if (Number.isNaN(t)) throw new OptionsError(`accountingOfDisclosures \`${name}\` must be an ISO-8601 date`);
  return t;
}

const isStore = (s: unknown): s is DisclosureStore => s !== null && typeof s === 'object' && typeof (s as DisclosureStore).disclosures === 'function';

/**
 * Lists the successful disclosures of one patient's data in a time range, oldest first:
 * who (actor id and roles), what (resource type and id, field paths sent), when, and why.
 * Over a PostgreSQL store it runs one indexed query (patient_ref, time); over events it filters.
 */
export async function accountingOfDisclosures(source: AccountingSource, query: AccountingQuery): Promise<DisclosureRecord[]> {
  if (query === null || typeof query !== 'object') throw new OptionsError('accountingOfDisclosures needs a query { patientRef, from?, to? }');
  for (const k of Object.keys(query)) {
    if (!QUERY_KEYS.includes(k)) throw new OptionsError(`unknown accountingOfDisclosures option "${k}"${didYouMean(k, QUERY_KEYS)}`);
  }
  /* Precondition: the accounting is for one patient. */
  if (typeof query.patientRef !== 'string' || query.patientRef === '') throw new OptionsError('accountingOfDisclosures needs `patientRef`');
  const from = bound(query.from, 'from');
  const to = bound(query.to, 'to');
  if (query.rule !== undefined && query.rule !== '164.528') throw new OptionsError('accountingOfDisclosures `rule` must be "164.528"');
  if (query.recipientName !== undefined && typeof query.recipientName !== 'function') throw new OptionsError('accountingOfDisclosures `recipientName` must be a function');
  if (query.summarize !== undefined && typeof query.summarize !== 'boolean') throw new OptionsError('accountingOfDisclosures `summarize` must be a boolean');
  const asOf = bound(query.asOf, 'asOf') ?? Date.now();
  if (query.suspensions !== undefined && !Array.isArray(query.suspensions)) throw new OptionsError('accountingOfDisclosures `suspensions` must be an array (createAccountingSuspensions().list())');
  for (const s of query.suspensions ?? []) {
    const problems = suspensionProblems(s);
    if (problems.length > 0) throw new OptionsError(`accountingOfDisclosures suspension: ${problems.join('; ')}`);
  }
  // 164.528(a)(2): only suspensions for this patient (or every patient) still in force when the accounting is given.
  const inForce = (query.suspensions ?? []).filter((s) => (s.patientRef === undefined || s.patientRef === query.patientRef) && asOf < Date.parse(s.end));
  const suspended = (e: AuditEvent, t: number): boolean => {
    const to = e.disclosure?.recipient.id;
    return to !== undefined && inForce.some((s) => s.agency === to && t >= Date.parse(s.start) && t < Date.parse(s.end));
  };
  const strict = query.rule === '164.528';
  const actions = new Set(query.actions ?? (strict ? RULE_ACTIONS : DEFAULT_ACTIONS));
  const excluded = new Set(query.excludePurposes ?? []);
  const matches = (e: AuditEvent): boolean => {
    if (e === null || typeof e !== 'object' || e.outcome !== 'success' || e.patient?.ref !== query.patientRef || !actions.has(e.action)) return false;
    const t = Date.parse(e.time);
    return (from === undefined || t >= from) && (to === undefined || t < to) && !(e.purposeOfUse !== null && excluded.has(e.purposeOfUse)) && !(strict && exempt(e)) && !suspended(e, t);
  };

  const found: AuditEvent[] = [];
  if (isStore(source)) {
    const q: DisclosureQuery = { patientRef: query.patientRef, actions: [...actions], ...(query.from === undefined ? {} : { from: query.from }), ...(query.to === undefined ? {} : { to: query.to }) };
    for (const e of await source.disclosures(q)) if (matches(e)) found.push(e);
  } else if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
    for await (const e of source) if (matches(e)) found.push(e);
  } else if (source !== null && typeof source === 'object' && Symbol.iterator in source) {
    for (const e of source) if (matches(e)) found.push(e);
  } else {
    throw new OptionsError('accountingOfDisclosures reads a store with disclosures(query), an array of events or an async iterable of events');
  }
  found.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const names = new Map<string, { name: string; address?: string } | null>();
  const out: DisclosureRecord[] = [];
  for (const e of found) {
    const d = e.disclosure;
    let recipient: DisclosureRecord['recipient'];
    if (d !== undefined) {
      const ref = d.recipient.nameRef;
      if (query.recipientName !== undefined && !names.has(ref)) names.set(ref, (await query.recipientName(ref)) ?? null);
      const named = names.get(ref);
      recipient = { ...d.recipient, ...(named ? { name: named.name, ...(named.address === undefined ? {} : { address: named.address }) } : {}) };
    }
    out.push({
      eventId: e.id,
      time: e.time,
      action: e.action,
      who: { id: e.actor.id, roles: e.actor.roles },
      what: {
        resourceType: e.resource.type,
        ...(e.resource.id === undefined ? {} : { resourceId: e.resource.id }),
        fields: e.disclosed ?? [],
      },
      purposeOfUse: e.purposeOfUse,
      ...(d === undefined
        ? {}
        : {
            recipient,
            purpose: d.purpose,
            basis: d.basis,
            description: d.description,
            ...(d.authorizationRef === undefined ? {} : { authorizationRef: d.authorizationRef }),
            deliveryMethod: d.deliveryMethod,
            digest: d.digest,
          }),
    });
  }
  return query.summarize === true ? summarized(out) : out;
}

/** 164.528(b)(3): one line per recipient, purpose and basis for a series of governed disclosures. */
function summarized(lines: readonly DisclosureRecord[]): DisclosureRecord[] {
  const series = new Map<string, DisclosureRecord[]>();
  const order: (DisclosureRecord | string)[] = [];
  for (const line of lines) {
    if (line.recipient === undefined) {
      order.push(line);
      continue;
    }
    const key = JSON.stringify([line.recipient.type, line.recipient.id, line.purpose, line.basis]);
    const group = series.get(key);
    if (group === undefined) {
      series.set(key, [line]);
      order.push(key);
    } else group.push(line);
  }
  return order.map((o): DisclosureRecord => {
    if (typeof o !== 'string') return o;
    const group = series.get(o)!;
    const first = group[0]!;
    if (group.length === 1) return first;
    const last = group.at(-1)!;
    const span = Date.parse(last.time) - Date.parse(first.time);
    return { ...first, summary: { disclosures: group.length, everyDays: Math.round((span / (group.length - 1) / 86_400_000) * 10) / 10, last: last.time, lastEventId: last.eventId } };
  });
}
