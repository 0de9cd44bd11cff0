import { createPhiGuard, definePolicy, type AccessContext, type AuditEvent } from '@phiguard/core';
import { createAuthorizations, createDisclosures, createRecipientRegistry } from '@phiguard/core/governance';
import { createMemoryStateStore, type StateStore } from '@phiguard/core/state';

export const SECRET = 'governance-test-secret-0123456789abcdef';

/** A record with typed, dated reports; the desk releases it under each requester's rule set. */
export const policy = definePolicy({
  roles: ['roi-desk', 'privacy-officer', 'requester:third-party', 'requester:public-health', 'requester:provider', 'billing'],
  resources: {
    Chart: {
      subject: 'patient.id',
      id: 'id',
      fields: {
        id: 'non-phi',
        'patient.id': 'direct-identifier',
        'patient.name': 'direct-identifier',
        'patient.ssn': 'direct-identifier',
        'reports[].id': 'non-phi',
        'reports[].type': 'clinical',
        'reports[].date': 'quasi-identifier',
        'reports[].value': 'clinical',
      },
      disclose: {
        'requester:third-party': { PATRQT: { 'patient.name': 'send', 'reports[].type': 'send', 'reports[].date': 'send', 'reports[].value': 'send', 'reports[].id': 'send' } },
        'requester:public-health': { PUBHLTH: { 'patient.name': 'send', 'reports[].type': 'send', 'reports[].value': 'send', 'reports[].date': 'send', 'reports[].id': 'send' } },
        'requester:provider': { TREAT: { '*': 'send', 'patient.ssn': 'redact' } },
        billing: { HPAYMT: { id: 'send', 'reports[].type': 'send' } },
        'roi-desk': { HOPERAT: { id: 'send' } },
        'privacy-officer': { HOPERAT: { id: 'send' } },
      },
    },
  },
});

export interface Report {
  id: string;
  type: string;
  date: string;
  value: string;
}
export const chart = (patientId: string, reports: Report[]) => ({
  id: `chart-${patientId}`,
  patient: { id: patientId, name: 'Quinton Zabriskie', ssn: '512-44-9081' },
  reports,
});
export const REPORTS: Report[] = [
  { id: 'r-nov', type: 'lab', date: '2024-11-18T11:00:00Z', value: 'glucose 101' },
  { id: 'r-jan', type: 'lab', date: '2025-01-21T10:05:00Z', value: 'hba1c 6.1' },
  { id: 'r-mar', type: 'lab', date: '2025-03-04T08:15:00Z', value: 'ldl 130' },
  { id: 'r-mar-img', type: 'imaging', date: '2025-03-10T08:15:00Z', value: 'chest clear' },
];

export const desk = (id = 'roi.kim', roles: string[] = ['roi-desk']): AccessContext => ({ principal: { id }, roles, purposeOfUse: 'HOPERAT', request: { method: 'POST', route: '/roi' } });
/** The context a release to a third party is decided under: the authorizing patient bound in. */
export const asThirdParty = (patientId: string, who = 'roi.kim'): AccessContext => ({ principal: { id: who, patientId }, roles: ['roi-desk', 'requester:third-party'], purposeOfUse: 'PATRQT' });

/** A clock the tests move. */
export function clock(start = Date.parse('2025-04-01T12:00:00Z')) {
  let t = start;
  const now = () => t;
  now.advance = (ms: number) => void (t += ms);
  now.set = (ms: number) => void (t = ms);
  return now;
}

/** Everything a disclosure needs, in memory, with the audit trail collected. */
export function setup(options: { store?: StateStore; now?: ReturnType<typeof clock> } = {}) {
  const events: AuditEvent[] = [];
  const store = options.store ?? createMemoryStateStore();
  const now = options.now ?? clock();
  const guard = createPhiGuard({ policy, secret: SECRET, audit: { write: (e) => void events.push(e) } });
  const recipients = createRecipientRegistry({ store, secret: SECRET, audit: guard, managerRoles: ['privacy-officer'], clock: { now } });
  const authorizations = createAuthorizations({ store, audit: guard, patientRef: (id) => guard.policy.patientRef(id), intakeRoles: ['roi-desk'], revokerRoles: ['privacy-officer'], clock: { now } });
  const disclosures = createDisclosures({
    guard,
    recipients,
    authorizations,
    records: { Chart: { collection: 'reports', typeOf: (r) => (r as Report).type, dateOf: (r) => (r as Report).date } },
    clock: { now },
  });
  return { events, store, now, guard, recipients, authorizations, disclosures };
}
