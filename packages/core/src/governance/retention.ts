/**
 * Retention of the records phiguard owns, legal holds and the purge job (45 CFR 164.530(j)
 * keeps documentation six years; state law and litigation holds may keep records longer).
 * A purge removes what is past its retention unless a hold covers it, and is audited.
 */
import { actionEvent, denialEvent, type AuditEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AccessDeniedError, OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { GOVERNANCE_OPTIONS, ID, audited, hasRole, nowOf, type GovernanceAudit } from './common.js';
import { option, optionsSchema } from '../options.js';
import type { Clock } from '../base/clock.js';

/** A record a purge may remove. */
export interface PurgeCandidate {
  readonly id: string;
  readonly patientRef?: string;
  /** Cases (matters, investigations) the record belongs to. */
  readonly caseRefs?: readonly string[];
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A store phiguard owns that the purge job can clean (disclosure copies, vault tokens, …). */
export interface PurgeTarget {
  readonly name: string;
  /** Records created before `before`, oldest first, at most `limit`. */
  candidates(before: number, limit: number): Promise<readonly PurgeCandidate[]>;
  /** Removes these records; returns how many were removed. */
  remove(ids: readonly string[]): Promise<number>;
}

/** Where a sweep cut a stream of records (an audit chain): everything up to `seq` was removed. */
export interface PurgeCut {
  readonly stream: string;
  readonly seq: number;
}

/** The holds in force when a sweep runs. */
export interface HeldRefs {
  readonly patientRefs: ReadonlySet<string>;
  readonly caseRefs: ReadonlySet<string>;
}

/**
 * A store that decides itself what it can remove (an audit chain keeps whole prefixes per
 * stream): `sweep` removes what is older than `before` and not held, and says how much.
 */
export interface SweepPurgeTarget {
  readonly name: string;
  /** Used when the rule gives no `retentionDays`. */
  readonly defaultRetentionDays?: number;
  /** The job refuses a rule with a shorter retention. */
  readonly minRetentionDays?: number;
  sweep(before: number, held: HeldRefs): Promise<{ readonly purged: number; readonly held: number; readonly cuts: readonly PurgeCut[] }>;
}

/** A legal hold: suspends purge for a patient or a case. */
export interface LegalHold {
  readonly id: string;
  readonly patientRef?: string;
  readonly caseRef?: string;
  readonly placedBy: string;
  readonly placedAt: number;
}

/** Options of {@link createLegalHolds}. */
export interface LegalHoldsOptions {
  readonly store: StateStore;
  readonly audit: GovernanceAudit;
  readonly patientRef: (patientId: string | number) => string;
  /** Roles that place and release holds (privacy office, legal counsel). */
  readonly roles: readonly string[];
  /** The clock of expiries and event times. Default: the wall clock. */
  readonly clock?: Clock;
}

/** Legal holds, shared by every instance. */
export interface LegalHolds {
  place(context: AccessContext, hold: { readonly id: string; readonly patientId?: string | number; readonly caseRef?: string }): Promise<LegalHold>;
  release(context: AccessContext, id: string): Promise<void>;
  list(): Promise<LegalHold[]>;
}

const HOLDS = 'gov:legal-holds';
const holdKey = (id: string) => `gov:legal-hold:${id}`;

const HOLDS_OPTIONS = optionsSchema<LegalHoldsOptions>('createLegalHolds', GOVERNANCE_OPTIONS);

/** Creates the legal-hold register. */
export function createLegalHolds(options: LegalHoldsOptions): LegalHolds {
  const { store, audit, patientRef, clock } = HOLDS_OPTIONS.parse(options ?? null);
  const roles = new Set(options.roles);
  const now = nowOf(clock);
  const guardRole = async (context: AccessContext, attempted: 'create' | 'delete') => {
    if (hasRole(context, roles)) return;
    await audited(audit, denialEvent(attempted, context, 'LegalHold', 'purpose_not_permitted'), now);
    throw new AccessDeniedError('purpose_not_permitted');
  };
  return {
    async place(context, input) {
      await guardRole(context, 'create');
      if (typeof input?.id !== 'string' || !ID.test(input.id)) throw new OptionsError('legal hold: id must be a short identifier');
      if (input.patientId === undefined && input.caseRef === undefined) throw new OptionsError('legal hold: name a patientId or a caseRef');
      if (input.caseRef !== undefined && (typeof input.caseRef !== 'string' || !ID.test(input.caseRef))) throw new OptionsError('legal hold: caseRef must be a short identifier');
      const hold: LegalHold = {
        id: input.id,
        ...(input.patientId === undefined ? {} : { patientRef: patientRef(input.patientId) }),
        ...(input.caseRef === undefined ? {} : { caseRef: input.caseRef }),
        placedBy: context.principal.id,
        placedAt: now(),
      };
      await audited(audit, actionEvent('create', context, { resource: { type: 'LegalHold', id: hold.id }, reason: 'legal-hold:place', ...(hold.patientRef === undefined ? {} : { patientRef: hold.patientRef }) }), now);
      await store.set(holdKey(hold.id), JSON.stringify(hold));
      await store.addToSet(HOLDS, hold.id);
      return hold;
    },
    async release(context, id) {
      await guardRole(context, 'delete');
      const raw = typeof id === 'string' && ID.test(id) ? await store.get(holdKey(id)) : null;
      if (raw === null) throw new OptionsError('legal hold: no hold with this id');
      const hold = JSON.parse(raw) as LegalHold;
      await audited(audit, actionEvent('delete', context, { resource: { type: 'LegalHold', id }, reason: 'legal-hold:release', ...(hold.patientRef === undefined ? {} : { patientRef: hold.patientRef }) }), now);
      await store.removeFromSet(HOLDS, id);
      await store.delete(holdKey(id));
    },
    async list() {
      const ids = await store.members(HOLDS);
      const raws = await store.getMany(ids.map(holdKey));
      return raws.filter((r): r is string => typeof r === 'string').map((r) => JSON.parse(r) as LegalHold);
    },
  };
}

/** One store and how long its records are kept. */
export interface RetentionRule {
  readonly target: PurgeTarget | SweepPurgeTarget;
  /** Days a record is kept after its creation (default: the target's `defaultRetentionDays`). */
  readonly retentionDays?: number;
}

/** Options of {@link createPurgeJob}. */
export interface PurgeJobOptions {
  readonly rules: readonly RetentionRule[];
  readonly holds?: LegalHolds;
  readonly audit: GovernanceAudit;
  /** The clock of expiries and event times. Default: the wall clock. */
  readonly clock?: Clock;
  /** Records handled per round trip. Default 500. */
  readonly batch?: number;
}

/** What one purge run did, per store. */
export interface PurgeReport {
  readonly target: string;
  readonly cutoff: string;
  readonly purged: number;
  readonly held: number;
  /** Sweep targets: where each stream was cut (stream ids and positions, no record content). */
  readonly cuts?: readonly PurgeCut[];
}

/** The retention job: run it on a schedule (one instance at a time is enough; runs are idempotent). */
export interface PurgeJob {
  run(context: AccessContext): Promise<PurgeReport[]>;
}

/** An audit event of a purge: the store, the cut-off and the counts, never a record id of a patient. */
export interface PurgeAuditEvent extends AuditEvent {
  readonly retention: PurgeReport;
}

const PURGE_OPTIONS = optionsSchema<PurgeJobOptions>('createPurgeJob', {
  rules: option.required(option.array<RetentionRule>('a non-empty list of rules [{ target, retentionDays }]', (v) => v.length > 0)),
  holds: option.implementing<LegalHolds>('the legal holds (createLegalHolds)', 'list'),
  audit: GOVERNANCE_OPTIONS.audit,
  clock: GOVERNANCE_OPTIONS.clock,
  batch: option.atLeast(1, 'a positive integer'),
});

/** Creates the purge job. */
export function createPurgeJob(options: PurgeJobOptions): PurgeJob {
  const { batch = 500, clock } = PURGE_OPTIONS.parse(options ?? null);
  const names = new Set<string>();
  const days = new Map<RetentionRule, number>();
  for (const r of options.rules) {
    const t = r?.target as Partial<PurgeTarget & SweepPurgeTarget> | undefined;
    const sweeps = typeof t?.sweep === 'function';
    if (r === null || t === undefined || t === null || (!sweeps && (typeof t.candidates !== 'function' || typeof t.remove !== 'function'))) {
      throw new OptionsError('createPurgeJob rules: each needs a `target` with candidates() and remove(), or sweep()');
    }
    const d = r.retentionDays ?? (sweeps ? t.defaultRetentionDays : undefined);
    if (!(typeof d === 'number' && Number.isFinite(d) && d > 0)) throw new OptionsError(`createPurgeJob rules: ${t.name} needs retentionDays > 0`);
    if (sweeps && t.minRetentionDays !== undefined && d < t.minRetentionDays) {
      throw new OptionsError(`createPurgeJob rules: ${t.name} keeps records at least ${t.minRetentionDays} days; ${d} is shorter`);
    }
    if (names.has(t.name!)) throw new OptionsError(`createPurgeJob rules: ${t.name} is listed twice`);
    names.add(t.name!);
    days.set(r, d);
  }
  const now = nowOf(clock);
  const { audit, holds } = options;
  return {
    async run(context) {
      const active = holds === undefined ? [] : await holds.list();
      const heldPatients = new Set(active.flatMap((h) => (h.patientRef === undefined ? [] : [h.patientRef])));
      const heldCases = new Set(active.flatMap((h) => (h.caseRef === undefined ? [] : [h.caseRef])));
      const isHeld = (c: PurgeCandidate) => (c.patientRef !== undefined && heldPatients.has(c.patientRef)) || (c.caseRefs ?? []).some((r) => heldCases.has(r));
      const reports: PurgeReport[] = [];
      for (const rule of options.rules) {
        const cutoff = now() - days.get(rule)! * 86_400_000;
        if ('sweep' in rule.target && typeof rule.target.sweep === 'function') {
          const done = await rule.target.sweep(cutoff, { patientRefs: heldPatients, caseRefs: heldCases });
          const report: PurgeReport = { target: rule.target.name, cutoff: new Date(cutoff).toISOString(), purged: done.purged, held: done.held, cuts: done.cuts.map((c) => ({ stream: c.stream, seq: c.seq })) };
          const event: PurgeAuditEvent = { ...actionEvent('delete', context, { resource: { type: 'retention', id: rule.target.name }, reason: 'retention:purge' }), retention: report };
          await audited(audit, event, now);
          reports.push(report);
          continue;
        }
        const target = rule.target as PurgeTarget;
        let purged = 0;
        let held = 0;
        const skipped = new Set<string>();
        for (;;) {
          const page = (await target.candidates(cutoff, batch + skipped.size)).filter((c) => !skipped.has(c.id));
          if (page.length === 0) break;
          const removable: string[] = [];
          for (const c of page) {
            if (isHeld(c)) {
              skipped.add(c.id);
              held++;
            } else removable.push(c.id);
          }
          if (removable.length > 0) purged += await target.remove(removable);
          if (page.length < batch) break;
        }
        const report: PurgeReport = { target: rule.target.name, cutoff: new Date(cutoff).toISOString(), purged, held };
        // 45 CFR 164.530(j), 164.316(b)(2): what was destroyed, when and by whom is itself documented.
        const event: PurgeAuditEvent = { ...actionEvent('delete', context, { resource: { type: 'retention', id: rule.target.name }, reason: 'retention:purge' }), retention: report };
        await audited(audit, event, now);
        reports.push(report);
      }
      return reports;
    },
  };
}
