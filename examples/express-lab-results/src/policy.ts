import { definePolicy, type CustomOperator } from '@phiguard/core';

/**
 * Who may see what of a patient's lab results, and why (45 CFR 164.502(b), 164.514(d):
 * minimum necessary). One resource, `PatientResults`, the document served by
 * `GET /patients/:id/results` (see view.ts); every field it contains is classified below, and
 * each role receives, per HL7 v3 purpose of use, only the fields its rule set names.
 *
 * Reading a rule set: the most specific selector wins (field path, then `@class`, then `*`);
 * anything not matched is not sent. `redact` also withholds a field but records in the audit
 * event that it was withheld on purpose, which is used where a role gets "everything except".
 */

/** SSN shown as `***-**-3571`. */
const SSN_LAST4 = { op: 'partial', keep: 4, mask: '***-**-' } as const;
/** MRN shown as `****7731`. */
const MRN_LAST4 = { op: 'partial', keep: 4 } as const;

/**
 * Sensitive categories of lab results (LOINC codes and FHIR security labels). A property of the
 * data: declared once for the policy, they apply on every resource whose elements carry these
 * codes (the JSON view, the CSV export, the abnormal-results report, the research extract).
 */
export const SENSITIVE_CATEGORIES = {
  HIV: {
    codes: ['20447-9', '25836-8', '56888-1', '75622-1'],
    tags: ['HIV'],
    reveal: { 'ordering-provider': ['TREAT', 'ETREAT'], patient: ['PATRQT'] },
    stepUp: true,
  },
  genetic: {
    codes: ['21636-6', '51969-4'],
    tags: ['GDIS'],
    reveal: { 'ordering-provider': ['TREAT', 'ETREAT'], patient: ['PATRQT'] },
    stepUp: true,
  },
} as const;

