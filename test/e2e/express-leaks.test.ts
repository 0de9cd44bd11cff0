/**
 * The leak-testing kit (@phiguard/core/testing) run over the Express example: every route, every
 * role, every purpose of use, and the error paths, with the response (status, headers, body) and
 * every log line (application, audit, errors) captured. A role may receive in a response body
 * exactly what the policy discloses to it; nothing identifying may appear anywhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from './serve.js';
import { PURPOSES_OF_USE, createScanner } from '@phiguard/core';
import { canariesFrom, canaryDetectors, capturedResponse, sweep, type Captured, type SweepCase } from '@phiguard/core/testing';
import { createApp, policy, signToken } from '../../examples/express-lab-results/src/app.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-leak-sweep';
const log = memoryLog();
let served: Served;
let base: string;

beforeAll(async () => {
  // Test mode: the fixture's SSNs use the never-issued 9xx area, which the production scanner
  // rightly ignores; the kit's canary detectors make DLP treat them as the real thing.
  const scanner = createScanner({ detectors: [...canaryDetectors] });
  const app = createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger, scanner });
  served = await serve(app);
  base = served.base;
});
afterAll(async () => {
  await served.close();
});

// Every identifying value of the fixture patients is a canary.
const records = [...PATIENTS.values()].map((r) => r.patient);
const canaries = canariesFrom({
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
const ROUTES = [
  ...[...PATIENTS.keys()].map((id) => `GET /patients/${id}/results`),
  'GET /patients/9999/results',
  'GET /patients/1001/results (no token)',
  'POST /patients/1001/notes',
  'POST /patients/1001/messages',
  'GET /patients/1001/disclosures',
  'GET /reports/abnormal-results',
  'GET /patients/1001/results.csv',
];

async function call(c: SweepCase): Promise<readonly Captured[]> {
  const from = log.lines.length;
  const [method, path] = c.route.split(' ') as [string, string];
  const token = await signToken(
    { sub: c.role === 'care-team-nurse' ? 'rn.alvarez' : `sweep-${c.role}`, roles: [c.role], amr: ['pwd', 'otp'], ...(c.role === 'patient' ? { patient: '1001' } : {}) },
    JWT_SECRET,
  );
  const headers: Record<string, string> = { 'x-purpose-of-use': c.purpose };
  if (!c.route.endsWith('(no token)')) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ text: SSN_IN_TEXT });
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  return [
    ...capturedResponse({ status: res.status, headers: res.headers, text }, c.route),
    ...log.lines.slice(from).map((line, i) => ({ channel: 'log', location: `${c.route} line ${i + 1}`, text: line })),
  ];
}

describe('leak sweep of the Express example', () => {
  it('no canary leaves through logs, audit, headers or error bodies; bodies carry only what each role may see', async () => {
    const result = await sweep({
      routes: ROUTES,
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
    expect(result.cases).toBe(ROUTES.length * policy.roles.length * PURPOSES_OF_USE.length);
    expect(result.leaks).toEqual([]);
  });
});
