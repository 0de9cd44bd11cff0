/**
 * Synthetic FHIR R4 data for patients 1001 to 1005.
 *
 * Every person here is invented: names are made up, phone numbers are in the 555-01xx block
 * reserved for fiction, e-mail addresses are at example.org, SSNs use the 9xx area numbers the
 * Social Security Administration never issues, and MRNs are fictional. The free-text fields
 * (Observation.note, DiagnosticReport.conclusion) deliberately quote the patient's name, phone
 * number and date of birth, as real clinician comments do, so that the policy has to keep free
 * text away from callers who may not see identifiers.
 *
 * LOINC codes are real (glucose 2345-7, HbA1c 4548-4, hemoglobin 718-7, cholesterol 2093-3,
 * creatinine 2160-0, HIV-1 viral load 20447-9, BRCA1 mutations 21636-6; panels 24323-8, 58410-2,
 * 24331-1; genetic analysis report 51969-4). Sensitive results carry FHIR security labels
 * (meta.security, v3-ActCode HIV / GDIS and v3-Confidentiality R) as a FHIR server would.
 */

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const SNOMED = 'http://snomed.info/sct';
export const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const REPORT_CATEGORY = 'http://terminology.hl7.org/CodeSystem/v2-0074';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const MRN_SYSTEM = 'http://hospital.example.org/fhir/sid/mrn';
export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

// ── FHIR R4 datatypes (the subset used here) ──────────────────────────────────────────────
export interface Coding {
  system: string;
  code: string;
  display?: string;
}
export interface CodeableConcept {
  coding: Coding[];
  text?: string;
}
export interface Quantity {
  value: number;
  unit: string;
  system?: string;
  code?: string;
}
export interface ReferenceRange {
  low?: Quantity;
  high?: Quantity;
  text: string;
}
export interface Reference {
  reference?: string;
  display?: string;
}
export interface HumanName {
  use: 'official' | 'usual';
  family: string;
  given: string[];
}
export interface ContactPoint {
  system: 'phone' | 'email';
  value: string;
  use?: 'home' | 'mobile' | 'work';
}
export interface Address {
  use: 'home';
  line: string[];
  city: string;
  state: string;
  postalCode: string;
}
export interface Identifier {
  system: string;
  value: string;
}
export interface Meta {
  security: Coding[];
}

export interface Patient {
  resourceType: 'Patient';
  id: string;
  identifier: Identifier[];
  name: HumanName[];
  telecom: ContactPoint[];
  gender: 'female' | 'male';
  birthDate: string;
  address: Address[];
}

export interface Observation {
  resourceType: 'Observation';
  id: string;
  meta?: Meta;
  status: 'final' | 'preliminary' | 'amended';
  category: CodeableConcept[];
  code: CodeableConcept;
  subject: Reference;
  effectiveDateTime: string;
  issued: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  interpretation: CodeableConcept[];
  referenceRange?: ReferenceRange[];
  note?: { text: string }[];
}

export interface DiagnosticReport {
  resourceType: 'DiagnosticReport';
  id: string;
  meta?: Meta;
  status: 'final' | 'preliminary' | 'amended';
  category: CodeableConcept[];
  code: CodeableConcept;
  subject: Reference;
  effectiveDateTime: string;
  issued: string;
  performer: Reference[];
  specimen: Reference[];
  result: Reference[];
  conclusion?: string;
}

// ── Small builders, so the records below read like the lab's data ─────────────────────────
const loinc = (code: string, display: string, text?: string): CodeableConcept =>
  text === undefined ? { coding: [{ system: LOINC, code, display }] } : { coding: [{ system: LOINC, code, display }], text };

const INTERPRETATIONS = { H: 'High', L: 'Low', N: 'Normal' } as const;
const interpretation = (code: keyof typeof INTERPRETATIONS): CodeableConcept[] => [
  { coding: [{ system: INTERPRETATION, code, display: INTERPRETATIONS[code] }] },
];

const LABORATORY: CodeableConcept[] = [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'laboratory' }] }];

const quantity = (value: number, unit: string, code = unit): Quantity => ({ value, unit, system: UCUM, code });

