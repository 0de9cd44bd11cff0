import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  OptionsError,
  StateUnavailableError,
  createPhiGuard,
  createFieldCipher,
  type AuditEvent,
} from '@phiguard/core';
import {
  createMemoryDisclosureCopyStore,
  authorizationProblems,
  createChannelExceptions,
  createDisclosures,
} from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { TestKeyring } from '../crypto/test-keyring.js';
import { REPORTS, SECRET, asThirdParty, chart, clock, desk, policy, setup, type Report } from './fixture.js';

const officer = desk('po.ade', ['privacy-officer']);
const DAY = 86_400_000;
const sha256 = (s: string) => `sha256:${createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex')}`;

async function withRecipients(s: ReturnType<typeof setup>) {
  await s.recipients.register(officer, { id: 'acme-life', type: 'insurer', name: 'Acme Life Insurance', address: '1 Main St' });
  await s.recipients.register(officer, { id: 'state-dph', type: 'public-health-authority', name: 'State Department of Public Health' });
  await s.recipients.register(officer, {
    id: 'claims-co',
    type: 'business-associate',
    name: 'Claims Co',
    agreement: { status: 'active', signedAt: '2024-01-01T00:00:00Z', expiresAt: '2026-01-01T00:00:00Z' },
  });
}
const authorization = (over: Record<string, unknown> = {}) => ({
  id: `auth-${Math.random().toString(36).slice(2)}`,
  patientId: '1004',
  recipientId: 'acme-life',
  purpose: 'Life insurance underwriting',
  scope: { recordTypes: ['lab'], from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' },
  expiresAt: '2026-04-01T00:00:00Z',
  signedAt: '2025-03-30T00:00:00Z',
  ...over,
});
const denials = (events: AuditEvent[]) => events.filter((e) => e.outcome === 'denied');

describe('disclosure records (45 CFR 164.528(b)(2))', () => {
  it('carry the recipient, purpose, basis, authorization, delivery method and the digest of exactly the bytes sent; no PHI values', async () => {
    const s = setup();
    await withRecipients(s);
    const auth = await s.authorizations.record(desk(), authorization());
    const out = await s.disclosures.disclose(asThirdParty('1004'), {
      resource: 'Chart',
      value: chart('1004', REPORTS),
      patientId: '1004',
      recipientId: 'acme-life',
      purpose: 'Life insurance underwriting',
      basis: 'authorization',
      authorizationId: auth.id,
      deliveryMethod: 'secure-email',
    });
    const event = s.events.at(-1)!;
    expect(event).toBe(out.event);
    expect(event).toMatchObject({
      action: 'disclose',
      outcome: 'success',
      patient: { ref: s.guard.policy.patientRef('1004') },
      resource: { type: 'Chart', id: 'chart-1004' },
      disclosure: {
        recipient: { type: 'insurer', id: 'acme-life', nameRef: expect.stringMatching(/^rn_[0-9a-f]{32}$/) },
        purpose: 'Life insurance underwriting',
        basis: 'authorization',
        authorizationRef: auth.id,
        deliveryMethod: 'secure-email',
        description: { recordTypes: ['lab'], records: 1, from: '2025-01-21T10:05:00.000Z', to: '2025-01-21T10:05:00.000Z' },
      },
    });
    // The digest is of the body returned, byte for byte.
    expect(event.disclosure!.digest).toBe(sha256(out.body));
    expect(event.disclosure!.bytes).toBe(Buffer.byteLength(out.body));
    const text = JSON.stringify(event);
    for (const value of ['Quinton', 'Zabriskie', '512-44-9081', '"1004"', 'Acme Life', 'hba1c']) expect(text).not.toContain(value);
  });

  it('keeps an encrypted copy whose plaintext is the digested body', async () => {
    const keyring = new TestKeyring();
    const cipher = createFieldCipher({ keyring });
    const copies = createMemoryDisclosureCopyStore();
    const s = setup();
    await withRecipients(s);
    const disclosures = createDisclosures({ guard: s.guard, recipients: s.recipients, copies, cipher, clock: { now: s.now } });
    const out = await disclosures.disclose({ principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' }, {
      resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'state-dph', purpose: 'Notifiable disease report', basis: 'public-health', deliveryMethod: 'sftp', keepCopy: true,
    });
    const copy = await copies.get(out.event.disclosure!.copyRef!);
    expect(copy).not.toBeNull();
    expect(copy!.ciphertext).not.toContain('Quinton');
    const plain = await cipher.decrypt(copy!.ciphertext, { tenant: 'phiguard', purpose: 'disclosure-copy', id: out.disclosureId });
    expect(sha256(plain)).toBe(out.event.disclosure!.digest);
  });

  it('refuses a purpose statement that holds an identifier, and requests missing an element', async () => {
    const s = setup();
    await withRecipients(s);
    const base = { resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'state-dph', basis: 'public-health', deliveryMethod: 'sftp' } as const;
    const ctx = { principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' };
    await expect(s.disclosures.disclose(ctx, { ...base, purpose: 'Report for patient SSN 512-44-9081' })).rejects.toThrow(/identifier/);
    await expect(s.disclosures.disclose(ctx, { ...base, purpose: '' })).rejects.toThrow(OptionsError);
    await expect(s.disclosures.disclose(ctx, { ...base, purpose: 'ok', basis: 'gossip' as never })).rejects.toThrow(/basis must be one of/);
    await expect(s.disclosures.disclose(ctx, { ...base, purpose: 'ok', deliveryMethod: 'pigeon' as never })).rejects.toThrow(/deliveryMethod/);
    await expect(s.disclosures.disclose(ctx, { ...base, purpose: 'ok', recipent: 'x' } as never)).rejects.toThrow(/did you mean "recipientId"/);
    // The patient named must be the record's: the accounting and the authorization are theirs.
    await expect(s.disclosures.disclose(ctx, { ...base, purpose: 'ok', patientId: '1003' })).rejects.toThrow(/subject/);
    expect(s.events.filter((e) => e.action === 'disclose')).toHaveLength(0);
  });
});

describe('business associates (45 CFR 164.502(e), 164.504(e))', () => {
  const send = (s: ReturnType<typeof setup>) =>
    s.disclosures.disclose({ principal: { id: 'bill-1' }, roles: ['billing'], purposeOfUse: 'HPAYMT' }, {
      resource: 'Chart', value: chart('1001', REPORTS), patientId: '1001', recipientId: 'claims-co', purpose: 'Claims processing', basis: 'payment', deliveryMethod: 'api',
    });

  it('a recipient needing an agreement is refused without a current one (403 with the reason, audited), served with one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('active', 'terminated', 'none'),
        fc.integer({ min: -400, max: 400 }),
        fc.integer({ min: -400, max: 400 }),
        async (status, signedDays, expiresDays) => {
          const s = setup();
          const now = s.now();
          await s.recipients.register(officer, {
            id: 'claims-co', type: 'business-associate', name: 'Claims Co',
            ...(status === 'none' ? {} : { agreement: { status: status as 'active', signedAt: new Date(now + signedDays * DAY).toISOString(), expiresAt: new Date(now + expiresDays * DAY).toISOString() } }),
          });
          // The expected verdict, by the rule rather than by the code's branches.
          const expected = status !== 'active' || signedDays > 0 ? 'agreement_missing' : expiresDays <= 0 ? 'agreement_expired' : 'ok';
          const got = await send(s).then(() => 'ok', (e: AccessDeniedError) => e.reason);
          expect(got).toBe(expected);
          if (expected !== 'ok') expect(denials(s.events).at(-1)).toMatchObject({ action: 'deny', attemptedAction: 'disclose', reason: expected, patient: { ref: s.guard.policy.patientRef('1001') } });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an unknown recipient is refused (recipient_unknown); only managers register; registration is audited', async () => {
    const s = setup();
    await expect(send(s)).rejects.toMatchObject({ status: 403, reason: 'recipient_unknown' });
    await expect(s.recipients.register(desk(), { id: 'claims-co', type: 'business-associate', name: 'Claims Co' })).rejects.toMatchObject({ status: 403 });
    expect(denials(s.events).at(-1)).toMatchObject({ attemptedAction: 'update', resource: { type: 'Recipient' } });
    await s.recipients.register(officer, { id: 'claims-co', type: 'business-associate', name: 'Claims Co', agreement: { status: 'active', signedAt: '2024-01-01T00:00:00Z' } });
    expect(s.events.at(-1)).toMatchObject({ action: 'update', resource: { type: 'Recipient', id: 'claims-co' }, reason: 'recipient:agreement-active', actor: { id: 'po.ade' } });
    await expect(send(s)).resolves.toBeDefined();
    expect(await s.recipients.nameOf(s.events.at(-1)!.disclosure!.recipient.nameRef)).toEqual({ name: 'Claims Co' });
  });
});

describe('authorizations (45 CFR 164.508)', () => {
  const release = (s: ReturnType<typeof setup>, id: string, extra: Record<string, unknown> = {}, reports: Report[] = REPORTS) =>
    s.disclosures.disclose(asThirdParty('1004'), {
      resource: 'Chart', value: chart('1004', reports), patientId: '1004', recipientId: 'acme-life', purpose: 'Life insurance underwriting', basis: 'authorization', authorizationId: id, deliveryMethod: 'mail', ...extra,
    });

  it('intake is audited, needs the core elements, and is for intake roles only', async () => {
    const s = setup();
    const a = await s.authorizations.record(desk(), authorization({ id: 'auth-1' }));
    expect(a.patientRef).toBe(s.guard.policy.patientRef('1004'));
    expect(JSON.stringify(a)).not.toContain('"1004"');
    expect(s.events.at(-1)).toMatchObject({ action: 'create', resource: { type: 'Authorization', id: 'auth-1' }, reason: 'authorization:intake', actor: { id: 'roi.kim' } });
    // Governance events are timed by the injected clock, like the disclosures they govern.
    expect(s.events.at(-1)!.time).toBe(new Date(s.now()).toISOString());
    // A personal representative signs with their authority on file (164.502(g)).
    await expect(s.authorizations.record(desk(), authorization({ signer: 'personal-representative' }))).rejects.toThrow(/authorityRef/);
    const pr = await s.authorizations.record(desk(), authorization({ signer: 'personal-representative', authorityRef: 'poa-doc-88' }));
    expect(pr).toMatchObject({ signer: 'personal-representative', authorityRef: 'poa-doc-88' });
    await expect(s.authorizations.record(desk(), authorization({ id: 'auth-1' }))).rejects.toThrow(/already on file/);
    await expect(s.authorizations.record(desk('b', ['billing']), authorization())).rejects.toMatchObject({ status: 403 });
    const missing = authorization({ purpose: '', expiresAt: undefined, scope: { from: '2025-02-01', to: '2025-01-01' }, signedAt: '2099-01-01' });
    await expect(s.authorizations.record(desk(), missing)).rejects.toThrow(/purpose is required.*signedAt is in the future.*expiresAt or expirationEvent.*scope.from must be before scope.to/);
  });

  it('a request outside the scope is refused (out_of_scope), audited, nothing released', async () => {
    const s = setup();
    await withRecipients(s);
    const a = await s.authorizations.record(desk(), authorization());
    await expect(release(s, a.id, { asked: { recordTypes: ['lab'], from: '2025-03-01T00:00:00Z', to: '2025-04-01T00:00:00Z' } })).rejects.toMatchObject({ status: 403, reason: 'out_of_scope' });
    await expect(release(s, a.id, { asked: { recordTypes: ['imaging'], from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' } })).rejects.toMatchObject({ reason: 'out_of_scope' });
    // No record in scope at all: nothing to release.
    await expect(release(s, a.id, {}, REPORTS.filter((r) => r.id !== 'r-jan'))).rejects.toMatchObject({ reason: 'out_of_scope' });
    expect(s.events.filter((e) => e.action === 'disclose')).toHaveLength(0);
    expect(denials(s.events).map((e) => e.reason)).toEqual(['out_of_scope', 'out_of_scope', 'out_of_scope']);
  });

  it('records outside the scope are never released (property over dates, types and ranges)', async () => {
    const day = fc.integer({ min: 0, max: 400 }).map((d) => new Date(Date.parse('2024-06-01T00:00:00Z') + d * DAY).toISOString());
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ type: fc.constantFrom('lab', 'imaging', 'note'), date: day, value: fc.string() }), { minLength: 1, maxLength: 8 }),
        fc.subarray(['lab', 'imaging', 'note'], { minLength: 1 }),
        day,
        fc.integer({ min: 1, max: 200 }),
        async (raw, types, from, span) => {
          const reports = raw.map((r, i) => ({ ...r, id: `r${i}` }));
          const to = new Date(Date.parse(from) + span * DAY).toISOString();
          const s = setup();
          await withRecipients(s);
          const a = await s.authorizations.record(desk(), authorization({ scope: { recordTypes: types, from, to } }));
          const expected = reports.filter((r) => types.includes(r.type) && r.date >= from && r.date < to).map((r) => r.id);
          const got = await release(s, a.id, {}, reports).then(
            (out) => (out.value as { reports: { id: string }[] }).reports.map((r) => r.id),
            (e: AccessDeniedError) => e.reason,
          );
          expect(got).toEqual(expected.length === 0 ? 'out_of_scope' : expected);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('an unlimited scope releases a record without reports; a limited one refuses it', async () => {
    const s = setup();
    await withRecipients(s);
    const all = await s.authorizations.record(desk(), authorization({ scope: {} }));
    const out = await release(s, all.id, {}, []);
    expect(out.event.disclosure!.description).toEqual({ recordTypes: [], records: 0 });
    const limited = await s.authorizations.record(desk(), authorization());
    await expect(release(s, limited.id, {}, [])).rejects.toMatchObject({ reason: 'out_of_scope' });
  });

  it('a revocation stops the next release, is audited, and only revoker roles may record one', async () => {
    const s = setup();
    await withRecipients(s);
    const a = await s.authorizations.record(desk(), authorization());
    await expect(release(s, a.id)).resolves.toBeDefined();
    await expect(s.authorizations.revoke(desk(), a.id)).rejects.toMatchObject({ status: 403 });
    expect(denials(s.events).at(-1)).toMatchObject({ attemptedAction: 'update', resource: { type: 'Authorization', id: a.id } });
    await s.authorizations.revoke(officer, a.id);
    expect(s.events.at(-1)).toMatchObject({ action: 'update', reason: 'authorization:revoke', resource: { id: a.id }, actor: { id: 'po.ade' } });
    await expect(release(s, a.id)).rejects.toMatchObject({ reason: 'authorization_revoked' });
  });

  it('expired, another patient’s, another recipient’s, missing: each refused with its reason', async () => {
    const s = setup();
    await withRecipients(s);
    const a = await s.authorizations.record(desk(), authorization());
    await expect(release(s, 'auth-none')).rejects.toMatchObject({ reason: 'authorization_invalid' });
    await expect(release(s, a.id, { authorizationId: undefined })).rejects.toMatchObject({ reason: 'authorization_required' });
    await expect(release(s, a.id, { recipientId: 'state-dph' })).rejects.toMatchObject({ reason: 'authorization_invalid' });
    await expect(s.disclosures.disclose(asThirdParty('1002'), { resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'acme-life', purpose: 'Underwriting', basis: 'authorization', authorizationId: a.id, deliveryMethod: 'mail' })).rejects.toMatchObject({ reason: 'authorization_invalid' });
    s.now.set(Date.parse('2026-04-01T00:00:00Z'));
    await expect(release(s, a.id)).rejects.toMatchObject({ reason: 'authorization_expired' });
  });
});

describe('channel exceptions (45 CFR 164.524(c)(2))', () => {
  it('an unsecured delivery needs the patient’s confirmed request on file, and is referenced in the record', async () => {
    const s = setup();
    await withRecipients(s);
    await s.recipients.register(officer, { id: 'patient-1002', type: 'individual', name: 'the patient' });
    const channels = createChannelExceptions({ store: s.store, audit: s.guard, patientRef: (id) => s.guard.policy.patientRef(id), clock: { now: s.now } });
    const disclosures = createDisclosures({ guard: s.guard, recipients: s.recipients, channelExceptions: channels, clock: { now: s.now } });
    const ctx = { principal: { id: 'po.ade' }, roles: ['requester:provider'], purposeOfUse: 'TREAT' };
    const req = { resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'patient-1002', purpose: 'Copy requested by the patient', basis: 'individual', deliveryMethod: 'unsecured-email' } as const;
    await expect(disclosures.disclose(ctx, req)).rejects.toMatchObject({ status: 403, reason: 'channel_exception_required' });
    const notice = 'Unencrypted e-mail can be read or changed by others on its way to you.';
    await expect(channels.record(desk(), { id: 'ce-1', patientId: '1002', method: 'unsecured-email', notice, confirmed: false })).rejects.toThrow(/confirm/);
    await channels.record(desk(), { id: 'ce-1', patientId: '1002', method: 'unsecured-email', notice, confirmed: true });
    expect(s.events.at(-1)).toMatchObject({ action: 'create', reason: 'channel-exception:unsecured-email', resource: { id: 'ce-1' } });
    await expect(disclosures.disclose(ctx, { ...req, channelExceptionRef: 'ce-1', patientId: '1001', value: chart('1001', REPORTS) })).rejects.toMatchObject({ status: 403, reason: 'channel_exception_required' });
    await expect(disclosures.disclose(ctx, { ...req, channelExceptionRef: 'ce-1', deliveryMethod: 'unsecured-sms' })).rejects.toMatchObject({ reason: 'channel_exception_required' });
    const out = await disclosures.disclose(ctx, { ...req, channelExceptionRef: 'ce-1' });
    expect(out.event.disclosure).toMatchObject({ deliveryMethod: 'unsecured-email', channelExceptionRef: 'ce-1', basis: 'individual' });
  });
});

describe('options', () => {
  it('are validated at creation', () => {
    const s = setup();
    expect(() => createDisclosures({ guard: s.guard, recipients: s.recipients, recipiets: 1 } as never)).toThrow(/did you mean/);
    expect(() => createDisclosures({ guard: s.guard, recipients: s.recipients, copies: createMemoryDisclosureCopyStore() })).toThrow(/go together/);
    expect(() => createDisclosures({ guard: s.guard, recipients: s.recipients, records: { Nope: { collection: 'x', typeOf: String, dateOf: String } } })).toThrow(/unknown resource|must be a resource/);
    expect(() => setup({ store: {} as never })).toThrow(/StateStore/);
    expect(() => createDisclosures({ guard: s.guard, recipients: s.recipients, clock: (() => 1) as never })).toThrow(/clock.*must be a Clock/);
    expect(() => createDisclosures({ guard: s.guard, recipients: s.recipients, now: () => 1 } as never)).toThrow(/unknown createDisclosures option "now"/);
    expect(SECRET.length).toBeGreaterThanOrEqual(32);
    expect(createMemoryStateStore()).toBeDefined();
    expect(clock()()).toBe(Date.parse('2025-04-01T12:00:00Z'));
  });
});

describe('faults and bad input', () => {
  it('any malformed request is refused with a phiguard error, never a crash, and nothing is disclosed', async () => {
    const s = setup();
    await withRecipients(s);
    const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), fc.integer(), fc.object(), fc.array(fc.string()), fc.constant('__proto__'));
    await fc.assert(
      fc.asyncProperty(
        fc.record({ resource: fc.oneof(junk, fc.constant('Chart')), value: fc.oneof(junk, fc.constant(chart('1002', REPORTS))), patientId: fc.oneof(junk, fc.constant('1002')), recipientId: fc.oneof(junk, fc.constant('state-dph')), purpose: fc.oneof(junk, fc.constant('Notifiable disease report')), basis: fc.oneof(junk, fc.constant('public-health')), deliveryMethod: fc.oneof(junk, fc.constant('sftp')), authorizationId: fc.oneof(fc.constant(undefined), junk), asked: fc.oneof(fc.constant(undefined), junk), keepCopy: junk, serialize: junk, channelExceptionRef: junk, action: junk }, { requiredKeys: ['resource', 'value', 'patientId', 'recipientId', 'purpose', 'basis', 'deliveryMethod'] }),
        async (request) => {
          const before = s.events.filter((e) => e.outcome === 'success' && e.action === 'disclose').length;
          const ctx = { principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' };
          const r = await s.disclosures.disclose(ctx, request as never).then(
            (out) => out,
            (err: unknown) => err,
          );
          if (r instanceof Error) {
            expect((r as { code?: string }).code, String(r)).toMatch(/^(options_invalid|access_denied|policy_invalid)$/);
            expect(s.events.filter((e) => e.outcome === 'success' && e.action === 'disclose').length).toBe(before);
          } else {
            expect((r as { event: AuditEvent }).event.disclosure!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
            expect((r as { event: AuditEvent }).event.patient).toEqual({ ref: s.guard.policy.patientRef('1002') });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('authorization problems are reported for any input, never thrown', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(Array.isArray(authorizationProblems(input as never, Date.now()))).toBe(true);
      }),
    );
  });

  it('a store that cannot answer fails the disclosure closed; so does an audit sink that fails, and no body is returned', async () => {
    const store = createMemoryStateStore();
    const s = setup({ store });
    await withRecipients(s);
    const ctx = { principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' };
    const req = { resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'state-dph', purpose: 'Notifiable disease report', basis: 'public-health', deliveryMethod: 'sftp' } as const;
    const get = store.get.bind(store);
    store.get = async () => {
      throw new StateUnavailableError();
    };
    await expect(s.disclosures.disclose(ctx, req)).rejects.toMatchObject({ status: 503, code: 'state_unavailable' });
    store.get = get;
    const failing = createPhiGuard({ policy, secret: SECRET, audit: { write: () => Promise.reject(new Error('disk full')) } });
    const disclosures = createDisclosures({ guard: failing, recipients: s.recipients });
    await expect(disclosures.disclose(ctx, req)).rejects.toMatchObject({ status: 503, code: 'audit_unavailable' });
  });
});
