import { describe, expect, it } from 'vitest';
import { compilePolicy, definePolicy } from '@phiguard/core';

describe('smoke', () => {
  it('projects', () => {
    const policy = definePolicy({
      roles: ['billing', 'doc'],
      resources: {
        Lab: {
          subject: 'patient.id',
          fields: {
            'patient.id': 'direct-identifier',
            'patient.mrn': 'direct-identifier',
            'patient.name': 'direct-identifier',
            'results[].code': 'clinical',
            'results[].value': 'clinical',
            'meta.*': 'non-phi',
          },
          disclose: {
            billing: { HPAYMT: { 'patient.mrn': { op: 'partial', keep: 4 }, 'results[].code': 'send' } },
            doc: { TREAT: { '*': 'send' } },
          },
        },
      },
    });
    const c = compilePolicy(policy, { secret: 'x'.repeat(32), warn: (m) => console.log(m) });
    const doc = { patient: { id: 1, mrn: 'MRN12344821', name: 'Jo', extra: 1 }, results: [{ code: 'a', value: 3, junk: 1 }], meta: { v: 1 } };
    const r = c.protect(doc, { principal: { id: 'u' }, roles: ['billing'], purposeOfUse: 'HPAYMT' }, 'Lab');
    console.log(JSON.stringify(r));
    const r2 = c.protect(doc, { principal: { id: 'u' }, roles: ['doc', 'billing'], purposeOfUse: 'TREAT' }, 'Lab');
    console.log(JSON.stringify(r2));
    expect(r.value).toBeTruthy();
  });
});
