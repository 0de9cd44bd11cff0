/**
 * Anomaly rules over audit events (45 CFR 164.308(a)(1)(ii)(D) information system activity
 * review): mass access, repeated denials, off-hours access, access to flagged patients.
 * Counters sit behind a small store interface so several app instances share them.
 */
import { OptionsError } from '../errors.js';
import { option, optionsSchema } from '../options.js';
import type { AuditEvent, AuditSink } from './event.js';

/**
 * Fixed-window counters shared by the instances (in memory by default; Redis `INCR`/`SADD`
 * with `PEXPIRE` fit the same interface). Keys are opaque strings built by the rules.
 */
export interface AnomalyStore {
  /** Adds 1 to `key`, which expires after `ttlMs`; returns the new count. */
  increment(key: string, ttlMs: number): number | Promise<number>;
  /** Adds `member` to the set `key` (expiring after `ttlMs`); returns the set's size. */
  addDistinct(key: string, member: string, ttlMs: number): number | Promise<number>;
}

/** A raised alert. Carries references only, like the events. */
export interface AnomalyAlert {
  readonly rule: string;
  readonly actorId: string | null;
  readonly patientRef?: string;
  /** The count that crossed the threshold, for counting rules. */
  readonly count?: number;
  /** The event that raised it. */
  readonly eventId: string;
  readonly time: string;
  readonly detail: string;
}

/** One rule: looks at an event, may use the store, returns an alert or null. */
export interface AnomalyRule {
  readonly name: string;
  check(event: AuditEvent, store: AnomalyStore): AnomalyAlert | null | Promise<AnomalyAlert | null>;
}

/** An in-memory {@link AnomalyStore} for a single instance and tests. */
export class MemoryAnomalyStore implements AnomalyStore {
  private readonly counts = new Map<string, { n: number; expires: number }>();
  private readonly sets = new Map<string, { members: Set<string>; expires: number }>();
  private ops = 0;
  constructor(private readonly now: () => number = Date.now) {}

  increment(key: string, ttlMs: number): number {
    this.sweep();
    const t = this.now();
    let c = this.counts.get(key);
    if (c === undefined || c.expires <= t) this.counts.set(key, (c = { n: 0, expires: t + ttlMs }));
    return ++c.n;
  }

  addDistinct(key: string, member: string, ttlMs: number): number {
    this.sweep();
    const t = this.now();
    let s = this.sets.get(key);
    if (s === undefined || s.expires <= t) this.sets.set(key, (s = { members: new Set(), expires: t + ttlMs }));
    s.members.add(member);
    return s.members.size;
  }

  /** Drops expired windows now and then, so memory follows the active actors only. */
  private sweep(): void {
    if (++this.ops % 1024 !== 0) return;
    const t = this.now();
    for (const [k, v] of this.counts) if (v.expires <= t) this.counts.delete(k);
    for (const [k, v] of this.sets) if (v.expires <= t) this.sets.delete(k);
  }
}

const ACCESS = new Set(['read', 'disclose', 'export', 'update', 'delete', 'create', 'break-glass']);
const isAccess = (e: AuditEvent): boolean => e.outcome === 'success' && ACCESS.has(e.action);
const windowOf = (e: AuditEvent, windowMs: number): number => Math.floor(Date.parse(e.time) / windowMs);
const actorKey = (e: AuditEvent): string => e.actor.id ?? '(anonymous)';

function needPositive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new OptionsError(`${name} must be a positive number`);
  return v;
}

function alertOf(rule: string, e: AuditEvent, detail: string, extra: { patientRef?: string; count?: number } = {}): AnomalyAlert {
  return { rule, actorId: e.actor.id, ...extra, eventId: e.id, time: e.time, detail };
}

