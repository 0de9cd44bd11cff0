import {
  systemClock,
  type Clock,
  type AuditEvent,
  type AuditSink,
  type FieldCipher,
  type PhiGuard,
} from '@phiguard/core';
import { type DisclosureStore } from '@phiguard/core/audit';
import {
  createAuthorizations,
  createDenyList,
  createDisclosures,
  createLegalHolds,
  createPurgeJob,
  createRecipientRegistry,
  type Authorizations,
  type DenyList,
  type DisclosureCopyStore,
  type Disclosures,
  type LegalHolds,
  type PurgeJob,
  type RecipientRegistry,
} from '@phiguard/core/governance';
import { createMemoryStateStore, type StateStore } from '@phiguard/core/state';
import type { ReportView } from '../../../express-lab-results/src/view.js';

/** The roles of the governance desk. */
export const ROLES = {
  /** Works release-of-information requests (intake, review, fulfilment). */
  desk: 'release-of-information',
  /** Registers recipients and agreements, revokes authorizations, places holds, runs purges, reads the accounting. */
  privacy: 'privacy-officer',
  /** Disables users and clients (incident containment). */
  security: 'security-officer',
} as const;

/** Governance options of the NestJS example (all optional; in memory for one instance by default). */
export interface GovernanceOptions {
  /** The clock of authorizations, agreements, holds and purges (tests move it). Default: the wall clock. */
  readonly clock?: Clock;
  /** Keeps an encrypted copy of each release (PostgreSQL in production: postgresDisclosureCopyStore). */
  readonly copies?: DisclosureCopyStore;
  /** Days a release copy is kept. Default 2190 (six years, 45 CFR 164.530(j)). */
  readonly copyRetentionDays?: number;
  /** Break-glass secondary approval (policy.breakGlass.approval). Default the policy's (`after`). */
  readonly breakGlassApproval?: 'none' | 'before' | 'after';
  /** Check the shared deny list on every PHI request. Default true. */
  readonly containment?: boolean;
}

/** The governance services one instance runs; `state` shared means they are shared. */
export interface Governance {
  /** The shared state the services (and the desk's requests) live in. */
  readonly store: StateStore;
  readonly recipients: RecipientRegistry;
  readonly authorizations: Authorizations;
  readonly disclosures: Disclosures;
  readonly holds: LegalHolds;
  readonly purge: PurgeJob | null;
  readonly denyList: DenyList;
  /** Where the accounting reads: the durable audit store when there is one, otherwise this instance's trail. */
  readonly accountingSource: DisclosureStore | readonly AuditEvent[];
  /** Records a disclosure made elsewhere (an export to a recipient) where the accounting reads. */
  readonly recordDisclosure: (event: AuditEvent) => Promise<void>;
  readonly now: () => number;
}

/** A report's type as authorizations name it: its LOINC panel code. */
export const reportType = (r: unknown): string => (r as ReportView).code?.coding?.[0]?.code ?? 'unknown';

/** Builds the governance services over the release engine and the shared state. */
export function createGovernance(options: {
  readonly releases: PhiGuard;
  readonly state: StateStore | undefined;
  readonly secret: string | Uint8Array;
  readonly cipher: FieldCipher;
  readonly auditStore: (AuditSink & Partial<DisclosureStore>) | undefined;
  readonly trail: readonly AuditEvent[];
  readonly governance: GovernanceOptions | undefined;
}): Governance {
  const g = options.governance ?? {};
  const store = options.state ?? createMemoryStateStore();
  const clock: Clock = g.clock ?? systemClock;
  const now = () => clock.now();
  const { releases } = options;
  const patientRef = (id: string | number) => releases.policy.patientRef(id);
  const recipients = createRecipientRegistry({ store, secret: options.secret, audit: releases, managerRoles: [ROLES.privacy], clock });
  const authorizations = createAuthorizations({ store, audit: releases, patientRef, intakeRoles: [ROLES.desk], revokerRoles: [ROLES.privacy], clock });
  const denyList = createDenyList({ store, audit: releases, roles: [ROLES.security], clock });
  const disclosures = createDisclosures({
    guard: releases,
    denyList,
    recipients,
    authorizations,
    records: { PatientResults: { collection: 'reports', typeOf: reportType, dateOf: (r) => (r as ReportView).effectiveDateTime } },
    ...(g.copies === undefined ? {} : { copies: g.copies, cipher: options.cipher }),
    clock,
  });
  const holds = createLegalHolds({ store, audit: releases, patientRef, roles: [ROLES.privacy], clock });
  const purge = g.copies === undefined ? null : createPurgeJob({ rules: [{ target: g.copies, retentionDays: g.copyRetentionDays ?? 2190 }], holds, audit: releases, clock });
  const durable = options.auditStore;
  const accountingSource = durable !== undefined && typeof durable.disclosures === 'function' ? (durable as DisclosureStore) : options.trail;
  const recordDisclosure = async (event: AuditEvent) => {
    await releases.write(event);
  };
  return { store, recipients, authorizations, disclosures, holds, purge, denyList, accountingSource, recordDisclosure, now };
}