const range = (low: number | null, high: number | null, unit: string, text: string): ReferenceRange[] => [
  {
    ...(low === null ? {} : { low: { value: low, unit } }),
    ...(high === null ? {} : { high: { value: high, unit } }),
    text,
  },
];

/** FHIR security labels for specially protected information (45 CFR 164 plus state law, 42 CFR Part 2 style). */
const labels = (sensitivity: 'HIV' | 'GDIS'): Meta => ({
  security: [
    {
      system: ACT_CODE,
      code: sensitivity,
      display: sensitivity === 'HIV' ? 'HIV/AIDS information sensitivity' : 'genetic disease information sensitivity',
    },
    { system: CONFIDENTIALITY, code: 'R', display: 'restricted' },
  ],
});

const LAB: Reference = { reference: 'Organization/lab-01', display: 'Synthetic Reference Laboratory' };

interface ObservationInput {
  id: string;
  code: CodeableConcept;
  value: Quantity | CodeableConcept;
  interpretation: keyof typeof INTERPRETATIONS;
  referenceRange?: ReferenceRange[];
  note?: string;
  meta?: Meta;
}

interface ReportInput {
  id: string;
  code: CodeableConcept;
  category?: 'LAB' | 'GE';
  effectiveDateTime: string;
  issued: string;
  specimen: string;
  conclusion?: string;
  meta?: Meta;
  observations: ObservationInput[];
}

interface PatientInput {
  id: string;
  mrn: string;
  ssn: string;
  family: string;
  given: string[];
  gender: 'female' | 'male';
  birthDate: string;
  phone: string;
  email: string;
  address: Omit<Address, 'use'>;
  /** Opaque id of this patient's lab-results view; carries nothing about the patient. */
  viewId: string;
  reports: ReportInput[];
}

/** One patient as the lab's FHIR server would hold it. */
export interface PatientRecord {
  readonly viewId: string;
  readonly patient: Patient;
  readonly reports: readonly DiagnosticReport[];
  readonly observations: ReadonlyMap<string, Observation>;
}

function record(input: PatientInput): PatientRecord {
  const subject: Reference = { reference: `Patient/${input.id}` };
  const observations = new Map<string, Observation>();
  const reports = input.reports.map((r): DiagnosticReport => {
    for (const o of r.observations) {
      const isQuantity = 'value' in o.value;
      observations.set(o.id, {
        resourceType: 'Observation',
        id: o.id,
        ...(o.meta ? { meta: o.meta } : {}),
        status: 'final',
        category: LABORATORY,
        code: o.code,
        subject,
        effectiveDateTime: r.effectiveDateTime,
        issued: r.issued,
        ...(isQuantity ? { valueQuantity: o.value as Quantity } : { valueCodeableConcept: o.value as CodeableConcept }),
        interpretation: interpretation(o.interpretation),
        ...(o.referenceRange ? { referenceRange: o.referenceRange } : {}),
        ...(o.note ? { note: [{ text: o.note }] } : {}),
      });
    }
    return {
      resourceType: 'DiagnosticReport',
      id: r.id,
      ...(r.meta ? { meta: r.meta } : {}),
      status: 'final',
      category: [{ coding: [{ system: REPORT_CATEGORY, code: r.category ?? 'LAB' }] }],
      code: r.code,
      subject,
      effectiveDateTime: r.effectiveDateTime,
      issued: r.issued,
      performer: [LAB],
      specimen: [{ display: r.specimen }],
      result: r.observations.map((o) => ({ reference: `Observation/${o.id}` })),
      ...(r.conclusion ? { conclusion: r.conclusion } : {}),
    };
  });
  return {
    viewId: input.viewId,
    patient: {
      resourceType: 'Patient',
      id: input.id,
      identifier: [
        { system: MRN_SYSTEM, value: input.mrn },
        { system: SSN_SYSTEM, value: input.ssn },
      ],
      name: [{ use: 'official', family: input.family, given: input.given }],
      telecom: [
        { system: 'phone', value: input.phone, use: 'mobile' },
        { system: 'email', value: input.email },
      ],
      gender: input.gender,
      birthDate: input.birthDate,
      address: [{ use: 'home', ...input.address }],
    },
    reports,
    observations,
  };
}

