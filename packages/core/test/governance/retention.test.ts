import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AccessContext, type AuditEvent } from '@phiguard/core';
import {
  createMemoryDisclosureCopyStore,
  createLegalHolds,
  createPurgeJob,
  type PurgeTarget,
} from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { clock } from './fixture.js';

const DAY = 86_400_000;
const officer: AccessContext = { principal: { id: 'po.ade' }, roles: ['privacy-officer'] };
const ref = (id: string | number) => `pt_${id}`;

describe('retention, legal holds and purge (45 CFR 164.530(j))', () => {
  it('removes what is past retention, keeps what is held by patient or case, audits each run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ age: fc.integer({ min: 0, max: 60 }), patient: fc.constantFrom('1', '2', '3'), case: fc.constantFrom('case-a', 'case-b', null) }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 50 }),
        fc.subarray(['1', '2', '3']),
        fc.subarray(['case-a', 'case-b']),
        fc.integer({ min: 1, max: 7 }),
        async (rows, retentionDays, heldPatients, heldCases, batch) => {
          const now = clock();
          const events: AuditEvent[] = [];
          const audit = { write: (e: AuditEvent) => void events.push(e) };
          const records = new Map(rows.map((r, i) => [`c${i}`, { id: `c${i}`, patientRef: ref(r.patient), caseRefs: r.case === null ? [] : [r.case], createdAt: now() - r.age * DAY - 1 }]));
          const target: PurgeTarget = {
            name: 'test-records',
            async candidates(before, limit) {
              return [...records.values()].filter((r) => r.createdAt < before).sort((a, b) => a.createdAt - b.createdAt).slice(0, limit);
            },
            async remove(ids) {
              return ids.filter((id) => records.delete(id)).length;
            },
          };
          const holds = createLegalHolds({ store: createMemoryStateStore(), audit, patientRef: ref, roles: ['privacy-officer'], clock: { now } });
          for (const p of heldPatients) await holds.place(officer, { id: `hold-p${p}`, patientId: p });
          for (const c of heldCases) await holds.place(officer, { id: `hold-${c}`, caseRef: c });
          const job = createPurgeJob({ rules: [{ target, retentionDays }], holds, audit, clock: { now }, batch });
          const [report] = await job.run(officer);
          const expired = (r: (typeof rows)[number]) => r.age * DAY + 1 > retentionDays * DAY;
          const held = (r: (typeof rows)[number]) => heldPatients.includes(r.patient) || (r.case !== null && heldCases.includes(r.case));
          const expectedKept = rows.map((r, i) => [r, `c${i}`] as const).filter(([r]) => !expired(r) || held(r)).map(([, id]) => id).sort();
          expect([...records.keys()].sort()).toEqual(expectedKept);
          expect(report).toMatchObject({ target: 'test-records', purged: rows.filter((r) => expired(r) && !held(r)).length, held: rows.filter((r) => expired(r) && held(r)).length });
          expect(events.at(-1)).toMatchObject({ action: 'delete', reason: 'retention:purge', resource: { type: 'retention', id: 'test-records' }, actor: { id: 'po.ade' } });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('holds: placed and released by holder roles only, audited; a released hold no longer protects', async () => {
    const now = clock();
    const events: AuditEvent[] = [];
    const audit = { write: (e: AuditEvent) => void events.push(e) };
    const holds = createLegalHolds({ store: createMemoryStateStore(), audit, patientRef: ref, roles: ['privacy-officer'], clock: { now } });
    await expect(holds.place({ principal: { id: 'x' }, roles: ['billing'] }, { id: 'h1', patientId: '1' })).rejects.toMatchObject({ status: 403 });
    await expect(holds.place(officer, { id: 'h1' })).rejects.toThrow(/patientId or a caseRef/);
    await holds.place(officer, { id: 'h1', patientId: '1' });
    expect(events.at(-1)).toMatchObject({ action: 'create', reason: 'legal-hold:place', patient: { ref: 'pt_1' } });
    const copies = createMemoryDisclosureCopyStore();
    await copies.put({ id: 'd1', patientRef: 'pt_1', createdAt: now() - 400 * DAY, ciphertext: 'x' });
    const job = createPurgeJob({ rules: [{ target: copies, retentionDays: 365 }], holds, audit, clock: { now } });
    expect((await job.run(officer))[0]).toMatchObject({ purged: 0, held: 1 });
    await holds.release(officer, 'h1');
    expect(events.at(-1)).toMatchObject({ action: 'delete', reason: 'legal-hold:release' });
    expect((await job.run(officer))[0]).toMatchObject({ purged: 1, held: 0 });
    expect(await copies.get('d1')).toBeNull();
  });

  it('validates its rules', () => {
    const audit = { write: () => undefined };
    const copies = createMemoryDisclosureCopyStore();
    expect(() => createPurgeJob({ rules: [], audit })).toThrow(/rules/);
    expect(() => createPurgeJob({ rules: [{ target: copies, retentionDays: 0 }], audit })).toThrow(/retentionDays/);
    expect(() => createPurgeJob({ rules: [{ target: copies, retentionDays: 1 }, { target: copies, retentionDays: 2 }], audit })).toThrow(/twice/);
    expect(() => createPurgeJob({ rules: [{ target: copies, retentionDays: 1 }], audit, bach: 1 } as never)).toThrow(/did you mean "batch"/);
  });
});