export const policy = definePolicy({
  categories: SENSITIVE_CATEGORIES,
  // Emergency access: a nurse or provider outside the care team may open one patient's results
  // for up to an hour, with a reason code and a justification; auditors review every grant.
  breakGlass: { roles: ['care-team-nurse', 'ordering-provider'], reviewers: ['auditor'] },
  stepUp: { maxAgeSeconds: 900 },
  roles: [
    'ordering-provider',
    'care-team-nurse',
    'lab-technologist',
    'billing',
    'release-of-information',
    'researcher',
    'patient',
    'auditor',
  ],
  resources: {
    PatientResults: {
      description: "A patient's demographics and lab results (DiagnosticReports with their Observations).",
      // The pickup route serves the same view to the patient a single-use link was issued for.
      routes: ['GET /patients/:id/results', 'GET /pickup/:token'],
      // Hashed into audit `patient.ref` and compared with principal.patientId for PATRQT.
      subject: 'patient.id',
      // The route parameter naming the patient: a patient asking for someone else's record is
      // refused before the handler runs, so 403 vs 404 reveals nothing about which ids exist.
      subjectParam: 'id',
      // The opaque view id (`lrv-…`), recorded in audit `resource.id`; never the patient id.
      id: 'id',
      fields: {
        resourceType: 'non-phi',
        id: { class: 'non-phi', description: 'opaque view id, random per patient' },

        // Demographics. Direct identifiers are the 45 CFR 164.514(b)(2)(i) list: names,
        // geographic subdivisions smaller than a state, contact details, SSN, MRN, account and
        // other unique numbers. Dates, ZIP code, age and sex are quasi-identifiers: harmless
        // alone, identifying in combination.
        'patient.id': { class: 'direct-identifier', description: 'patient id in this system' },
        'patient.mrn': { class: 'direct-identifier', description: 'medical record number' },
        // Stored encrypted (see repository.ts); decrypted only for callers whose rule reads it.
        'patient.ssn': { class: 'direct-identifier', description: 'social security number', encrypt: true },
        'patient.name': { class: 'direct-identifier', description: 'FHIR HumanName' },
        'patient.telecom': { class: 'direct-identifier', description: 'FHIR ContactPoint[]: phone, e-mail' },
        'patient.address.line': { class: 'direct-identifier', description: 'street address' },
        'patient.address.city': { class: 'direct-identifier', description: 'a subdivision smaller than a state' },
        'patient.address.state': { class: 'quasi-identifier', description: 'state: Safe Harbor allows it' },
        'patient.address.postalCode': { class: 'quasi-identifier', description: 'ZIP or ZIP+4' },
        'patient.birthDate': { class: 'quasi-identifier', description: 'FHIR date' },
        'patient.age': { class: 'quasi-identifier', description: 'whole years on the day of the request' },
        'patient.gender': { class: 'quasi-identifier', description: 'FHIR administrative gender' },

        // DiagnosticReports. Report and observation ids are the lab's accession numbers: unique
        // numbers, so identifiers too.
        'reports[].id': { class: 'direct-identifier', description: 'report accession number' },
        'reports[].meta': { class: 'clinical', description: 'FHIR security labels (HIV, GDIS, R)' },
        'reports[].status': 'clinical',
        'reports[].code': { class: 'clinical', description: 'LOINC panel or test code' },
        'reports[].effectiveDateTime': { class: 'quasi-identifier', description: 'date of service: specimen collection' },
        'reports[].issued': { class: 'quasi-identifier', description: 'date of service: result released' },
        'reports[].performer': { class: 'clinical', description: 'performing laboratory' },
        'reports[].specimen': { class: 'clinical', description: 'specimen type' },
        'reports[].conclusion': { class: 'free-text', description: "pathologist's narrative; may quote identifiers", encrypt: true },

        // Observations.
        'reports[].observations[].id': { class: 'direct-identifier', description: 'result accession number' },
        'reports[].observations[].meta': { class: 'clinical', description: 'FHIR security labels (HIV, GDIS, R)' },
        'reports[].observations[].status': 'clinical',
        'reports[].observations[].category': { class: 'clinical', description: 'observation-category: laboratory' },
        'reports[].observations[].code': { class: 'clinical', description: 'LOINC test code' },
        'reports[].observations[].effectiveDateTime': { class: 'quasi-identifier', description: 'date of service' },
        'reports[].observations[].valueQuantity': { class: 'clinical', description: 'result value with UCUM unit' },
        'reports[].observations[].valueCodeableConcept': { class: 'clinical', description: 'coded result (genetic tests)' },
        'reports[].observations[].referenceRange': 'clinical',
        'reports[].observations[].interpretation': { class: 'clinical', description: 'H / L / N' },
        'reports[].observations[].note': { class: 'free-text', description: 'technologist comments; may quote identifiers', encrypt: true },
      },
      // The care team's nurses see a patient's results only while on that patient's care team
      // (data.ts: CARE_TEAMS); anyone else on the team's roles needs a break-glass grant.
      // ETREAT too: a nurse outside the team reaches ETREAT only through a break-glass grant,
      // which stands in for the relationship; claiming the purpose alone is not enough.
      relationship: { 'care-team-nurse': { TREAT: 'care-team', ETREAT: 'care-team' } },

      // HIV (1003) and genetic (1004) results are labelled in meta.security and coded in LOINC.
      // Their values, interpretation and comments are withheld from everyone but the ordering
      // provider (treatment) and the patient (own record), and even they need a second factor
      // within the last 15 minutes (401 step_up_required otherwise).
      sensitive: [
        {
          elements: 'reports[].observations[]',
          codes: 'code.coding[].code',
          tags: 'meta.security[].code',
          mask: ['valueQuantity', 'valueCodeableConcept', 'interpretation', 'note'],
        },
        {
          elements: 'reports[]',
          codes: 'code.coding[].code',
          tags: 'meta.security[].code',
          mask: ['conclusion'],
        },
      ],
      disclose: {
        // Treatment, including emergency treatment: the clinician who ordered the tests needs
        // the whole record, identifiers included, to act on it and to reach the patient.
        'ordering-provider': {
          TREAT: { '*': 'send' },
          ETREAT: { '*': 'send' },
        },

        // Treatment by the care team: everything the provider sees except the SSN, which plays
        // no part in care (identity is established by name, birth date and MRN).
        'care-team-nurse': {
          TREAT: { '*': 'send', 'patient.ssn': 'redact' },
          // Under a break-glass grant only (policy.breakGlass): the same view, in an emergency.
          ETREAT: { '*': 'send', 'patient.ssn': 'redact' },
        },

        // Health care operations in the lab (specimen handling, verification, call-backs of
        // critical values go through the provider): the MRN and birth date to match specimens,
        // initials to read against the tube label, sex and age for reference ranges, the
        // accession numbers, every clinical field and the comments. No SSN, address or
        // contact details: the lab does not contact patients.
        'lab-technologist': {
          HOPERAT: {
            'patient.mrn': 'send',
            'patient.name': 'initials',
            'patient.birthDate': 'send',
            'patient.gender': 'send',
            'patient.age': 'send',
            'reports[].id': 'send',
            'reports[].observations[].id': 'send',
            'reports[].effectiveDateTime': 'send',
            'reports[].issued': 'send',
            'reports[].observations[].effectiveDateTime': 'send',
            '@clinical': 'send',
            '@free-text': 'send',
          },
        },

        // Payment: a claim needs what was performed (the LOINC codes) and when (dates of
        // service), and a way to match the account (the MRN, masked to its last 4). Never the
        // results themselves, their interpretation, comments, names or other identifiers.
        // (Like every role but the researcher, billing also receives the two non-PHI fields,
        // `resourceType` and the opaque view `id`.)
        billing: {
          HPAYMT: {
            'patient.mrn': MRN_LAST4,
            'reports[].code': 'send',
            'reports[].effectiveDateTime': 'send',
            'reports[].issued': 'send',
            'reports[].observations[].code': 'send',
            'reports[].observations[].effectiveDateTime': 'send',
          },
        },

        // Legal (subpoena, court order, records requests handled by HIM): the designated
        // record set, with the SSN reduced to its last 4, which is what matching a request
        // needs and all that should be copied into a release.
        'release-of-information': {
          HLEGAL: { '*': 'send', 'patient.ssn': SSN_LAST4 },
        },

        // Research on a Safe Harbor style extract (45 CFR 164.514(b)(2)): no direct identifiers
        // except a keyed, non-reversible token of the patient id that links a patient's rows;
        // dates reduced to the year; ZIP to its first three digits (restricted prefixes → 000);
        // ages over 89 as the top code 90 and, for those patients, no birth year either (a year of birth
        // is "indicative of such age"); state and sex kept. Clinical values are sent; free text
        // is not, because it quotes names, phones and dates of birth. The view id is withheld:
        // it is a stable per-patient key in this system and would re-link the extract.
        researcher: {
          HRESCH: {
            id: 'deny',
            'patient.id': 'token',
            '@quasi-identifier': 'year',
            'patient.birthDate': { custom: 'birthYear90' },
            'patient.age': 'age90',
            'patient.address.postalCode': 'zip3',
            'patient.address.state': 'send',
            'patient.gender': 'send',
            '@clinical': 'send',
            '@free-text': 'deny',
          },
        },

        // The patient's right of access (45 CFR 164.524): their own record in full; the SSN
        // to its last 4 (they know it; a portal need not redisplay it). Core refuses PATRQT
        // for any record whose patient.id differs from the caller's `patient` claim.
        patient: {
          PATRQT: { '*': 'send', 'patient.ssn': SSN_LAST4 },
        },

        // Operations oversight (compliance review of what was ordered and reported, and when):
        // codes, statuses and dates only. No values, no identifiers, no free text.
        auditor: {
          HOPERAT: {
            'reports[].code': 'send',
            'reports[].status': 'send',
            'reports[].effectiveDateTime': 'send',
            'reports[].issued': 'send',
            'reports[].observations[].code': 'send',
            'reports[].observations[].status': 'send',
            'reports[].observations[].category': 'send',
            'reports[].observations[].effectiveDateTime': 'send',
          },
        },
      },
    },

    // The accounting of disclosures (45 CFR 164.528) of one patient, read from the audit trail:
    // who received which fields of the record, when and why. For compliance review.
    DisclosureAccounting: {
      description: "Disclosures of one patient's data, from the audit trail (references, never values).",
      routes: ['GET /patients/:id/disclosures'],
      subjectParam: 'id',
      // A search of the trail (?from=&to=): audited as a query of this patient, with those names only.
      query: { params: ['from', 'to'] },
      fields: {
        '[].eventId': 'non-phi',
        '[].time': 'non-phi',
        '[].action': 'non-phi',
        '[].who.id': { class: 'non-phi', description: 'the staff user who received the data' },
        '[].who.roles': 'non-phi',
        '[].what.resourceType': 'non-phi',
        '[].what.resourceId': 'non-phi',
        '[].what.fields': { class: 'non-phi', description: 'field paths disclosed, never values' },
        '[].purposeOfUse': 'non-phi',
      },
      disclose: { auditor: { HOPERAT: { '*': 'send' } } },
    },

    // Abnormal results by test and ZIP3, small cells suppressed (reports.ts): aggregate data for
    // research and quality review.
    AbnormalResultsReport: {
      description: 'Counts of abnormal results by LOINC test and ZIP3, with small-cell suppression.',
      routes: ['GET /reports/abnormal-results'],
      fields: {
        'rows[].test': { class: 'clinical', description: 'LOINC code of the test' },
        'rows[].cells': { class: 'clinical', description: 'counts per ZIP3; null where suppressed' },
        'rows[].total': 'clinical',
        zip3: { class: 'quasi-identifier', description: 'three-digit ZIP prefixes, restricted ones as 000' },
        zip3Totals: { class: 'clinical', description: 'column totals over the tests outside sensitive categories' },
        total: 'clinical',
        threshold: 'non-phi',
      },
      // A row counts results of one test: HIV and genetic rows are withheld as in the JSON view.
      sensitive: [{ elements: 'rows[]', codes: 'test', mask: ['cells', 'total'] }],
      disclose: {
        researcher: { HRESCH: { '*': 'send' } },
        auditor: { HOPERAT: { '*': 'send' } },
      },
    },

    // A CSV export of a patient's results for a records request (release of information): one
    // row per result, watermarked with purpose, recipient, user, time and request id.
    ResultsExport: {
      description: "A patient's results as CSV rows (GET /patients/:id/results.csv).",
      routes: ['GET /patients/:id/results.csv'],
      subjectParam: 'id',
      // The handler filters the rows through this policy, then sends CSV (not JSON).
      rawBody: 'allow',
      fields: {
        '[].patientId': { class: 'direct-identifier', description: 'patient id in this system' },
        '[].test': { class: 'clinical', description: 'LOINC code' },
        '[].name': { class: 'clinical', description: 'test name' },
        '[].value': { class: 'clinical', description: 'result value' },
        '[].unit': 'clinical',
        '[].date': { class: 'quasi-identifier', description: 'date of service' },
      },
      // Each row is one result: an HIV or genetic row has its value withheld, or needs the
      // second factor, exactly as the same result does in the JSON view.
      sensitive: [{ elements: '[]', codes: 'test', mask: ['value', 'unit'] }],
      disclose: {
        'release-of-information': { HLEGAL: { '*': 'send' } },
        'ordering-provider': { TREAT: { '*': 'send' } },
      },
    },

    // A single-use link to a patient's results, and the notification that carries it: generic
    // text and the link only (pull, not push: the patient signs in to read the results).
    ResultLink: {
      description: 'A pickup link issued for a patient (POST /patients/:id/result-links).',
      routes: ['POST /patients/:id/result-links'],
      subjectParam: 'id',
      fields: {
        url: { class: 'non-phi', description: 'https URL with an opaque single-use token' },
        expiresAt: 'non-phi',
        'notification.text': { class: 'non-phi', description: 'generic SMS text, checked by DLP' },
      },
      disclose: { 'ordering-provider': { TREAT: { '*': 'send' } } },
    },

    // A Safe Harbor extract of every patient for research (45 CFR 164.514(b)(2)): NDJSON, one
    // de-identified record per line, built by core's createSafeHarbor (reports.ts). The body is sent
    // as built (rawBody), so only researchers with purpose HRESCH may ask for it.
    ResearchExtract: {
      description: 'Safe Harbor de-identified records of all patients (GET /research/extract), NDJSON.',
      routes: ['GET /research/extract'],
      rawBody: 'allow',
      // A population extract: audited as a query (no patient: the records are de-identified).
      query: true,
      fields: { records: { class: 'clinical', description: 'de-identified records' } },
      // The records are PatientResults views: the de-identifier applies their sensitive categories for the
      // caller (app.ts passes the access context), so HIV and genetic values are removed here too.
      sensitive: [],
      disclose: { researcher: { HRESCH: { '*': 'send' } } },
    },

    // Notes the care team adds to a patient's results. The note text must not quote
    // identifiers (the chart already has them, and notes are copied into reports and exports):
    // a note whose text holds an SSN, phone number, e-mail… is refused with 422.
    ClinicalNote: {
      description: 'A note added to the results by the care team (POST body and the stored note).',
      routes: ['POST /patients/:id/notes'],
      subject: 'patientId',
      subjectParam: 'id',
      id: 'id',
      dlp: { request: 'block' },
      fields: {
        id: 'non-phi',
        patientId: { class: 'direct-identifier', description: 'patient id in this system' },
        author: { class: 'non-phi', description: 'staff user id of the author' },
        createdAt: { class: 'non-phi', description: 'when the note was stored' },
        text: { class: 'free-text', description: 'the note; scanned, refused if it quotes identifiers' },
      },
      disclose: {
        'ordering-provider': { TREAT: { '*': 'send' } },
        'care-team-nurse': { TREAT: { '*': 'send' } },
      },
    },

    // A note withdrawn from a patient's results (a note added to the wrong chart, or superseded).
    // Only the ordering provider may delete, under TREAT; the nurse who may add a note may not
    // remove one. The answer names the deleted note; the deletion is audited as a `delete`.
    NoteDeletion: {
      description: 'The reference of a deleted care-team note (DELETE /patients/:id/notes/:noteId answer).',
      routes: ['DELETE /patients/:id/notes/:noteId'],
      subject: 'patientId',
      subjectParam: 'id',
      id: 'id',
      fields: {
        id: 'non-phi',
        patientId: { class: 'direct-identifier', description: 'patient id in this system' },
        deletedBy: { class: 'non-phi', description: 'staff user id of who deleted it' },
        deletedAt: { class: 'non-phi', description: 'when the note was deleted' },
      },
      disclose: {
        'ordering-provider': { TREAT: { '*': 'send' } },
      },
    },

    // Messages patients send from the portal. Patients write their phone number or SSN into
    // messages; refusing them would lose the message, so identifiers are replaced by typed
    // markers (`[SSN]`) before the handler stores it.
    PatientMessage: {
      description: 'A portal message from the patient (POST body and the stored message).',
      routes: ['POST /patients/:id/messages'],
      subject: 'patientId',
      subjectParam: 'id',
      id: 'id',
      dlp: { request: 'redact' },
      fields: {
        id: 'non-phi',
        patientId: { class: 'direct-identifier', description: 'patient id in this system' },
        createdAt: { class: 'non-phi', description: 'when the message was stored' },
        text: { class: 'free-text', description: 'the message; identifiers redacted on the way in' },
      },
      disclose: {
        patient: { PATRQT: { '*': 'send' } },
        'ordering-provider': { TREAT: { '*': 'send' } },
        'care-team-nurse': { TREAT: { '*': 'send' } },
      },
    },
  },
});

/** Roles the policy knows, for the token script and the docs. */
export const ROLES: readonly string[] = policy.roles;

/** The purpose of use each role normally asserts (the first of its rule sets). */
export const DEFAULT_PURPOSE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(policy.resources.PatientResults.disclose).map(([role, byPurpose]) => [role, Object.keys(byPurpose ?? {})[0]!]),
);

const FHIR_DATE = /^(\d{4})(?:-\d{2}(?:-\d{2})?)?$/;

/**
 * Custom operators the policy uses, registered with `phiguard({ …, operators })`.
 * - `birthYear90`: the year of a birth date, withheld (omitted) when the person may be 90 or
 *   older this year: 45 CFR 164.514(b)(2)(i)(C) treats a birth year indicative of an age over 89
 *   like the age itself. Core's `year` does not know which dates are birth dates.
 */
export const operators: Readonly<Record<string, CustomOperator>> = {
  birthYear90(value) {
    if (typeof value !== 'string') return undefined;
    const m = FHIR_DATE.exec(value);
    if (!m) return undefined;
    return new Date().getUTCFullYear() - Number(m[1]) >= 90 ? undefined : m[1];
  },
};
