import { definePolicy, type AccessContext } from '@phiguard/core';

export const SECRET = 'access-test-secret-0123456789abcdef!!';

/** Lab results with an HIV viral load tagged by LOINC code and security label. */
export const policy = definePolicy({
  roles: ['doctor', 'nurse', 'designer', 'approver', 'privacy-officer'],
  separationOfDuties: [['designer', 'approver']],
  breakGlass: { roles: ['nurse', 'doctor'], reviewers: ['privacy-officer'], maxMinutes: 60, minJustification: 20 },
  stepUp: { maxAgeSeconds: 600 },
  resources: {
    Results: {
      routes: ['GET /patients/:id/results'],
      subject: 'patientId',
      subjectParam: 'id',
      id: 'id',
      fields: {
        id: 'non-phi',
        patientId: 'direct-identifier',
        name: 'direct-identifier',
        'observations[].code': 'clinical',
        'observations[].tags[]': 'clinical',
        'observations[].value': 'clinical',
        'observations[].note': 'free-text',
      },
      relationship: { nurse: { TREAT: 'care-team' } },
      sensitive: [
        {
          elements: 'observations[]',
          codes: 'code',
          tags: 'tags[]',
          mask: ['value', 'note'],
          categories: {
            HIV: { codes: ['20447-9'], tags: ['HIV'], reveal: { doctor: ['TREAT', 'ETREAT'] }, stepUp: true },
            genetic: { tags: ['GDIS'], reveal: { doctor: ['TREAT'] } },
          },
        },
      ],
      disclose: {
        doctor: { TREAT: { '*': 'send' }, ETREAT: { '*': 'send' } },
        nurse: { TREAT: { '*': 'send' }, ETREAT: { '*': 'send' } },
        designer: { HOPERAT: { id: 'send' } },
        approver: { HOPERAT: { id: 'send' } },
        'privacy-officer': { HOPERAT: { id: 'send' } },
      },
    },
  },
});

export const RECORD = {
  id: 'r-1',
  patientId: '1001',
  name: 'Pat Example',
  observations: [
    { code: '2345-7', tags: [], value: 105, note: 'fasting' },
    { code: '20447-9', tags: ['HIV'], value: 'not detected', note: 'on ART' },
    { code: '21636-6', tags: ['GDIS'], value: 'variant found', note: 'refer to genetics' },
  ],
};

export function who(id: string, roles: string[], purpose: string | null, extra: Partial<AccessContext> = {}): AccessContext {
  return { principal: { id }, roles, purposeOfUse: purpose, ...extra };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
