'use strict';
// The compat apps' policy: a FHIR Patient, a searchset Bundle of Patients and a paginated list
// of ORM rows. Routes use Express path syntax; the Nest app claims the same resources with
// @PhiResource.
const { definePolicy } = require('@phiguard/core');

const patientFields = {
  resourceType: 'non-phi',
  id: 'direct-identifier',
  'identifier[].system': 'non-phi',
  'identifier[].value': 'direct-identifier',
  name: 'direct-identifier',
  telecom: 'direct-identifier',
  gender: 'quasi-identifier',
  birthDate: 'quasi-identifier',
  'address[].city': 'quasi-identifier',
  'address[].postalCode': 'quasi-identifier',
};
const patientRules = {
  clinician: { TREAT: { '*': 'send' } },
  billing: { HPAYMT: { id: 'send', 'identifier[].value': { op: 'partial', keep: 4 }, name: 'initials' } },
  researcher: { HRESCH: { id: 'token', gender: 'send', birthDate: 'year', 'address[].postalCode': 'zip3' } },
};
const under = (prefix, record) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k.startsWith('@') || k === '*' ? k : prefix + k, v]));

exports.policy = definePolicy({
  roles: ['clinician', 'billing', 'researcher'],
  resources: {
    Patient: {
      routes: ['GET /fhir/Patient/:id'],
      subject: 'id',
      subjectParam: 'id',
      id: 'id',
      fields: patientFields,
      disclose: patientRules,
    },
    PatientBundle: {
      routes: ['GET /fhir/Patient'],
      fields: {
        resourceType: 'non-phi',
        type: 'non-phi',
        total: 'non-phi',
        'link[].relation': 'non-phi',
        // A self link repeats the search, and a search may name an identifier.
        'link[].url': 'free-text',
        'entry[].fullUrl': 'direct-identifier',
        'entry[].search.mode': 'non-phi',
        ...under('entry[].resource.', patientFields),
      },
      disclose: Object.fromEntries(
        Object.entries(patientRules).map(([role, byPurpose]) => [
          role,
          Object.fromEntries(
            Object.entries(byPurpose).map(([purpose, rules]) => [
              purpose,
              {
                ...under('entry[].resource.', rules),
                'link[].url': { op: 'scrub', types: ['SSN', 'PHONE', 'MRN'] },
                ...(role === 'researcher' ? {} : { 'entry[].fullUrl': 'send' }),
              },
            ]),
          ),
        ]),
      ),
    },
    PatientPage: {
      routes: ['GET /patients'],
      fields: {
        page: 'non-phi',
        pageSize: 'non-phi',
        total: 'non-phi',
        'items[].id': 'direct-identifier',
        'items[].mrn': 'direct-identifier',
        'items[].ssn': 'direct-identifier',
        'items[].given': 'direct-identifier',
        'items[].family': 'direct-identifier',
        'items[].phone': 'direct-identifier',
        'items[].birthDate': 'quasi-identifier',
        'items[].gender': 'quasi-identifier',
        'items[].postalCode': 'quasi-identifier',
        'items[].city': 'quasi-identifier',
      },
      disclose: {
        clinician: { TREAT: { '*': 'send', 'items[].ssn': 'deny' } },
        billing: { HPAYMT: { 'items[].id': 'send', 'items[].mrn': { op: 'partial', keep: 4 }, 'items[].given': 'initials', 'items[].family': 'initials' } },
        researcher: { HRESCH: { 'items[].id': 'token', 'items[].gender': 'send', 'items[].birthDate': 'year', 'items[].postalCode': 'zip3' } },
      },
    },
  },
});
