/**
 * The leak sweep both example apps run (they serve the same contract): every route × role ×
 * purpose of use, error paths included, with the response and every log line captured.
 */
import { PURPOSES_OF_USE } from '@phiguard/core/policy';
import { canariesFrom, capturedResponse, sweep, type Captured, type Leak, type SweepCase } from '@phiguard/core/testing';
import { policy, signToken } from '../../examples/express-lab-results/src/app.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';

// Every identifying value of the fixture patients is a canary.
const records = [...PATIENTS.values()].map((r) => r.patient);
export const canaries = canariesFrom({
  name: records.flatMap((p) => [...p.name[0]!.given, p.name[0]!.family]),
  ssn: records.flatMap((p) => p.identifier.filter((i) => i.system.endsWith('us-ssn')).flatMap((i) => [i.value, i.value.replace(/-/g, '')])),
  mrn: records.flatMap((p) => p.identifier.filter((i) => i.system.endsWith('/mrn')).map((i) => i.value)),
  phone: records.flatMap((p) => p.telecom.filter((t) => t.system === 'phone').map((t) => t.value)),
  email: records.flatMap((p) => p.telecom.filter((t) => t.system === 'email').map((t) => t.value)),
  birthDate: records.map((p) => p.birthDate),
  address: records.flatMap((p) => p.address[0]!.line),
});

/** What the policy discloses in a body, as canary fields (free text quotes names, phones and birth dates). */
const BODY_FIELDS: Record<string, readonly string[]> = {
  'ordering-provider': ['*'],
  'care-team-nurse': ['name', 'mrn', 'phone', 'email', 'birthDate', 'address'],
  'lab-technologist': ['name', 'mrn', 'phone', 'birthDate'],
  'release-of-information': ['name', 'mrn', 'phone', 'email', 'birthDate', 'address'],
  patient: ['name', 'mrn', 'phone', 'email', 'birthDate', 'address'],
};

const SSN_IN_TEXT = `Callback re results, SSN ${records[0]!.identifier.find((i) => i.system.endsWith('us-ssn'))!.value}, phone ${records[0]!.telecom[0]!.value}`;

/** The routes both examples serve. */
export const COMMON_ROUTES: readonly string[] = [
  ...[...PATIENTS.keys()].map((id) => `GET /patients/${id}/results`),
  'GET /patients/9999/results',
  'GET /patients/1001/results (no token)',
  'POST /patients/1001/notes',
  'POST /patients/1001/messages',
];

/**
 * Sweeps the app at `base`. `lines` is its log (application, audit, errors), read after each
 * request; `jwtSecret` signs the tokens. Returns the number of cases and every leak.
 */
export async function sweepExample(options: {
  readonly base: string;
  readonly lines: readonly string[];
  readonly jwtSecret: string;
  readonly routes: readonly string[];
}): Promise<{ readonly cases: number; readonly leaks: readonly (Leak & SweepCase)[] }> {
  const call = async (c: SweepCase): Promise<readonly Captured[]> => {
    const from = options.lines.length;
    const [method, path] = c.route.split(' ') as [string, string];
    const token = await signToken(
      { sub: c.role === 'care-team-nurse' ? 'rn.alvarez' : `sweep-${c.role}`, roles: [c.role], amr: ['pwd', 'otp'], ...(c.role === 'patient' ? { patient: '1001' } : {}) },
      options.jwtSecret,
    );
    const headers: Record<string, string> = { 'x-purpose-of-use': c.purpose };
    if (!c.route.endsWith('(no token)')) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ text: SSN_IN_TEXT });
    }
    const res = await fetch(`${options.base}${path}`, { method, headers, body });
    const text = await res.text();
    return [
      ...capturedResponse({ status: res.status, headers: res.headers, text }, c.route),
      ...options.lines.slice(from).map((line, i) => ({ channel: 'log', location: `${c.route} line ${i + 1}`, text: line })),
    ];
  };
  return sweep({
    routes: options.routes,
    roles: policy.roles.map((role) => ({ role, purposes: PURPOSES_OF_USE })),
    canaries,
    request: call,
    // Patients may see their own record (1001) only; everyone's successful reads follow the policy.
    allow: (c) => {
      const fields = BODY_FIELDS[c.role];
      const ownOnly = c.role !== 'patient' || c.route.includes('/1001/');
      return fields && ownOnly && c.route.startsWith('GET') ? [{ channel: 'http.body', fields }] : [];
    },
  });
}

/** Cases a sweep over `routes` runs. */
export const casesFor = (routes: readonly string[]) => routes.length * policy.roles.length * PURPOSES_OF_USE.length;
