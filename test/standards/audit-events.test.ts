/**
 * Standards: every kind of audit event both example apps emit, driven over real HTTP, mapped
 * by `toFhirAuditEvent` and checked by the official FHIR R4 JSON schema and by the IHE BALP
 * profile rules (./balp.ts). Zero errors, and no raw patient id in any event.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { toFhirAuditEvent } from '@phiguard/core/audit';
import { createApp as createExpressApp, signToken } from '../../examples/express-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { createApp as createNestApp } from '../../examples/nestjs-lab-results/src/app.js';
import { serve, type Served } from '../e2e/serve.js';
import { balpErrors } from './balp.js';
import { fhirSchemaErrors } from './validators.js';

const JWT_SECRET = 'standards-jwt-secret-for-the-audit-suite';
const PHIGUARD_SECRET = 'standards-phiguard-secret-with-at-least-32-bytes';
const PATIENT_IDS = ['1001', '1002', '1003', '1004', '1005'];
const SSN = '219-09-9999';
/** A value (and an undeclared parameter name) sent in a query string: never in an event. */
const QUERY_VALUE = 'Quennell';

type Who = { sub: string; roles: string[]; patient?: string };
const DR = { sub: 'dr.chen', roles: ['ordering-provider'] };
const NURSE = { sub: 'rn.okafor', roles: ['care-team-nurse'] };
const AUDITOR = { sub: 'aud-1', roles: ['auditor'] };
const BILLING = { sub: 'bill-7', roles: ['billing'] };
const RESEARCHER = { sub: 'res-1', roles: ['researcher'] };
const DESK = { sub: 'roi.kim', roles: ['release-of-information'] };
const emergency = { patientId: '1002', reason: 'life-threatening-emergency', justification: 'Collapsed in the lobby; assigned nurse unreachable' };

function client(base: () => string) {
  return async (method: string, path: string, who: Who | null, opts: { purpose?: string; grant?: string; body?: unknown; type?: string } = {}) => {
    const headers: Record<string, string> = { 'user-agent': 'standards-suite/1.0', 'x-request-id': `std-${Math.random().toString(36).slice(2)}` };
    if (who !== null) headers.authorization = `Bearer ${await signToken({ ...who, amr: ['pwd', 'otp'] } as never, JWT_SECRET)}`;
    if (opts.purpose) headers['x-purpose-of-use'] = opts.purpose;
    if (opts.grant) headers['x-break-glass-grant'] = opts.grant;
    if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const res = await fetch(`${base()}${path}`, { method, headers, body });
    const text = await res.text();
    let json: Record<string, any> | undefined;
    try {
      json = text ? (JSON.parse(text) as Record<string, any>) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text };
  };
}

/** The flows both apps share: reads, denials, creates with DLP block and redact, deletes, break-glass start/use/stop/review. */
async function commonFlows(http: ReturnType<typeof client>): Promise<void> {
  expect((await http('GET', '/patients/1001/results', DR, { purpose: 'TREAT' })).status).toBe(200);
  expect((await http('GET', '/patients/1002/results', BILLING, { purpose: 'HPAYMT' })).status).toBe(200);
  expect((await http('GET', '/patients/1001/results', { sub: 'pt-1', roles: ['patient'], patient: '1001' }, { purpose: 'PATRQT' })).status).toBe(200);
  // Denials: wrong purpose, not on the care team, no token.
  expect((await http('GET', '/patients/1001/results', BILLING, { purpose: 'TREAT' })).status).toBe(403);
  expect((await http('GET', '/patients/1002/results', NURSE, { purpose: 'TREAT' })).status).toBe(403);
  expect((await http('GET', '/patients/1001/results', null)).status).toBe(401);
  // Creates: a clean note, a note DLP blocks, a message DLP redacts.
  const note = await http('POST', '/patients/1001/notes', DR, { purpose: 'TREAT', body: { text: 'Repeat glucose fasting in 2 weeks.' } });
  expect(note.status).toBe(201);
  // Deletes: the nurse may add a note but not delete one; the ordering provider deletes it, once.
  expect((await http('DELETE', `/patients/1001/notes/${note.body!.id}`, NURSE, { purpose: 'TREAT' })).status).toBe(403);
  expect((await http('DELETE', `/patients/1001/notes/${note.body!.id}`, DR, { purpose: 'TREAT' })).status).toBe(200);
  expect((await http('DELETE', `/patients/1001/notes/${note.body!.id}`, DR, { purpose: 'TREAT' })).status).toBe(404);
  expect((await http('POST', '/patients/1001/notes', DR, { purpose: 'TREAT', body: { text: `Verified identity, SSN ${SSN}` } })).status).toBe(422);
  expect((await http('POST', '/patients/1002/messages', { sub: 'pt-2', roles: ['patient'], patient: '1002' }, { purpose: 'PATRQT', body: { text: `my SSN is ${SSN}` } })).status).toBe(201);
  // Break-glass: refused for a role without it, granted, used, revoked, reviewed.
  expect((await http('POST', '/break-glass', BILLING, { body: emergency })).status).toBe(403);
  const granted = await http('POST', '/break-glass', NURSE, { body: emergency });
  expect(granted.status).toBe(201);
  const grantId = granted.body!.grantId as string;
  expect((await http('GET', '/patients/1002/results', NURSE, { grant: grantId })).status).toBe(200);
  expect((await http('DELETE', `/break-glass/${grantId}`, NURSE)).status).toBe(204);
  expect((await http('POST', `/break-glass/${grantId}/review`, AUDITOR, { body: { decision: 'appropriate' } })).status).toBe(204);
}