/** More than `maxPatients` distinct patients accessed by one actor within `windowMs`. Alerts once per window. */
export function massAccessRule(options: { readonly maxPatients: number; readonly windowMs: number }): AnomalyRule {
  const max = needPositive('massAccessRule maxPatients', options.maxPatients);
  const windowMs = needPositive('massAccessRule windowMs', options.windowMs);
  return {
    name: 'mass-access',
    async check(e, store) {
      if (!isAccess(e) || e.patient === undefined) return null;
      const n = await store.addDistinct(`mass:${actorKey(e)}:${windowOf(e, windowMs)}`, e.patient.ref, windowMs * 2);
      return n === max + 1 ? alertOf('mass-access', e, `${n} distinct patients within ${windowMs} ms (limit ${max})`, { count: n }) : null;
    },
  };
}

/** More than `maxDenials` refused attempts by one actor within `windowMs`. Alerts once per window. */
export function repeatedDenialsRule(options: { readonly maxDenials: number; readonly windowMs: number }): AnomalyRule {
  const max = needPositive('repeatedDenialsRule maxDenials', options.maxDenials);
  const windowMs = needPositive('repeatedDenialsRule windowMs', options.windowMs);
  return {
    name: 'repeated-denials',
    async check(e, store) {
      if (e.outcome !== 'denied') return null;
      const n = await store.increment(`deny:${actorKey(e)}:${windowOf(e, windowMs)}`, windowMs * 2);
      return n === max + 1 ? alertOf('repeated-denials', e, `${n} denied attempts within ${windowMs} ms (limit ${max})`, { count: n }) : null;
    },
  };
}

/**
 * PHI accessed outside working hours: before `startHour` or from `endHour` on (local hours in
 * `timeZone`, an IANA zone, default UTC), or on a day not in `days` (0 = Sunday; default Mon–Fri).
 */
export function offHoursRule(options: { readonly startHour?: number; readonly endHour?: number; readonly days?: readonly number[]; readonly timeZone?: string } = {}): AnomalyRule {
  const start = options.startHour ?? 7;
  const end = options.endHour ?? 19;
  const days = new Set(options.days ?? [1, 2, 3, 4, 5]);
  if (!(start >= 0 && end <= 24 && start < end)) throw new OptionsError('offHoursRule needs 0 ≤ startHour < endHour ≤ 24');
  // Throws a RangeError now for an unknown time zone.
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: options.timeZone ?? 'UTC', hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
  const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  return {
    name: 'off-hours',
    check(e) {
      if (!isAccess(e) || e.patient === undefined) return null;
      const parts = fmt.formatToParts(new Date(e.time));
      const hour = Number(parts.find((p) => p.type === 'hour')?.value);
      const day = WEEKDAY[parts.find((p) => p.type === 'weekday')?.value ?? ''];
      if (day !== undefined && days.has(day) && hour >= start && hour < end) return null;
      return alertOf('off-hours', e, `access at local hour ${hour} on weekday ${day}`, { patientRef: e.patient.ref });
    },
  };
}

/** Any access to a flagged patient (VIP, employee, under investigation), given by reference. */
export function flaggedPatientsRule(flagged: Iterable<string> | ((patientRef: string) => boolean)): AnomalyRule {
  const isFlagged = typeof flagged === 'function' ? flagged : ((set) => (ref: string) => set.has(ref))(new Set(flagged));
  return {
    name: 'flagged-patient',
    check(e) {
      if (e.patient === undefined || e.outcome === 'error' || !isFlagged(e.patient.ref)) return null;
      return alertOf('flagged-patient', e, `${e.action} (${e.outcome}) on a flagged patient`, { patientRef: e.patient.ref });
    },
  };
}

/**
 * Every use of emergency access: a grant made or requested (45 CFR 164.312(a)(2)(ii) emergency
 * access procedure, reviewed under 164.308(a)(1)(ii)(D)). On by default in {@link anomalySink}.
 */
export function breakGlassRule(): AnomalyRule {
  return {
    name: 'break-glass',
    check(e) {
      if (e.action !== 'break-glass' || e.outcome !== 'success' || (e.reason !== 'granted' && e.reason !== 'requested')) return null;
      return alertOf('break-glass', e, `break-glass ${e.reason} (${e.breakGlass?.reason ?? 'no reason code'})`, e.patient === undefined ? {} : { patientRef: e.patient.ref });
    },
  };
}

