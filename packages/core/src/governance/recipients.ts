/**
 * The registry of disclosure recipients and their business associate agreements
 * (45 CFR 164.502(e), 164.504(e)): a recipient that needs an agreement receives nothing
 * unless one is active and unexpired.
 */
import { actionEvent, denialEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AccessDeniedError, OptionsError, type DenyReason } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { GOVERNANCE_OPTIONS, ID, audited, hasRole, keyedRef, nowOf, rolesRule, timeOf, type GovernanceAudit } from './common.js';
import { option, optionsSchema } from '../options.js';
import type { Clock } from '../base/clock.js';
import { RECIPIENT_TYPES, type Recipient, type RecipientType } from './disclosure.js';

/** A business associate agreement as recorded. */
export interface Agreement {
  readonly status: 'active' | 'terminated';
  /** ISO-8601. */
  readonly signedAt: string;
  /** ISO-8601; absent means no end date. */
  readonly expiresAt?: string;
  /** Where the signed document is kept (a document-management id), never its text. */
  readonly documentRef?: string;
}

/** A recipient as registered. */
export interface RecipientEntry {
  readonly id: string;
  readonly type: RecipientType;
  /** The name the accounting gives the patient (164.528(b)(2)(ii)). Kept here, never in audit. */
  readonly name: string;
  readonly address?: string;
  readonly nameRef: string;
  readonly agreement?: Agreement;
  readonly updatedAt: number;
}

/** What {@link RecipientRegistry.register} takes. */
export interface RecipientInput {
  readonly id: string;
  readonly type: RecipientType;
  readonly name: string;
  readonly address?: string;
  readonly agreement?: Agreement;
}

/** Options of {@link createRecipientRegistry}. */
export interface RecipientRegistryOptions {
  /** Shared by every instance (RedisStateStore in production). */
  readonly store: StateStore;
  /** 32+ bytes keying the name references written to audit. */
  readonly secret: string | Uint8Array;
  readonly audit: GovernanceAudit;
  /** Roles that may register recipients and record agreements. */
  readonly managerRoles: readonly string[];
  /** Recipient types that need a business associate agreement. Default `['business-associate']`. */
  readonly agreementRequiredFor?: readonly RecipientType[];
  /** The clock of expiries and event times. Default: the wall clock. */
  readonly clock?: Clock;
}

/** Recipients and their agreements. */
export interface RecipientRegistry {
  /** Registers or updates a recipient (manager roles only). Audited. */
  register(context: AccessContext, input: RecipientInput): Promise<RecipientEntry>;
  get(id: string): Promise<RecipientEntry | null>;
  /**
   * The recipient as an event records it, once it may receive a disclosure now: refuses
   * (AccessDeniedError `recipient_unknown`, `agreement_missing`, `agreement_expired`, audited
   * as a denial) otherwise.
   */
  admit(context: AccessContext, id: string, refs?: { readonly patientRef?: string; readonly resource?: string; readonly action?: 'disclose' | 'export' }): Promise<Recipient>;
  /** Names of recipients by name reference, for the accounting given to the patient. */
  nameOf(nameRef: string): Promise<{ readonly name: string; readonly address?: string } | null>;
}

const OPTIONS = optionsSchema<RecipientRegistryOptions>('createRecipientRegistry', {
  store: GOVERNANCE_OPTIONS.store,
  // Length and kind are checked where the reference key is derived (keyedRef).
  secret: option.required(option.custom('a string or Uint8Array of at least 32 bytes (keys the references written to audit)', ['string', 'bytes'])),
  audit: GOVERNANCE_OPTIONS.audit,
  managerRoles: option.required(rolesRule()),
  agreementRequiredFor: option.array<RecipientType>(`a list of recipient types (${RECIPIENT_TYPES.join(', ')})`, (v) => v.every((t) => RECIPIENT_TYPES.includes(t as RecipientType))),
  clock: GOVERNANCE_OPTIONS.clock,
});
const entryKey = (id: string) => `gov:recipient:${id}`;
const nameKey = (ref: string) => `gov:recipient-name:${ref}`;