const collected: { app: string; event: AuditEvent }[] = [];
const servers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  // Express: the common flows plus exports, disclosures accounting, research extract, pickup links.
  const expressLog = memoryLog();
  const served: Served = await serve(createExpressApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: expressLog.logger }));
  servers.push(served);
  const ex = client(() => served.base);
  await commonFlows(ex);
  expect((await ex('GET', '/patients/1002/results.csv', DR, { purpose: 'TREAT' })).status).toBe(200);
  // A search of the trail, with a parameter the route does not declare (a name, as a client might send).
  expect((await ex('GET', `/patients/1002/disclosures?from=2020-01-01&to=2030-12-31&${QUERY_VALUE}=${QUERY_VALUE}`, AUDITOR, { purpose: 'HOPERAT' })).status).toBe(200);
  expect((await ex('GET', '/research/extract', RESEARCHER, { purpose: 'HRESCH' })).status).toBe(200);
  const issued = await ex('POST', '/patients/1003/result-links', DR, { purpose: 'TREAT' });
  expect(issued.status).toBe(201);
  const token = String(issued.body!.url).split('/').at(-1)!;
  const patient = { sub: 'pt-3', roles: ['patient'], patient: '1003' };
  expect((await ex('GET', `/pickup/${token}`, patient, { purpose: 'PATRQT' })).status).toBe(200);
  expect((await ex('GET', `/pickup/${token}`, patient, { purpose: 'PATRQT' })).status).toBe(410);
  for (const event of expressLog.auditEvents()) collected.push({ app: 'express', event });

  // NestJS: the common flows plus releases of information (intake, review, export).
  const nestLog = memoryLog();
  const nest: INestApplication = await createNestApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: nestLog.logger });
  await nest.listen(0, '127.0.0.1');
  servers.push({ close: () => nest.close() });
  const nestBase = `http://127.0.0.1:${(nest.getHttpServer().address() as AddressInfo).port}`;
  const ne = client(() => nestBase);
  await commonFlows(ne);
  // A population extract (a query without a patient).
  expect((await ne('GET', '/research/extract?format=ndjson', RESEARCHER, { purpose: 'HRESCH' })).status).toBe(200);
  // The desk releases to recipients in the governance registry (the privacy office registers them).
  const OFFICER = { sub: 'po.ade', roles: ['privacy-officer'] };
  for (const [id, type, name] of [['patient-self', 'individual', 'The patient'], ['dr-rivera', 'provider', 'Riverside Clinic']]) {
    expect((await ne('POST', '/governance/recipients', OFFICER, { body: { id, type, name } })).status).toBe(201);
  }
  const intake = await ne('POST', '/roi/requests', DESK, { body: { patientId: '1002', requesterType: 'patient', recipient: 'the patient', recipientId: 'patient-self', purpose: 'personal records', identityVerification: { method: 'photo-id' } } });
  expect(intake.status).toBe(201);
  expect((await ne('GET', `/roi/requests/${intake.body!.id}/export`, DESK)).status).toBe(200);
  const provider = await ne('POST', '/roi/requests', DESK, { body: { patientId: '1003', requesterType: 'provider', recipient: 'Dr. Rivera', recipientId: 'dr-rivera', purpose: 'continuity of care', npi: '1234567893' } });
  expect(provider.status).toBe(201);
  expect((await ne('POST', `/roi/requests/${provider.body!.id}/review`, { sub: 'roi.lee', roles: ['release-of-information'] }, { body: { decision: 'approve' } })).status).toBeLessThan(300);
  await ne('GET', `/roi/requests/${provider.body!.id}/export`, DESK);
  for (const event of nestLog.auditEvents()) collected.push({ app: 'nestjs', event });
}, 120_000);

afterAll(async () => {
  for (const s of servers) await s.close();
});

