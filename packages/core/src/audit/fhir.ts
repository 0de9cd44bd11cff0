/**
 * Audit events as FHIR R4 AuditEvent resources, following the IHE Basic Audit Log Patterns
 * (BALP), for exchange with audit repositories (ATNA/FHIR) and patient-facing access reports.
 *
 * The types below are the subset of FHIR R4 `AuditEvent` this mapping fills, declared here so
 * the published typings do not depend on `@types/fhir`; they are assignable to
 * `import('fhir/r4').AuditEvent` (checked by the test suite).
 */
import { OptionsError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { AuditAction, AuditEvent } from './event.js';

/** FHIR Coding. */
export interface FhirCoding {
  system?: string;
  code?: string;
  display?: string;
}
/** FHIR CodeableConcept. */
export interface FhirCodeableConcept {
  coding?: FhirCoding[];
  text?: string;
}
/** FHIR Identifier. */
export interface FhirIdentifier {
  system?: string;
  value?: string;
}
/** FHIR Reference. */
export interface FhirReference {
  reference?: string;
  identifier?: FhirIdentifier;
  display?: string;
}
/** FHIR R4 AuditEvent.agent. */
export interface FhirAuditEventAgent {
  type?: FhirCodeableConcept;
  role?: FhirCodeableConcept[];
  who?: FhirReference;
  requestor: boolean;
  network?: { address?: string; type?: '1' | '2' | '3' | '4' | '5' };
  purposeOfUse?: FhirCodeableConcept[];
}
/** FHIR R4 AuditEvent.entity. */
export interface FhirAuditEventEntity {
  what?: FhirReference;
  type?: FhirCoding;
  role?: FhirCoding;
  detail?: { type: string; valueString?: string }[];
}
/** The FHIR R4 AuditEvent resource this mapping produces. */
export interface FhirAuditEventR4 {
  resourceType: 'AuditEvent';
  id?: string;
  meta?: { profile?: string[] };
  type: FhirCoding;
  subtype?: FhirCoding[];
  action?: 'C' | 'R' | 'U' | 'D' | 'E';
  recorded: string;
  outcome?: '0' | '4' | '8' | '12';
  outcomeDesc?: string;
  agent: FhirAuditEventAgent[];
  source: { site?: string; observer: FhirReference; type?: FhirCoding[] };
  entity?: FhirAuditEventEntity[];
}

/** Options of {@link toFhirAuditEvent}. */
export interface FhirAuditOptions {
  /** The application recording the events (`source.observer.display`). Default `phiguard`. */
  readonly observer?: string;
  /** Enterprise or site (`source.site`). */
  readonly site?: string;
  /**
   * Code system of purpose-of-use codings. Default `http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse`;
   * use `http://terminology.hl7.org/CodeSystem/v3-ActReason` where a validator enforces R4's original binding.
   */
  readonly purposeOfUseSystem?: string;
  /** Identifier system of patient references (keyed hashes). Default `urn:phiguard:patient-ref`. */
  readonly patientRefSystem?: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const BALP_ENTITY = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const BALP_PROFILE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';

const REST = { system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' };
const EXPORT = { system: DCM, code: '110106', display: 'Export' };
const PATIENT_RECORD = { system: DCM, code: '110110', display: 'Patient Record' };

/** BALP type, subtypes and FHIR action code of each audit action. */
const MAPPING: Record<AuditAction, { type: FhirCoding; subtype: FhirCoding[]; action: NonNullable<FhirAuditEventR4['action']>; profile?: string }> = {
  read: { type: REST, subtype: [{ system: RESTFUL, code: 'read', display: 'read' }], action: 'R', profile: 'Read' },
  create: { type: REST, subtype: [{ system: RESTFUL, code: 'create', display: 'create' }], action: 'C', profile: 'Create' },
  update: { type: REST, subtype: [{ system: RESTFUL, code: 'update', display: 'update' }], action: 'U', profile: 'Update' },
  delete: { type: REST, subtype: [{ system: RESTFUL, code: 'delete', display: 'delete' }], action: 'D', profile: 'Delete' },
  export: {
    type: EXPORT,
    subtype: [{ system: LIFECYCLE, code: 'extract', display: 'Extract Record Lifecycle Event' }],
    action: 'R',
  },
  disclose: {
    type: EXPORT,
    subtype: [
      { system: LIFECYCLE, code: 'disclose', display: 'Disclose Record Lifecycle Event' },
      { system: RESTFUL, code: 'read', display: 'read' },
    ],
    action: 'R',
  },
  'break-glass': {
    type: { system: DCM, code: '110113', display: 'Security Alert' },
    subtype: [{ system: DCM, code: '110127', display: 'Emergency Override Started' }],
    action: 'E',
  },
  login: {
    type: { system: DCM, code: '110114', display: 'User Authentication' },
    subtype: [{ system: DCM, code: '110122', display: 'Login' }],
    action: 'E',
  },
  deny: { type: PATIENT_RECORD, subtype: [], action: 'R' },
};

/** Errors after which the service could not serve at all (FHIR outcome 12, major failure). */
const UNAVAILABLE = new Set(['audit_unavailable', 'key_unavailable']);

const FHIR_KEYS = ['observer', 'site', 'purposeOfUseSystem', 'patientRefSystem'];

/**
 * Maps an audit event to a FHIR R4 AuditEvent (IHE BALP): RESTful reads and writes as
 * `rest` + restful-interaction with the BALP Patient* profile (DICOM 110110 Patient Record
 * when there was no HTTP request), export and disclosure as DICOM Export with ISO 21089
 * lifecycle subtypes, break-glass as Security Alert / Emergency Override Started; outcome
 * 0 success, 4 denied, 8 error, 12 service unavailable, with the reason code in `outcomeDesc`;
 * the user as requestor agent, the patient (by keyed reference) and the resource as entities.
 * A denial is mapped by the action that was attempted.
 */
export function toFhirAuditEvent(event: AuditEvent, options: FhirAuditOptions = {}): FhirAuditEventR4 {
  for (const k of Object.keys(options)) {
    if (!FHIR_KEYS.includes(k)) throw new OptionsError(`unknown toFhirAuditEvent option "${k}"${didYouMean(k, FHIR_KEYS)}`);
  }
  const performed: AuditAction = event.action === 'deny' && event.attemptedAction !== undefined ? event.attemptedAction : event.action;
  const map = Object.hasOwn(MAPPING, performed) ? MAPPING[performed] : MAPPING.deny;
  const outcome: NonNullable<FhirAuditEventR4['outcome']> =
    event.outcome === 'success' ? '0' : event.outcome === 'denied' ? '4' : UNAVAILABLE.has(event.reason ?? '') ? '12' : '8';
  const purposeSystem = options.purposeOfUseSystem ?? 'http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse';

  const user: FhirAuditEventAgent = {
    type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
    requestor: true,
  };
  if (event.actor.id !== null) user.who = { identifier: { value: event.actor.id } };
  if (event.actor.roles.length > 0) user.role = event.actor.roles.map((r) => ({ text: r }));
  if (event.actor.ip !== undefined) user.network = { address: event.actor.ip, type: '2' };
  if (event.purposeOfUse !== null) user.purposeOfUse = [{ coding: [{ system: purposeSystem, code: event.purposeOfUse }] }];
  const server: FhirAuditEventAgent = {
    type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
    who: { display: options.observer ?? 'phiguard' },
    requestor: false,
  };

  const entity: FhirAuditEventEntity[] = [];
  if (event.patient !== undefined) {
    entity.push({
      what: { identifier: { system: options.patientRefSystem ?? 'urn:phiguard:patient-ref', value: event.patient.ref } },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  const data: FhirAuditEventEntity = {
    what:
      event.resource.id === undefined
        ? { display: event.resource.type }
        : { identifier: { system: `urn:phiguard:resource:${event.resource.type}`, value: event.resource.id }, display: event.resource.type },
    type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
    role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
  };
  const detail: { type: string; valueString: string }[] = [];
  if (event.disclosed !== undefined) detail.push({ type: 'disclosed', valueString: event.disclosed.join(',') });
  if (event.transforms !== undefined && Object.keys(event.transforms).length > 0) {
    detail.push({ type: 'transforms', valueString: JSON.stringify(event.transforms) });
  }
  if (detail.length > 0) data.detail = detail;
  entity.push(data);
  if (event.request?.requestId !== undefined) {
    entity.push({ what: { identifier: { value: event.request.requestId } }, type: { system: BALP_ENTITY, code: 'XrequestId', display: 'Request Id' } });
  }

  const out: FhirAuditEventR4 = {
    resourceType: 'AuditEvent',
    id: event.id,
    // A create/read/update/delete outside an HTTP request (a job, a script) is a Patient Record event.
    type: map.type === REST && event.request?.method === undefined ? PATIENT_RECORD : map.type,
    action: map.action,
    recorded: event.time,
    outcome,
    agent: [user, server],
    source: {
      observer: { display: options.observer ?? 'phiguard' },
      type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
    },
    entity,
  };
  if (map.subtype.length > 0) out.subtype = map.subtype;
  if (options.site !== undefined) out.source.site = options.site;
  if (event.reason !== undefined) out.outcomeDesc = event.reason;
  if (map.profile !== undefined && event.outcome === 'success') {
    out.meta = { profile: [`${BALP_PROFILE}${event.patient !== undefined ? 'Patient' : ''}${map.profile}`] };
  }
  return out;
}