/**
 * More than `maxEvents` population-level accesses (a success with no patient reference: an
 * extract, a cohort, a report over everyone) by one actor within `windowMs`. Alerts once per window.
 */
export function populationAccessRule(options: { readonly maxEvents: number; readonly windowMs: number; readonly actions?: readonly string[] }): AnomalyRule {
  const max = needPositive('populationAccessRule maxEvents', options.maxEvents);
  const windowMs = needPositive('populationAccessRule windowMs', options.windowMs);
  const actions = new Set(options.actions ?? ['read', 'export', 'disclose']);
  return {
    name: 'population-access',
    async check(e, store) {
      if (e.outcome !== 'success' || !actions.has(e.action) || e.patient !== undefined) return null;
      const n = await store.increment(`pop:${actorKey(e)}:${windowOf(e, windowMs)}`, windowMs * 2);
      return n === max + 1 ? alertOf('population-access', e, `${n} population-level ${[...actions].join('/')} events within ${windowMs} ms (limit ${max})`, { count: n }) : null;
    },
  };
}

/** The network of an address: IPv4 to `/v4Bits`, IPv6 to `/v6Bits` (hex groups), as a string. */
function networkOf(ip: string, v4Bits: number, v6Bits: number): string | null {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(ip);
  if (v4 !== null) {
    const n = v4.slice(1).reduce((acc, o) => acc * 256 + Number(o), 0);
    const masked = v4Bits === 0 ? 0 : Math.floor(n / 2 ** (32 - v4Bits)) * 2 ** (32 - v4Bits);
    return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${v4Bits}`;
  }
  if (!ip.includes(':')) return null;
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return `${groups.slice(0, Math.ceil(v6Bits / 16)).map((g) => parseInt(g, 16).toString(16)).join(':')}::/${v6Bits}`;
}

/**
 * A user's first access from a network not seen for them within `learnMs` (default 90 days):
 * IPv4 by /24, IPv6 by /48. The first network a user is ever seen on is their baseline, not an alert.
 */
export function newNetworkRule(options: { readonly learnMs?: number; readonly v4Bits?: number; readonly v6Bits?: number } = {}): AnomalyRule {
  const learnMs = options.learnMs === undefined ? 90 * 86_400_000 : needPositive('newNetworkRule learnMs', options.learnMs);
  const v4Bits = options.v4Bits ?? 24;
  const v6Bits = options.v6Bits ?? 48;
  if (!Number.isInteger(v4Bits) || v4Bits < 8 || v4Bits > 32 || !Number.isInteger(v6Bits) || v6Bits < 16 || v6Bits > 128 || v6Bits % 16 !== 0) {
    throw new OptionsError('newNetworkRule: v4Bits is 8–32, v6Bits a multiple of 16 from 16 to 128');
  }
  return {
    name: 'new-network',
    async check(e, store) {
      if (!isAccess(e) || e.actor.id === null || typeof e.actor.ip !== 'string') return null;
      const net = networkOf(e.actor.ip, v4Bits, v6Bits);
      if (net === null) return null;
      if ((await store.increment(`net:${e.actor.id}:${net}`, learnMs)) !== 1) return null;
      const networks = await store.addDistinct(`nets:${e.actor.id}`, net, learnMs);
      return networks > 1 ? alertOf('new-network', e, `first access from network ${net} for this user`, e.patient === undefined ? {} : { patientRef: e.patient.ref }) : null;
    },
  };
}

/** FHIR `value[x]` fields: the result itself. */
const RESULT_VALUE = /(?:^|\.)value(?:[A-Z][A-Za-z]*)?$/;

/**
 * A role outside `clinicalRoles` reading result values (FHIR `value[x]` fields, or the paths
 * `isResultField` accepts) of the `resources` named (45 CFR 164.502(b), 164.514(d) minimum
 * necessary: billing or front-desk staff have no need for the values).
 */
export function nonClinicalResultsRule(options: { readonly clinicalRoles: readonly string[]; readonly resources?: readonly string[]; readonly isResultField?: (path: string) => boolean }): AnomalyRule {
  if (!Array.isArray(options?.clinicalRoles) || options.clinicalRoles.length === 0) throw new OptionsError('nonClinicalResultsRule needs clinicalRoles: the roles whose job is reading results');
  const clinical = new Set(options.clinicalRoles);
  const resources = options.resources === undefined ? null : new Set(options.resources);
  const isResult = options.isResultField ?? ((p: string) => RESULT_VALUE.test(p));
  return {
    name: 'non-clinical-results',
    check(e) {
      if (e.outcome !== 'success' || e.action !== 'read' || (resources !== null && !resources.has(e.resource.type))) return null;
      if (e.actor.roles.some((r) => clinical.has(r))) return null;
      const values = (e.disclosed ?? []).filter(isResult);
      if (values.length === 0) return null;
      return alertOf('non-clinical-results', e, `roles ${e.actor.roles.join(', ') || '(none)'} read ${values.length} result value field(s)`, e.patient === undefined ? {} : { patientRef: e.patient.ref });
    },
  };
}

/** Options of {@link anomalySink}. */
export interface AnomalySinkOptions {
  readonly rules: readonly AnomalyRule[];
  /** Called with each alert. */
  readonly onAlert: (alert: AnomalyAlert) => void | Promise<void>;
  /** Shared counters; default a {@link MemoryAnomalyStore} (one instance only). */
  readonly store?: AnomalyStore;
  /** Called when a rule, the store or `onAlert` fails. */
  readonly onError?: (error: unknown) => void;
  /** Adds {@link breakGlassRule} to `rules` unless it is there already. Default true. */
  readonly breakGlassAlerts?: boolean;
}

/** An anomaly-detecting sink; `idle()` resolves when every event written so far was checked. */
export interface AnomalySink extends AuditSink {
  write(event: AuditEvent): void;
  idle(): Promise<void>;
  /** Same as `idle()`, so `createTeeSink(...).flush()` waits for detection too. */
  flush(): Promise<void>;
}

const ANOMALY_OPTIONS = optionsSchema<AnomalySinkOptions>('createAnomalySink', {
  rules: option.required(option.array<AnomalyRule>('an array of rules ({ name, check(event, store) })', (v) => v.every((r) => typeof (r as AnomalyRule)?.check === 'function'))),
  onAlert: option.required(option.func('a function (alert) => void')),
  store: option.implementing('an AnomalyStore (increment, addDistinct)', 'increment', 'addDistinct'),
  onError: option.func(),
  breakGlassAlerts: option.boolean(),
});

/**
 * A sink that runs the rules on each event, off the request path: `write` returns at once and
 * never fails (detection is not a record), events are checked in order. Put it beside the
 * store with `createTeeSink(store, createAnomalySink({ … }))`.
 */
export function anomalySink(options: AnomalySinkOptions): AnomalySink {
  ANOMALY_OPTIONS.parse(options ?? null);
  const store = options.store ?? new MemoryAnomalyStore();
  const { onAlert, onError } = options;
  // Emergency access is always worth a look: on unless turned off by name.
  const rules = options.breakGlassAlerts === false || options.rules.some((r) => r.name === 'break-glass') ? options.rules : [...options.rules, breakGlassRule()];
  let tail: Promise<void> = Promise.resolve();
  const report = (err: unknown): void => {
    try {
      onError?.(err);
    } catch {
      /* nothing left to tell */
    }
  };
  const check = async (event: AuditEvent): Promise<void> => {
    for (const rule of rules) {
      try {
        const alert = await rule.check(event, store);
        if (alert !== null) await onAlert(alert);
      } catch (err) {
        report(err);
      }
    }
  };
  return {
    write(event) {
      tail = tail.then(() => check(event));
    },
    idle: () => tail,
    flush: () => tail,
  };
}

/** An in-memory {@link AnomalyStore} for a single instance and tests; `now` is epoch milliseconds. */
export function createMemoryAnomalyStore(now: () => number = Date.now): AnomalyStore {
  return new MemoryAnomalyStore(now);
}