/** A short name of the kind of event, for the coverage check and for error messages. */
function kind(e: AuditEvent): string {
  const delivery = (e as AuditEvent & { delivery?: { kind: string } }).delivery?.kind;
  if (e.dlp !== undefined) return `dlp-${e.dlp.action}`;
  if (e.action === 'break-glass') return `break-glass-${String(e.reason).split(':')[0]}`;
  if (e.action === 'deny') return `deny-${e.attemptedAction}`;
  if (delivery !== undefined) return `${delivery}-${e.action}`;
  if (e.breakGlass !== undefined) return `${e.action}-under-grant`;
  if (e.query !== undefined) return `query-${e.outcome}`;
  return `${e.action}-${e.outcome}`;
}

describe('audit events of both example apps against FHIR R4 and IHE BALP', () => {
  it('covers every kind of event: reads, denials, creates, deletes, exports, disclosures, break-glass start/stop/review, pickup links, DLP actions', () => {
    for (const app of ['express', 'nestjs']) {
      const kinds = new Set(collected.filter((c) => c.app === app).map((c) => kind(c.event)));
      for (const k of ['read-success', 'deny-read', 'create-success', 'delete-success', 'deny-delete', 'query-success', 'dlp-block', 'dlp-redact', 'break-glass-granted', 'break-glass-revoked', 'break-glass-reviewed', 'deny-break-glass', 'read-under-grant']) {
        expect(kinds, `${app} emits ${k}`).toContain(k);
      }
    }
    const express = new Set(collected.filter((c) => c.app === 'express').map((c) => kind(c.event)));
    for (const k of ['export-export', 'pickup-link-disclose', 'deny-disclose']) expect(express, `express emits ${k}`).toContain(k);
    const nest = collected.filter((c) => c.app === 'nestjs').map((c) => c.event);
    expect(nest.some((e) => e.action === 'disclose' && e.outcome === 'success')).toBe(true);
    expect(nest.some((e) => e.action === 'update')).toBe(true);
  });

  it('every mapped event passes the official FHIR R4 JSON schema', () => {
    const failures = collected.map(({ app, event }) => ({ app, kind: kind(event), errors: fhirSchemaErrors(toFhirAuditEvent(event, { observer: 'lab-api', serverAddress: 'lab.example.org' })) })).filter((f) => f.errors.length > 0);
    expect(failures).toEqual([]);
  });

  it('every mapped event passes the BALP profile and pattern rules, and the successful REST and disclosure events claim their profile', () => {
    const failures = collected.map(({ app, event }) => ({ app, kind: kind(event), errors: balpErrors(toFhirAuditEvent(event, { observer: 'lab-api', serverAddress: 'lab.example.org' })) })).filter((f) => f.errors.length > 0);
    expect(failures).toEqual([]);
    const claimed = new Set(collected.flatMap(({ event }) => toFhirAuditEvent(event).meta?.profile ?? []).map((p) => p.split('IHE.BasicAudit.')[1]));
    for (const p of ['PatientRead', 'PatientCreate', 'PatientDelete', 'PatientQuery', 'Query', 'PrivacyDisclosure.Source']) expect(claimed).toContain(p);
  });

  it('codes each event by what happened: override started and stopped, a review that is no override, denials as authorization decisions, disclosures with both ends and a purpose', () => {
    const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
    const codes = (f: ReturnType<typeof toFhirAuditEvent>) => [f.type.code, ...(f.subtype ?? []).map((c) => c.code)];
    for (const { app, event } of collected) {
      const f = toFhirAuditEvent(event, { observer: 'lab-api', serverAddress: 'lab.example.org' });
      const k = `${app} ${kind(event)}`;
      if (event.action === 'break-glass') {
        const expected = event.reason === 'granted' ? ['110113', '110127'] : event.reason === 'revoked' ? ['110113', '110138'] : ['110101'];
        expect(codes(f), k).toEqual(expected);
        expect(f.type.system, k).toBe(DCM);
      }
      if (event.outcome === 'denied' && event.reason !== 'dlp_blocked') expect(codes(f), k).toEqual(['110113', 'AuthZ-Role']);
      if (event.action === 'disclose' && event.outcome === 'success') {
        expect(codes(f), k).toContain('disclose');
        expect(f.agent.filter((a) => a.type?.coding?.[0]?.code === '110153' && a.who?.display === 'lab-api'), k).toHaveLength(1);
        expect(f.agent.filter((a) => a.type?.coding?.[0]?.code === '110152'), k).toHaveLength(1);
        if (event.purposeOfUse !== null) expect(f.purposeOfEvent?.[0]?.coding?.[0]?.code, k).toBe(event.purposeOfUse);
        const issued = event.reason === 'pickup-link-issued';
        // Issuing a link sends nothing yet: its recipient is not connected, so the profile is not claimed.
        if (event.patient !== undefined) expect(f.meta?.profile, k).toEqual(issued ? undefined : ['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PrivacyDisclosure.Source']);
      }
      if (event.action === 'delete' && event.outcome === 'success') {
        // PatientDelete: the client is an Application (110150), the server the custodian, both on the network.
        expect(f.meta?.profile, k).toEqual(['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientDelete']);
        expect([f.type.code, f.action, f.subtype?.[0]?.code], k).toEqual(['rest', 'D', 'delete']);
        const typed = (code: string) => f.agent.filter((a) => a.type?.coding?.[0]?.code === code);
        expect(typed('110150').map((a) => a.network?.address), k).toEqual(['127.0.0.1']);
        expect(typed('custodian').map((a) => a.network?.address), k).toEqual(['lab.example.org']);
        expect(typed('AUT').map((a) => a.requestor), k).toEqual([true]);
        expect(f.entity?.find((x) => x.role?.code === '1')?.what?.type, k).toBe('Patient');
      }
      for (const a of f.agent) if (a.requestor) expect(a.network, `${k}: the user carries no network`).toBeUndefined();
    }
  });

  it('queries are BALP Query / PatientQuery: search-type, client 110153 and server 110152, entity[query] with the route pattern and declared parameter names only', () => {
    const queries = collected.filter(({ event }) => event.query !== undefined);
    expect(new Set(queries.map(({ app, event }) => `${app} ${event.request?.route}`))).toEqual(new Set(['express /patients/:id/disclosures', 'express /research/extract', 'nestjs /research/extract']));
    for (const { app, event } of queries) {
      const f = toFhirAuditEvent(event, { observer: 'lab-api', serverAddress: 'lab.example.org' });
      const k = `${app} ${event.request?.route}`;
      expect([f.type.code, f.subtype?.[0]?.code, f.action], k).toEqual(['rest', 'search-type', 'E']);
      const typed = (code: string) => f.agent.filter((a) => a.type?.coding?.[0]?.code === code);
      expect(typed('110153').map((a) => a.network?.address), k).toEqual(['127.0.0.1']);
      expect(typed('110152').map((a) => a.who?.display), k).toEqual(['lab-api']);
      const q = f.entity!.filter((x) => x.role?.code === '24');
      expect(q, k).toHaveLength(1);
      expect(Buffer.from(q[0]!.query!, 'base64').toString('utf8'), k).toBe(q[0]!.description);
      const patient = event.patient !== undefined;
      expect(f.meta?.profile, k).toEqual([`https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.${patient ? 'PatientQuery' : 'Query'}`]);
    }
    const search = queries.find(({ event }) => event.request?.route === '/patients/:id/disclosures')!.event;
    // The route's patient (keyed), the declared names used, the undeclared one only counted.
    expect(search.patient?.ref).toMatch(/^pt_/);
    expect(search.query).toEqual({ params: ['from', 'to'], other: 1 });
    // Nest hands the query string over too: the extract declares no names, so `format` is counted.
    expect(queries.find(({ app }) => app === 'nestjs')!.event.query).toEqual({ params: [], other: 1 });
    expect(toFhirAuditEvent(search).entity!.find((x) => x.role?.code === '24')!.description).toBe('GET /patients/:id/disclosures?from&to&(1 other)');
    for (const { event } of queries) {
      const text = JSON.stringify(toFhirAuditEvent(event));
      for (const value of [QUERY_VALUE, '2020-01-01', '2030-12-31', 'ndjson']) expect(text).not.toContain(value);
    }
  });

  it('a read under a break-glass grant is marked (purpose BTG and the grant entity) and names the grant', () => {
    const underGrant = collected.filter(({ event }) => event.breakGlass !== undefined && event.action !== 'break-glass');
    expect(underGrant.length).toBeGreaterThan(0);
    for (const { event } of underGrant) {
      const f = toFhirAuditEvent(event);
      expect(f.purposeOfEvent?.some((p) => p.coding?.some((c) => c.code === 'BTG'))).toBe(true);
      expect(f.entity?.some((x) => x.what?.identifier?.value === event.breakGlass!.grantId)).toBe(true);
    }
  });

  it('no event, nor its FHIR form, carries a raw patient id or a PHI value sent in a request', () => {
    const rawId = new RegExp(`(?<![\\w-])(?:${PATIENT_IDS.join('|')})(?![\\w-])`);
    for (const { app, event } of collected) {
      for (const text of [JSON.stringify(event), JSON.stringify(toFhirAuditEvent(event))]) {
        expect(rawId.test(text.replace(/"time":"[^"]*"|"recorded":"[^"]*"|"expiresAt":"[^"]*"|"valueString":"[^"]*T[^"]*"/g, '')), `${app} ${kind(event)}: ${text}`).toBe(false);
        expect(text).not.toContain(SSN);
        expect(text).not.toContain(QUERY_VALUE);
      }
    }
  });
});