function problemsOf(input: RecipientInput): string[] {
  const p: string[] = [];
  if (typeof input?.id !== 'string' || !ID.test(input.id)) p.push('id must be a short identifier ([A-Za-z0-9._:-], at most 128)');
  if (!RECIPIENT_TYPES.includes(input?.type)) p.push(`type must be one of ${RECIPIENT_TYPES.join(', ')}`);
  if (typeof input?.name !== 'string' || input.name.trim() === '' || input.name.length > 200) p.push('name is required (at most 200 characters)');
  if (input?.address !== undefined && (typeof input.address !== 'string' || input.address.length > 500)) p.push('address must be a string of at most 500 characters');
  const a = input?.agreement;
  if (a !== undefined) {
    if (a === null || typeof a !== 'object') p.push('agreement must be an object');
    else {
      if (a.status !== 'active' && a.status !== 'terminated') p.push('agreement.status must be "active" or "terminated"');
      if (Number.isNaN(timeOf(a.signedAt))) p.push('agreement.signedAt must be an ISO-8601 date');
      if (a.expiresAt !== undefined && Number.isNaN(timeOf(a.expiresAt))) p.push('agreement.expiresAt must be an ISO-8601 date');
    }
  }
  return p;
}

/** Creates the recipient registry. */
export function createRecipientRegistry(options: RecipientRegistryOptions): RecipientRegistry {
  const { store, audit, clock } = OPTIONS.parse(options ?? null);
  const managers = new Set(options.managerRoles);
  const now = nowOf(clock);
  const nameRefOf = keyedRef('createRecipientRegistry', options.secret, 'phiguard/recipient-name/v1', 'rn');
  const required = new Set<RecipientType>(options.agreementRequiredFor ?? ['business-associate']);

  const get = async (id: string): Promise<RecipientEntry | null> => {
    if (typeof id !== 'string' || !ID.test(id)) return null;
    const raw = await store.get(entryKey(id));
    return raw === null ? null : (JSON.parse(raw) as RecipientEntry);
  };
  const refuse = async (context: AccessContext, reason: DenyReason, refs: { patientRef?: string; resource?: string; action?: 'disclose' | 'export' }): Promise<never> => {
    await audited(audit, denialEvent(refs.action ?? 'disclose', context, refs.resource ?? 'Recipient', reason, refs.patientRef === undefined ? {} : { patientRef: refs.patientRef }), now);
    throw new AccessDeniedError(reason);
  };

  return {
    async register(context, input) {
      if (!hasRole(context, managers)) {
        await audited(audit, denialEvent('update', context, 'Recipient', 'purpose_not_permitted'), now);
        throw new AccessDeniedError('purpose_not_permitted');
      }
      const problems = problemsOf(input);
      if (problems.length > 0) throw new OptionsError(`recipient: ${problems.join('; ')}`);
      const entry: RecipientEntry = {
        id: input.id,
        type: input.type,
        name: input.name.trim(),
        ...(input.address === undefined ? {} : { address: input.address }),
        nameRef: nameRefOf(input.name),
        ...(input.agreement === undefined ? {} : { agreement: { ...input.agreement } }),
        updatedAt: now(),
      };
      // 45 CFR 164.504(e): the agreement's status is part of the record of the disclosure's basis.
      const code = input.agreement === undefined ? 'recipient:register' : `recipient:agreement-${input.agreement.status}`;
      await audited(audit, actionEvent('update', context, { resource: { type: 'Recipient', id: entry.id }, reason: code }), now);
      await store.set(entryKey(entry.id), JSON.stringify(entry));
      await store.set(nameKey(entry.nameRef), JSON.stringify({ name: entry.name, ...(entry.address === undefined ? {} : { address: entry.address }) }));
      return entry;
    },

    get,

    async admit(context, id, refs = {}) {
      const entry = await get(id);
      if (entry === null) return refuse(context, 'recipient_unknown', refs);
      if (required.has(entry.type)) {
        // 45 CFR 164.502(e)(1): PHI goes to a business associate only under satisfactory assurance.
        const a = entry.agreement;
        if (a === undefined || a.status !== 'active' || timeOf(a.signedAt) > now()) return refuse(context, 'agreement_missing', refs);
        if (a.expiresAt !== undefined && timeOf(a.expiresAt) <= now()) return refuse(context, 'agreement_expired', refs);
      }
      return { type: entry.type, id: entry.id, nameRef: entry.nameRef };
    },

    async nameOf(nameRef) {
      const raw = typeof nameRef === 'string' ? await store.get(nameKey(nameRef)) : null;
      return raw === null ? null : (JSON.parse(raw) as { name: string; address?: string });
    },
  };
}
