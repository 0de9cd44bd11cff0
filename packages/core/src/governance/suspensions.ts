/**
 * Temporary suspensions of an individual's right to an accounting of disclosures (45 CFR
 * 164.528(a)(2)): a health oversight agency or a law enforcement official states that an
 * accounting would be reasonably likely to impede its activities, for a stated time. Recorded
 * and audited here; `accountingOfDisclosures` applies them.
 */
import { actionEvent, denialEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AccessDeniedError, OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import type { Clock } from '../base/clock.js';
import { GOVERNANCE_OPTIONS, ID, audited, hasRole, nowOf, timeOf, type GovernanceAudit } from './common.js';
import { optionsSchema } from '../options.js';

/** 164.528(a)(2)(ii): an oral statement suspends for at most 30 days unless a written one follows. */
export const ORAL_SUSPENSION_DAYS = 30;

/** A recorded suspension, as `accountingOfDisclosures` reads it. */
export interface AccountingSuspension {
  readonly id: string;
  /** Registry id of the agency or official (the `recipient.id` of its disclosure events). */
  readonly agency: string;
  readonly agencyType: 'health-oversight-agency' | 'law-enforcement';
  /** The agency's statement that an accounting would impede its activities, and for how long. */
  readonly statement: string;
  /** `written` (164.528(a)(2)(i)) or `oral` (164.528(a)(2)(ii), at most 30 days from `start`). */
  readonly form: 'written' | 'oral';
  /** ISO-8601 UTC. */
  readonly start: string;
  /** ISO-8601 UTC, exclusive; for an oral statement at most 30 days after `start`. */
  readonly end: string;
  /** The patient it concerns; absent: every patient's accounting. */
  readonly patientRef?: string;
  readonly recordedBy: string;
  readonly recordedAt: string;
}

/** What {@link AccountingSuspensions.record} takes. */
export interface AccountingSuspensionInput {
  readonly id: string;
  readonly agency: string;
  readonly agencyType: AccountingSuspension['agencyType'];
  readonly statement: string;
  readonly form: AccountingSuspension['form'];
  readonly start: string | Date;
  readonly end: string | Date;
  readonly patientId?: string | number;
}

/** Options of {@link createAccountingSuspensions}. */
export interface AccountingSuspensionsOptions {
  readonly store: StateStore;
  readonly audit: GovernanceAudit;
  readonly patientRef: (patientId: string | number) => string;
  /** Roles that record suspensions (the privacy office). */
  readonly roles: readonly string[];
  readonly clock?: Clock;
}

/** The suspension register, shared by every instance. */
export interface AccountingSuspensions {
  record(context: AccessContext, input: AccountingSuspensionInput): Promise<AccountingSuspension>;
  list(): Promise<AccountingSuspension[]>;
}

const SET = 'gov:accounting-suspensions';
const keyOf = (id: string) => `gov:accounting-suspension:${id}`;
const DAY = 86_400_000;

/** The problems of a suspension, or none (also used by the accounting on suspensions it is given). */
export function suspensionProblems(s: unknown): string[] {
  const p: string[] = [];
  const v = s as Partial<AccountingSuspension> | null;
  if (v === null || typeof v !== 'object') return ['a suspension must be an object'];
  if (typeof v.id !== 'string' || !ID.test(v.id)) p.push('`id` must be a short identifier');
  if (typeof v.agency !== 'string' || !ID.test(v.agency)) p.push('`agency` must be the registry id of the agency or official');
  if (v.agencyType !== 'health-oversight-agency' && v.agencyType !== 'law-enforcement') p.push('`agencyType` must be "health-oversight-agency" or "law-enforcement" (164.528(a)(2))');
  if (typeof v.statement !== 'string' || v.statement.trim() === '' || v.statement.length > 2000) p.push('`statement` must be the agency\'s statement (at most 2000 characters)');
  if (v.form !== 'written' && v.form !== 'oral') p.push('`form` must be "written" or "oral"');
  const start = timeOf(v.start);
  const end = timeOf(v.end);
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) p.push('`start` and `end` must be ISO-8601 dates with end after start');
  else if (v.form === 'oral' && end - start > ORAL_SUSPENSION_DAYS * DAY) p.push(`an oral statement suspends for at most ${ORAL_SUSPENSION_DAYS} days (164.528(a)(2)(ii)); record the written statement`);
  return p;
}

const SUSPENSION_OPTIONS = optionsSchema<AccountingSuspensionsOptions>('createAccountingSuspensions', GOVERNANCE_OPTIONS);

/** Creates the suspension register. */
export function createAccountingSuspensions(options: AccountingSuspensionsOptions): AccountingSuspensions {
  const { store, clock } = SUSPENSION_OPTIONS.parse(options ?? null);
  const roles = new Set(options.roles);
  const now = nowOf(clock);
  const { audit, patientRef } = options;
  if (typeof patientRef !== 'function') throw new OptionsError('createAccountingSuspensions needs `patientRef` (guard.policy.patientRef)');
  return {
    async record(context, input) {
      if (!hasRole(context, roles)) {
        await audited(audit, denialEvent('create', context, 'AccountingSuspension', 'purpose_not_permitted'), now);
        throw new AccessDeniedError('purpose_not_permitted');
      }
      const startIso = timeOf(input?.start);
      const endIso = timeOf(input?.end);
      const s: AccountingSuspension = {
        id: input?.id,
        agency: input?.agency,
        agencyType: input?.agencyType,
        statement: typeof input?.statement === 'string' ? input.statement.trim() : (input?.statement as never),
        form: input?.form,
        start: Number.isNaN(startIso) ? String(input?.start) : new Date(startIso).toISOString(),
        end: Number.isNaN(endIso) ? String(input?.end) : new Date(endIso).toISOString(),
        ...(input?.patientId === undefined ? {} : { patientRef: patientRef(input.patientId) }),
        recordedBy: context.principal.id,
        recordedAt: new Date(now()).toISOString(),
      };
      const problems = suspensionProblems(s);
      if (problems.length > 0) throw new OptionsError(`accounting suspension: ${problems.join('; ')}`);
      if ((await store.get(keyOf(s.id))) !== null) throw new OptionsError('accounting suspension: this id is already recorded');
      // The statement stays in the register; the audit event names the suspension and the agency.
      await audited(audit, actionEvent('create', context, { resource: { type: 'AccountingSuspension', id: s.id }, reason: `accounting-suspension:${s.agencyType}`, ...(s.patientRef === undefined ? {} : { patientRef: s.patientRef }) }), now);
      await store.set(keyOf(s.id), JSON.stringify(s));
      await store.addToSet(SET, s.id);
      return s;
    },
    async list() {
      const ids = await store.members(SET);
      const raws = await store.getMany(ids.map(keyOf));
      return raws.filter((r): r is string => typeof r === 'string').map((r) => JSON.parse(r) as AccountingSuspension);
    },
  };
}
