/**
 * Channel exceptions (45 CFR 164.524(c)(2)(i), (c)(3); HHS guidance on unencrypted e-mail at the
 * individual's request): a patient may ask to receive their information over an unsecured
 * channel once warned of the risk. The request is recorded with the notice shown and the
 * patient's confirmation, checked before such a delivery, and referenced by the disclosure.
 */
import { actionEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { GOVERNANCE_OPTIONS, ID, audited, nowOf, type GovernanceAudit } from './common.js';
import { optionsSchema } from '../options.js';
import type { Clock } from '../base/clock.js';
import { disclosureDigest, type DeliveryMethod } from './disclosure.js';

/** A recorded channel exception. */
export interface ChannelException {
  readonly id: string;
  readonly patientRef: string;
  readonly method: DeliveryMethod;
  /** Digest of the risk notice text the patient was shown. */
  readonly noticeDigest: string;
  /** When the patient confirmed, having read it (epoch ms). */
  readonly confirmedAt: number;
  readonly recordedBy: string;
}

/** Channel exceptions, shared by every instance. */
export interface ChannelExceptions {
  /** Records the patient's confirmed request. `notice` is the exact text shown. Audited. */
  record(context: AccessContext, input: { readonly id: string; readonly patientId: string | number; readonly method: DeliveryMethod; readonly notice: string; readonly confirmed: boolean }): Promise<ChannelException>;
  /** Withdraws it (the patient changed their mind). Audited. */
  withdraw(context: AccessContext, id: string): Promise<void>;
  /** True when `ref` is a live exception of this patient for this method. */
  verify(ref: string, patientId: string | number, method: DeliveryMethod): Promise<boolean>;
}

const CHANNEL_OPTIONS = optionsSchema<Parameters<typeof createChannelExceptions>[0]>('createChannelExceptions', {
  store: GOVERNANCE_OPTIONS.store,
  audit: GOVERNANCE_OPTIONS.audit,
  patientRef: GOVERNANCE_OPTIONS.patientRef,
  clock: GOVERNANCE_OPTIONS.clock,
});

/** Creates the channel-exception register. */
export function createChannelExceptions(options: { readonly store: StateStore; readonly audit: GovernanceAudit; readonly patientRef: (patientId: string | number) => string; readonly clock?: Clock }): ChannelExceptions {
  const { store, audit, patientRef, clock } = CHANNEL_OPTIONS.parse(options ?? null);
  const now = nowOf(clock);
  const key = (id: string) => `gov:channel-exception:${id}`;
  return {
    async record(context, input) {
      if (typeof input?.id !== 'string' || !ID.test(input.id)) throw new OptionsError('channel exception: id must be a short identifier');
      if (typeof input.method !== 'string' || !input.method.startsWith('unsecured-')) throw new OptionsError('channel exception: method must be an unsecured-* delivery method');
      if (typeof input.notice !== 'string' || input.notice.trim().length < 40) throw new OptionsError('channel exception: `notice` must be the risk notice text shown to the patient');
      /* Precondition: the patient confirmed, having been told the risk. */
      if (input.confirmed !== true) throw new OptionsError('channel exception: the patient must confirm the request after reading the notice');
      const exception: ChannelException = {
        id: input.id,
        patientRef: patientRef(input.patientId),
        method: input.method,
        noticeDigest: disclosureDigest(input.notice),
        confirmedAt: now(),
        recordedBy: context.principal.id,
      };
      await audited(audit, actionEvent('create', context, { resource: { type: 'ChannelException', id: exception.id }, reason: `channel-exception:${exception.method}`, patientRef: exception.patientRef }), now);
      if (!(await store.setIfAbsent(key(exception.id), JSON.stringify(exception), 6 * 366 * 86_400_000))) throw new OptionsError('channel exception: this id is already on file');
      return exception;
    },
    async withdraw(context, id) {
      const raw = typeof id === 'string' && ID.test(id) ? await store.get(key(id)) : null;
      if (raw === null) throw new OptionsError('channel exception: no exception with this id');
      const e = JSON.parse(raw) as ChannelException;
      await audited(audit, actionEvent('delete', context, { resource: { type: 'ChannelException', id }, reason: 'channel-exception:withdraw', patientRef: e.patientRef }), now);
      await store.delete(key(id));
    },
    async verify(ref, patientId, method) {
      const raw = typeof ref === 'string' && ID.test(ref) ? await store.get(key(ref)) : null;
      if (raw === null) return false;
      const e = JSON.parse(raw) as ChannelException;
      return e.patientRef === patientRef(patientId) && e.method === method;
    },
  };
}
