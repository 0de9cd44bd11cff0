import { definePolicy } from '@phiguard/core';
import { SENSITIVE_CATEGORIES, policy } from '../../../express-lab-results/src/policy.js';

const results = policy.resources.PatientResults;
const SSN_LAST4 = { op: 'partial', keep: 4, mask: '***-**-' } as const;

/** The request types a release-of-information desk handles, each with its own disclosure rule set. */
export const REQUESTER_TYPES = ['patient', 'provider', 'third-party', 'subpoena'] as const;
export type RequesterType = (typeof REQUESTER_TYPES)[number];

/** The role and purpose of use a release of each type is decided under (by core). */
export const RELEASE_AS: Readonly<Record<RequesterType, { readonly role: string; readonly purpose: 'PATRQT' | 'TREAT' | 'HLEGAL' }>> = {
  // 45 CFR 164.524: the patient's right of access. The patient id is bound into the context, so
  // core's own-record check refuses a release of anyone else's record.
  patient: { role: 'requester:patient', purpose: 'PATRQT' },
  // 164.506(c): disclosure to another provider for treatment.
  provider: { role: 'requester:provider', purpose: 'TREAT' },
  // 164.508: a third party under the patient's signed authorization ("patient requested"): the
  // authorizing patient is bound into the context, so the record must be theirs.
  'third-party': { role: 'requester:third-party', purpose: 'PATRQT' },
  // 164.512(e): judicial and administrative proceedings.
  subpoena: { role: 'requester:subpoena', purpose: 'HLEGAL' },
};

/**
 * The minimum-necessary matrix of releases (45 CFR 164.502(b), 164.514(d)), per request type.
 * Same resource name and field declarations as the API's policy, so the values encrypted at
 * rest decrypt under the same encryption context; only the disclosure rules differ.
 */
export const roiPolicy = definePolicy({
  roles: ['requester:patient', 'requester:provider', 'requester:third-party', 'requester:subpoena'],
  // The same sensitive categories (codes and labels) as the API's. A release carries them only
  // after intake checked that the authorization names them and another desk member approved
  // (service.ts), so each request type's release reveals them; a new request type does not.
  categories: Object.fromEntries(
    Object.entries(SENSITIVE_CATEGORIES).map(([name, c]) => [
      name,
      {
        codes: c.codes,
        tags: c.tags,
        reveal: {
          'requester:patient': ['PATRQT'],
          'requester:third-party': ['PATRQT'],
          'requester:provider': ['TREAT'],
          'requester:subpoena': ['HLEGAL'],
        },
      },
    ]),
  ),
  resources: {
    PatientResults: {
      description: 'A lab-results view released outside the organization (release of information).',
      subject: 'patient.id',
      id: 'id',
      fields: results.fields,
      sensitive: (results.sensitive ?? []).map(({ elements, codes, tags, mask }) => ({ elements, codes, tags, mask })),
      disclose: {
        // Their own record in full; the SSN to its last 4.
        'requester:patient': { PATRQT: { '*': 'send', 'patient.ssn': SSN_LAST4 } },
        // What treatment needs: the clinical record and the identity to match it; no SSN.
        'requester:provider': { TREAT: { '*': 'send', 'patient.ssn': 'redact' } },
        // What an authorization typically covers (insurer, attorney, employer): identity to
        // match, the results and dates; no SSN, contact details, address or free text.
        'requester:third-party': {
          PATRQT: {
            'patient.name': 'send',
            'patient.birthDate': 'send',
            'patient.gender': 'send',
            'patient.mrn': { op: 'partial', keep: 4 },
            '@clinical': 'send',
            'reports[].effectiveDateTime': 'send',
            'reports[].issued': 'send',
            'reports[].observations[].effectiveDateTime': 'send',
            '@free-text': 'redact',
          },
        },
        // What a proceeding needs to match and read the record, narratives included; no SSN or
        // contact details.
        'requester:subpoena': {
          HLEGAL: {
            'patient.name': 'send',
            'patient.birthDate': 'send',
            'patient.gender': 'send',
            'patient.mrn': 'send',
            '@clinical': 'send',
            '@free-text': 'send',
            'reports[].id': 'send',
            'reports[].effectiveDateTime': 'send',
            'reports[].issued': 'send',
            'reports[].observations[].effectiveDateTime': 'send',
          },
        },
      },
    },
  },
});
