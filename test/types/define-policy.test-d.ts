/**
 * Compile-time checks of `definePolicy`, type-checked by `npm run lint` (test/tsconfig.json):
 * each `@ts-expect-error` fails the lint if its line stops being an error. The generated
 * matrix in define-policy.test.ts covers every place a name appears; these are the readable
 * examples.
 */
import { definePolicy } from '@phiguard/core';

const fields = { 'patient.name': 'direct-identifier', 'tests[].value': 'clinical', note: 'free-text' } as const;

// The valid policy compiles.
export const valid = definePolicy({
  roles: ['nurse', 'billing'],
  resources: { Results: { fields, disclose: { nurse: { TREAT: { 'patient.name': 'send', '@clinical': { op: 'partial', keep: 2 } } } } } },
});

export const misspelledRole = definePolicy({
  roles: ['nurse', 'billing'],
  // @ts-expect-error `nurze` is not a declared role
  resources: { Results: { fields, disclose: { nurze: { TREAT: { 'patient.name': 'send' } } } } },
});

export const misspelledPurpose = definePolicy({
  roles: ['nurse'],
  // @ts-expect-error `TRAET` is not an HL7 PurposeOfUse code
  resources: { Results: { fields, disclose: { nurse: { TRAET: { 'patient.name': 'send' } } } } },
});

export const misspelledPath = definePolicy({
  roles: ['nurse'],
  // @ts-expect-error `patient.nmae` is not a declared field path
  resources: { Results: { fields, disclose: { nurse: { TREAT: { 'patient.nmae': 'send' } } } } },
});

export const misspelledClass = definePolicy({
  roles: ['nurse'],
  resources: {
    Results: {
      // @ts-expect-error `clinicl` is not a field class
      fields: { 'tests[].value': 'clinicl' },
      disclose: { nurse: { TREAT: { 'tests[].value': 'send' } } },
    },
  },
});

export const misspelledClassSelector = definePolicy({
  roles: ['nurse'],
  // @ts-expect-error `@clinicl` is not a class selector
  resources: { Results: { fields, disclose: { nurse: { TREAT: { '@clinicl': 'send' } } } } },
});

export const misspelledOperator = definePolicy({
  roles: ['nurse'],
  // @ts-expect-error `sned` is not an operator
  resources: { Results: { fields, disclose: { nurse: { TREAT: { 'patient.name': 'sned' } } } } },
});

export const misspelledOperatorObject = definePolicy({
  roles: ['nurse'],
  // @ts-expect-error `partail` is not an operator
  resources: { Results: { fields, disclose: { nurse: { TREAT: { 'patient.name': { op: 'partail', keep: 4 } } } } } },
});

export const misspelledSeparation = definePolicy({
  // @ts-expect-error `biling` is not a declared role
  roles: ['nurse', 'billing'], separationOfDuties: [['nurse', 'biling']],
  resources: { Results: { fields, disclose: { nurse: { TREAT: { 'patient.name': 'send' } } } } },
});