// ── Codes used below ───────────────────────────────────────────────────────────────────────
const GLUCOSE = loinc('2345-7', 'Glucose [Mass/volume] in Serum or Plasma', 'Glucose');
const HBA1C = loinc('4548-4', 'Hemoglobin A1c/Hemoglobin.total in Blood', 'HbA1c');
const HEMOGLOBIN = loinc('718-7', 'Hemoglobin [Mass/volume] in Blood', 'Hemoglobin');
const CHOLESTEROL = loinc('2093-3', 'Cholesterol [Mass/volume] in Serum or Plasma', 'Cholesterol');
const CREATININE = loinc('2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 'Creatinine');
const HIV_VL = loinc('20447-9', 'HIV 1 RNA [#/volume] (viral load) in Serum or Plasma by NAA with probe detection', 'HIV-1 viral load');
const BRCA1 = loinc('21636-6', 'BRCA1 gene mutations found [Identifier] in Blood or Tissue by Molecular genetics method Nominal', 'BRCA1');
const CMP = loinc('24323-8', 'Comprehensive metabolic 2000 panel - Serum or Plasma');
const CBC = loinc('58410-2', 'CBC panel - Blood by Automated count');
const LIPIDS = loinc('24331-1', 'Lipid 1996 panel - Serum or Plasma');
const GENETICS = loinc('51969-4', 'Genetic analysis report');
const NEGATIVE: CodeableConcept = { coding: [{ system: SNOMED, code: '260385009', display: 'Negative' }], text: 'No pathogenic variant detected' };

export const PATIENTS: ReadonlyMap<string, PatientRecord> = new Map(
  [
    record({
      id: '1001',
      viewId: 'lrv-5c2e9a71',
      mrn: 'MRN00037731',
      ssn: '912-48-3571',
      family: 'Sampleton',
      given: ['Avery', 'Quinn'],
      gender: 'female',
      birthDate: '1967-04-12',
      phone: '413-555-0112',
      email: 'avery.sampleton@example.org',
      address: { line: ['12 Example Lane'], city: 'Springfield', state: 'MA', postalCode: '01103' },
      reports: [
        {
          id: 'dr-3b7f10',
          code: CMP,
          effectiveDateTime: '2025-03-04T08:15:00-05:00',
          issued: '2025-03-04T14:02:00-05:00',
          specimen: 'Serum',
          conclusion: 'Fasting hyperglycemia. Discussed with Avery Sampleton (DOB 04/12/1967) at 413-555-0112.',
          observations: [
            {
              id: 'ob-3b7f11',
              code: GLUCOSE,
              value: quantity(182, 'mg/dL'),
              interpretation: 'H',
              referenceRange: range(70, 99, 'mg/dL', '70-99 mg/dL fasting'),
              note: 'Pt Avery Sampleton confirmed 10 h fast by phone 413-555-0112.',
            },
          ],
        },
        {
          id: 'dr-3b7f20',
          code: HBA1C,
          effectiveDateTime: '2025-03-04T08:15:00-05:00',
          issued: '2025-03-05T09:40:00-05:00',
          specimen: 'Whole blood',
          conclusion: 'HbA1c above goal; follow-up booked for A. Sampleton, DOB 1967-04-12.',
          observations: [
            {
              id: 'ob-3b7f21',
              code: HBA1C,
              value: quantity(8.4, '%'),
              interpretation: 'H',
              referenceRange: range(4, 5.6, '%', '4.0-5.6 %'),
            },
          ],
        },
      ],
    }),
    record({
      id: '1002',
      viewId: 'lrv-91d04be3',
      mrn: 'MRN00052208',
      ssn: '923-61-0482',
      family: 'Testerson',
      given: ['Bram', 'Ellis'],
      gender: 'male',
      birthDate: '1988-11-02',
      phone: '617-555-0147',
      email: 'bram.testerson@example.org',
      address: { line: ['48 Placeholder Road'], city: 'Cambridge', state: 'MA', postalCode: '02139-4307' },
      reports: [
        {
          id: 'dr-6a2c10',
          code: CBC,
          effectiveDateTime: '2025-01-21T10:05:00-05:00',
          issued: '2025-01-21T12:30:00-05:00',
          specimen: 'Whole blood (EDTA)',
          conclusion: 'Mild anemia in Bram Testerson, born 11/02/1988; repeat in 4 weeks.',
          observations: [
            {
              id: 'ob-6a2c11',
              code: HEMOGLOBIN,
              value: quantity(11.2, 'g/dL'),
              interpretation: 'L',
              referenceRange: range(13.2, 16.6, 'g/dL', '13.2-16.6 g/dL (adult male)'),
              note: 'Bram Testerson reports a blood donation last week; callback 617-555-0147.',
            },
          ],
        },
        {
          id: 'dr-6a2c20',
          code: LIPIDS,
          effectiveDateTime: '2025-01-21T10:05:00-05:00',
          issued: '2025-01-22T08:10:00-05:00',
          specimen: 'Serum',
          observations: [
            {
              id: 'ob-6a2c21',
              code: CHOLESTEROL,
              value: quantity(212, 'mg/dL'),
              interpretation: 'H',
              referenceRange: range(null, 199, 'mg/dL', '<200 mg/dL desirable'),
            },
          ],
        },
      ],
    }),
    record({
      id: '1003',
      viewId: 'lrv-0e7713c5',
      mrn: 'MRN00068813',
      ssn: '934-27-9163',
      family: 'Demoson',
      given: ['Cleo', 'Marin'],
      gender: 'female',
      birthDate: '1979-06-30',
      phone: '212-555-0163',
      email: 'cleo.demoson@example.org',
      address: { line: ['300 Sample Avenue', 'Apt 4'], city: 'New York', state: 'NY', postalCode: '10027' },
      reports: [
        {
          id: 'dr-a41e10',
          code: HIV_VL,
          meta: labels('HIV'),
          effectiveDateTime: '2025-02-11T09:30:00-05:00',
          issued: '2025-02-13T16:45:00-05:00',
          specimen: 'Plasma (EDTA)',
          conclusion: 'Low-level viremia. Cleo Demoson (DOB 06/30/1979) to repeat in 4 weeks.',
          observations: [
            {
              id: 'ob-a41e11',
              code: HIV_VL,
              meta: labels('HIV'),
              value: quantity(48, 'copies/mL', '{copies}/mL'),
              interpretation: 'H',
              referenceRange: range(null, 20, 'copies/mL', '<20 copies/mL (not detected)'),
              note: 'Spoke with Cleo Demoson at 212-555-0163; adherence counselling offered.',
            },
          ],
        },
        {
          id: 'dr-a41e20',
          code: CMP,
          effectiveDateTime: '2025-02-11T09:30:00-05:00',
          issued: '2025-02-11T15:00:00-05:00',
          specimen: 'Serum',
          observations: [
            {
              id: 'ob-a41e21',
              code: GLUCOSE,
              value: quantity(94, 'mg/dL'),
              interpretation: 'N',
              referenceRange: range(70, 99, 'mg/dL', '70-99 mg/dL fasting'),
            },
            {
              id: 'ob-a41e22',
              code: CREATININE,
              value: quantity(0.8, 'mg/dL'),
              interpretation: 'N',
              referenceRange: range(0.5, 1.1, 'mg/dL', '0.5-1.1 mg/dL'),
            },
          ],
        },
      ],
    }),
    record({
      id: '1004',
      viewId: 'lrv-b3f8e204',
      mrn: 'MRN00079954',
      ssn: '945-83-2750',
      family: 'Mockwell',
      given: ['Dana', 'Rae'],
      gender: 'female',
      birthDate: '1972-01-19',
      phone: '503-555-0178',
      email: 'dana.mockwell@example.org',
      address: { line: ['7 Fictional Court'], city: 'Portland', state: 'OR', postalCode: '97205' },
      reports: [
        {
          id: 'dr-c90d10',
          code: GENETICS,
          category: 'GE',
          meta: labels('GDIS'),
          effectiveDateTime: '2024-11-18T11:00:00-08:00',
          issued: '2024-12-09T10:20:00-08:00',
          specimen: 'Whole blood (EDTA)',
          conclusion: 'No pathogenic BRCA1 variant for Dana Mockwell (DOB 01/19/1972); counsellor to call 503-555-0178.',
          observations: [
            {
              id: 'ob-c90d11',
              code: BRCA1,
              meta: labels('GDIS'),
              value: NEGATIVE,
              interpretation: 'N',
              note: 'Family history reported by Dana Mockwell: mother, breast cancer at 44.',
            },
          ],
        },
        {
          id: 'dr-c90d20',
          code: LIPIDS,
          effectiveDateTime: '2025-01-06T08:00:00-08:00',
          issued: '2025-01-06T13:15:00-08:00',
          specimen: 'Serum',
          observations: [
            {
              id: 'ob-c90d21',
              code: CHOLESTEROL,
              value: quantity(185, 'mg/dL'),
              interpretation: 'N',
              referenceRange: range(null, 199, 'mg/dL', '<200 mg/dL desirable'),
            },
          ],
        },
      ],
    }),
    record({
      id: '1005',
      viewId: 'lrv-4d6a0f98',
      mrn: 'MRN00081126',
      ssn: '956-19-6604',
      family: 'Placeholder',
      given: ['Edith', 'Noor'],
      gender: 'female',
      birthDate: '1931-08-05',
      phone: '802-555-0190',
      email: 'edith.placeholder@example.org',
      // 059 is one of the HHS-restricted three-digit ZIP prefixes: Safe Harbor reports it as 000.
      address: { line: ['1 Test Hill Road'], city: 'Averill', state: 'VT', postalCode: '05901' },
      reports: [
        {
          id: 'dr-e25b10',
          code: CMP,
          effectiveDateTime: '2025-03-10T07:45:00-04:00',
          issued: '2025-03-10T12:05:00-04:00',
          specimen: 'Serum',
          conclusion: 'Reduced renal function for age. Daughter of Edith Placeholder informed at 802-555-0190.',
          observations: [
            {
              id: 'ob-e25b11',
              code: CREATININE,
              value: quantity(1.6, 'mg/dL'),
              interpretation: 'H',
              referenceRange: range(0.5, 1.1, 'mg/dL', '0.5-1.1 mg/dL'),
              note: 'Edith Placeholder, DOB 08/05/1931, on ACE inhibitor.',
            },
            {
              id: 'ob-e25b12',
              code: GLUCOSE,
              value: quantity(101, 'mg/dL'),
              interpretation: 'H',
              referenceRange: range(70, 99, 'mg/dL', '70-99 mg/dL fasting'),
            },
          ],
        },
        {
          id: 'dr-e25b20',
          code: CBC,
          effectiveDateTime: '2025-03-10T07:45:00-04:00',
          issued: '2025-03-10T10:30:00-04:00',
          specimen: 'Whole blood (EDTA)',
          observations: [
            {
              id: 'ob-e25b21',
              code: HEMOGLOBIN,
              value: quantity(10.9, 'g/dL'),
              interpretation: 'L',
              referenceRange: range(11.6, 15, 'g/dL', '11.6-15.0 g/dL (adult female)'),
            },
          ],
        },
      ],
    }),
  ].map((r) => [r.patient.id, r] as const),
);

/** Looks a patient up by id; undefined when there is no such patient. */
export function findPatient(id: string): PatientRecord | undefined {
  return PATIENTS.get(id);
}

/**
 * Who is on each patient's care team (user ids as in the tokens' `sub`). `rn.alvarez` cares for
 * every patient but 1005; `rn.okafor` for none, so she needs a break-glass grant.
 */
export const CARE_TEAMS: ReadonlyMap<string, readonly string[]> = new Map([
  ['1001', ['rn.alvarez', 'dr.chen']],
  ['1002', ['rn.alvarez', 'dr.chen']],
  ['1003', ['rn.alvarez', 'dr.chen']],
  ['1004', ['rn.alvarez', 'dr.chen']],
  ['1005', ['dr.chen']],
]);

/**
 * The example's relationship resolver: care-team membership from CARE_TEAMS. A hospital would
 * ask its ADT feed or care-team service, and report encounters too.
 */
export function careTeamOf(principal: { readonly id: string }, patientId: string): { readonly careTeam: boolean } {
  return { careTeam: CARE_TEAMS.get(patientId)?.includes(principal.id) ?? false };
}
