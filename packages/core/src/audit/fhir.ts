/**
 * Audit events as FHIR R4 AuditEvent resources, following the IHE Basic Audit Log Patterns
 * (BALP), for exchange with audit repositories (ATNA/FHIR) and patient-facing access reports.
 *
 * The types below are the subset of FHIR R4 `AuditEvent` this mapping fills, declared here so
 * the published typings do not depend on `@types/fhir`; they are assignable to
 * `import('fhir/r4').AuditEvent` (checked by the test suite).
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';
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
  /** The resource type a logical reference points to (`Patient`). */
  type?: string;
  identifier?: FhirIdentifier;
  display?: string;
}
/** FHIR R4 AuditEvent.agent. */
export interface FhirAuditEventAgent {
  type?: FhirCodeableConcept;
  role?: FhirCodeableConcept[];
  who?: FhirReference;
  name?: string;
  requestor: boolean;
  network?: { address?: string; type?: '1' | '2' | '3' | '4' | '5' };
  purposeOfUse?: FhirCodeableConcept[];
}
/** FHIR R4 AuditEvent.entity. */
export interface FhirAuditEventEntity {
  what?: FhirReference;
  type?: FhirCoding;
  role?: FhirCoding;
  /** Describes the query (BALP Query: the cleaned search). */
  description?: string;
  /** The query, base64 (BALP Query `entity[query].query`). */
  query?: string;
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
  purposeOfEvent?: FhirCodeableConcept[];
  agent: FhirAuditEventAgent[];
  source: { site?: string; observer: FhirReference; type?: FhirCoding[] };
  entity?: FhirAuditEventEntity[];
}

/** Options of {@link toFhirAuditEvent}. */
export interface FhirAuditOptions {
  /** The application recording the events (`source.observer.display`, and the server agent). Default `phiguard`. */
  readonly observer?: string;
  /** Enterprise or site (`source.site`). */
  readonly site?: string;
  /**
   * Network address of the recording server (the server agent's `network`): a host name or an
   * IP address. Default: this machine's host name.
   */
  readonly serverAddress?: string;
  /**
   * Code system of purpose-of-use codings. Default `http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse`;
   * use `http://terminology.hl7.org/CodeSystem/v3-ActReason` where a validator enforces R4's original binding.
   */
  readonly purposeOfUseSystem?: string;
  /** Identifier system of patient references (keyed hashes). Default `urn:phiguard:patient-ref`. */
  readonly patientRefSystem?: string;
}

/**
 * The external party data went to, when the application names one (a release of information
 * to an attorney, a payer): a type code, a stable id, and optionally an organisation name.
 */
export interface AuditRecipient {
  readonly type: string;
  readonly id: string;
  readonly name?: string;
  /** Where the data went (a host name, IP address or URL), when known; else the requesting client's address. */
  readonly address?: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const PROVENANCE_PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
const SECURITY_ROLE = 'http://terminology.hl7.org/CodeSystem/extra-security-role-type';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const BALP = 'https://profiles.ihe.net/ITI/BALP';
const BALP_ENTITY = `${BALP}/CodeSystem/BasicAuditEntityType`;
const BALP_AUTHZ = `${BALP}/CodeSystem/AuthZsubType`;
const BALP_PROFILE = `${BALP}/StructureDefinition/IHE.BasicAudit.`;

const coding = (system: string, code: string, display: string): FhirCoding => ({ system, code, display });
const concept = (system: string, code: string, display: string): FhirCodeableConcept => ({ coding: [coding(system, code, display)] });

const REST = coding(EVENT_TYPE, 'rest', 'Restful Operation');
const EXPORT = coding(DCM, '110106', 'Export');
const PATIENT_RECORD = coding(DCM, '110110', 'Patient Record');
const SECURITY_ALERT = coding(DCM, '110113', 'Security Alert');
const AUDIT_LOG_USED = coding(DCM, '110101', 'Audit Log Used');
const OVERRIDE_STARTED = coding(DCM, '110127', 'Emergency Override Started');
const OVERRIDE_STOPPED = coding(DCM, '110138', 'Emergency Override Stopped');
const AUTHZ_ROLE = coding(BALP_AUTHZ, 'AuthZ-Role', 'Authorization Decision using only Roles');
const DISCLOSE = coding(LIFECYCLE, 'disclose', 'Disclose Record Lifecycle Event');
const EXTRACT = coding(LIFECYCLE, 'extract', 'Extract Record Lifecycle Event');
const restful = (code: string): FhirCoding => coding(RESTFUL, code, code);
// A search over one resource type (the route's); R4's parent code `search` is abstract.
const SEARCH_TYPE = restful('search-type');
const QUERY_ROLE = coding(OBJECT_ROLE, '24', 'Query');
const OTHER_ENTITY = coding(ENTITY_TYPE, '4', 'Other');

// Agent types (BALP PatientRead.fsh, PatientQuery.fsh, PatientCreate.fsh, PatientUpdate.fsh, PatientDelete.fsh, Disclose.fsh, AuthZ.fsh).
const SOURCE_ROLE = concept(DCM, '110153', 'Source Role ID');
const DESTINATION_ROLE = concept(DCM, '110152', 'Destination Role ID');
const APPLICATION = concept(DCM, '110150', 'Application');
const CUSTODIAN = concept(PROVENANCE_PARTICIPANT, 'custodian', 'Custodian');
const AUTH_SERVER = concept(SECURITY_ROLE, 'authserver', 'authorization server');
const RECIPIENT = concept(PARTICIPATION, 'IRCP', 'information recipient');
const AUTHOR = concept(PARTICIPATION, 'AUT', 'author (originator)');

/** The REST interactions: who is typed how in each BALP profile. */
const RESTFUL_PATTERN = {
  read: { subtype: 'read', action: 'R', client: DESTINATION_ROLE, server: SOURCE_ROLE, user: RECIPIENT, profile: 'Read' },
  create: { subtype: 'create', action: 'C', client: SOURCE_ROLE, server: DESTINATION_ROLE, user: AUTHOR, profile: 'Create' },
  update: { subtype: 'update', action: 'U', client: SOURCE_ROLE, server: DESTINATION_ROLE, user: AUTHOR, profile: 'Update' },
  delete: { subtype: 'delete', action: 'D', client: APPLICATION, server: CUSTODIAN, user: AUTHOR, profile: 'Delete' },
} as const;
type RestfulAction = keyof typeof RESTFUL_PATTERN;
const isRestful = (a: string): a is RestfulAction => Object.hasOwn(RESTFUL_PATTERN, a);

/** Errors after which the service could not serve at all (FHIR outcome 12, major failure). */
const UNAVAILABLE = new Set(['audit_unavailable', 'key_unavailable']);

/** Denials that are not authorization decisions (content was refused, not the caller). */
const NOT_AUTHZ = new Set(['dlp_blocked']);

const FHIR_KEYS = ['observer', 'site', 'serverAddress', 'purposeOfUseSystem', 'patientRefSystem'];

let host: string | undefined;
/** FHIR network-type: 1 machine name, 2 IP address, 5 URI. */
const network = (address: string): NonNullable<FhirAuditEventAgent['network']> => ({
  address,
  type: isIP(address) !== 0 ? '2' : /^[a-z][a-z0-9+.-]*:/i.test(address) ? '5' : '1',
});

/**
 * Maps an audit event to a FHIR R4 AuditEvent following the IHE Basic Audit Log Patterns
 * (BALP 1.1), and claims a BALP profile in `meta.profile` only when the event carries every
 * element that profile requires:
 * - successful reads, creates, updates and deletes over HTTP: `rest` + restful-interaction, the
 *   client, server and user agents typed as the BALP Read/Create/Update/Delete profile types
 *   them (Patient* when a patient is involved); outside HTTP, DICOM 110110 Patient Record;
 * - queries (a read whose event carries `query`: a list or search answer, an extract): `rest` +
 *   `search-type`, action E, the client as Source Role ID and the server as Destination Role ID,
 *   an `entity[query]` (object-role 24) holding the route pattern and declared parameter names,
 *   never values (BALP Query, PatientQuery with one patient; see {@link toFhirAuditEvents});
 * - disclosures (and exports to a named recipient): DICOM Export with the ISO 21089 `disclose`
 *   subtype, this server as the source agent, the recipient (the external party the event
 *   names, otherwise the requesting client) as the recipient agent (PrivacyDisclosure.Source);
 * - denials: Security Alert with the BALP `AuthZ-Role` subtype (an authorization decision), the
 *   recording server as the authorizer;
 * - break-glass: Security Alert with Emergency Override Started (a grant) or Stopped (a
 *   revocation); a review of a grant is Audit Log Used, not an override. A read under a grant
 *   carries purpose BTG and the grant as an entity;
 * - outcome 0 success, 4 denied, 8 error, 12 service unavailable, the reason code in `outcomeDesc`;
 * - the patient by keyed reference (`Reference(Patient)` with an identifier), never an id.
 */
export function toFhirAuditEvent(event: AuditEvent, options: FhirAuditOptions = {}): FhirAuditEventR4 {
  for (const k of Object.keys(options)) {
    if (!FHIR_KEYS.includes(k)) throw new OptionsError(`unknown toFhirAuditEvent option "${k}"${didYouMean(k, FHIR_KEYS)}`);
  }
  const observerName = options.observer ?? 'phiguard';
  const observer = (): FhirReference => ({ display: observerName });
  const serverAddress = options.serverAddress ?? (host ??= hostname());
  const purposeSystem = options.purposeOfUseSystem ?? 'http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse';
  const performed: AuditAction = event.action === 'deny' && event.attemptedAction !== undefined ? event.attemptedAction : event.action;
  const outcome: NonNullable<FhirAuditEventR4['outcome']> =
    event.outcome === 'success' ? '0' : event.outcome === 'denied' ? '4' : UNAVAILABLE.has(event.reason ?? '') ? '12' : '8';
  const success = event.outcome === 'success';
  const overHttp = event.request?.method !== undefined;
  const ip = event.actor.ip;
  const grant = event.breakGlass;
  const recipient = recipientOf(event);

  // Agents. The user never carries a network (BALP: "users are not network devices").
  const user = (type: FhirCodeableConcept): FhirAuditEventAgent | undefined => {
    if (event.actor.id === null) return undefined;
    const agent: FhirAuditEventAgent = { type, who: { identifier: { value: event.actor.id } }, requestor: true };
    if (event.actor.roles.length > 0) agent.role = event.actor.roles.map((r) => ({ text: r }));
    if (event.purposeOfUse !== null) agent.purposeOfUse = [{ coding: [{ system: purposeSystem, code: event.purposeOfUse }] }];
    return agent;
  };
  // The calling application, as known by its TCP connection.
  const client = (type: FhirCodeableConcept): FhirAuditEventAgent | undefined =>
    ip === undefined ? undefined : { type, who: { display: event.actor.userAgent || ip }, requestor: false, network: network(ip) };
  const server = (type: FhirCodeableConcept): FhirAuditEventAgent => ({ type, who: observer(), requestor: false, network: network(serverAddress) });
  const agents = (...list: (FhirAuditEventAgent | undefined)[]): FhirAuditEventAgent[] => list.filter((a): a is FhirAuditEventAgent => a !== undefined);

  // Entities.
  const entity: FhirAuditEventEntity[] = [];
  if (event.patient !== undefined) {
    entity.push({
      what: { type: 'Patient', identifier: { system: options.patientRefSystem ?? 'urn:phiguard:patient-ref', value: event.patient.ref } },
      type: coding(ENTITY_TYPE, '1', 'Person'),
      role: coding(OBJECT_ROLE, '1', 'Patient'),
    });
  }
  const data: FhirAuditEventEntity = {
    what:
      event.resource.id === undefined
        ? { display: event.resource.type }
        : { identifier: { system: `urn:phiguard:resource:${event.resource.type}`, value: event.resource.id }, display: event.resource.type },
    type: coding(ENTITY_TYPE, '2', 'System Object'),
    role: coding(OBJECT_ROLE, '4', 'Domain Resource'),
  };
  const detail: { type: string; valueString: string }[] = [];
  if (event.action === 'deny' && event.attemptedAction !== undefined) detail.push({ type: 'attemptedAction', valueString: event.attemptedAction });
  if (event.disclosed !== undefined) detail.push({ type: 'disclosed', valueString: event.disclosed.join(',') });
  if (event.transforms !== undefined && Object.keys(event.transforms).length > 0) detail.push({ type: 'transforms', valueString: JSON.stringify(event.transforms) });
  if (event.dlp !== undefined) detail.push({ type: 'dlp', valueString: JSON.stringify(event.dlp) });
  if (detail.length > 0) data.detail = detail;
  entity.push(data);
  if (grant !== undefined) {
    // The break-glass grant this access was made under (or the event is about).
    entity.push({
      what: { identifier: { system: 'urn:phiguard:break-glass-grant', value: grant.grantId } },
      type: coding(ENTITY_TYPE, '4', 'Other'),
      role: coding(OBJECT_ROLE, '13', 'Security Resource'),
      detail: [
        { type: 'reason', valueString: grant.reason },
        { type: 'expiresAt', valueString: grant.expiresAt },
      ],
    });
  }
  if (event.request?.requestId !== undefined && event.request.requestId !== '') {
    entity.push({
      what: { identifier: { value: event.request.requestId } },
      type: coding(BALP_ENTITY, 'XrequestId', 'transport specific unique identifier where http X-Request-Id is used'),
    });
  }

  const out: FhirAuditEventR4 = {
    resourceType: 'AuditEvent',
    id: event.id,
    type: PATIENT_RECORD,
    action: 'R',
    recorded: event.time,
    outcome,
    agent: [],
    source: { observer: observer(), type: [coding(SOURCE_TYPE, '4', 'Application Server')] },
    entity,
  };
  if (options.site !== undefined) out.source.site = options.site;
  if (event.reason !== undefined) out.outcomeDesc = event.reason;
  const purposes: FhirCodeableConcept[] = [];
  if (event.purposeOfUse !== null) purposes.push({ coding: [{ system: purposeSystem, code: event.purposeOfUse }] });
  // Access under a break-glass grant is marked "break the glass" (HL7 PurposeOfUse BTG).
  if (grant !== undefined && event.action !== 'break-glass') purposes.push({ coding: [{ system: purposeSystem, code: 'BTG', display: 'break the glass' }] });
  if (purposes.length > 0) out.purposeOfEvent = purposes;
  let profile: string | undefined;

  if (event.outcome === 'denied' && !NOT_AUTHZ.has(event.reason ?? '')) {
    // An authorization decision (BALP AuthZ.fsh): the recording server decided.
    out.type = SECURITY_ALERT;
    out.subtype = [AUTHZ_ROLE];
    out.action = 'E';
    out.agent = agents(client(APPLICATION), user(RECIPIENT), { type: AUTH_SERVER, who: observer(), requestor: false });
  } else if (performed === 'break-glass') {
    const kind = event.reason ?? '';
    out.type = kind.startsWith('reviewed') ? AUDIT_LOG_USED : SECURITY_ALERT;
    if (!kind.startsWith('reviewed')) out.subtype = [kind === 'revoked' ? OVERRIDE_STOPPED : OVERRIDE_STARTED];
    out.action = 'E';
    out.agent = agents(client(APPLICATION), user(RECIPIENT), { type: AUTH_SERVER, who: observer(), requestor: false });
  } else if (performed === 'login') {
    out.type = coding(DCM, '110114', 'User Authentication');
    out.subtype = [coding(DCM, '110122', 'Login')];
    out.action = 'E';
    out.agent = agents(client(APPLICATION), user(RECIPIENT), server(SOURCE_ROLE));
  } else if (performed === 'disclose' || performed === 'export') {
    out.type = EXPORT;
    const disclosure = performed === 'disclose' || recipient !== undefined;
    out.subtype = performed === 'export' ? (disclosure ? [EXTRACT, DISCLOSE] : [EXTRACT]) : [DISCLOSE, restful('read')];
    out.action = 'R';
    // PrivacyDisclosure.Source: this server is the source (and the observer, val-audit-source);
    // the recipient is the external party named, else the requesting client. Data left over the
    // client's connection either way, so that is the recipient's network.
    // A pickup link names its audience by keyed reference: the recipient, connected only when it redeems.
    const audience = recipient === undefined ? pickupAudienceOf(event) : undefined;
    const to: FhirAuditEventAgent | undefined =
      recipient !== undefined
        ? {
            type: DESTINATION_ROLE,
            who: { identifier: { system: `urn:phiguard:recipient:${recipient.type}`, value: recipient.id }, ...(recipient.name === undefined ? {} : { display: recipient.name }) },
            requestor: false,
            ...(recipient.address !== undefined ? { network: network(recipient.address) } : ip === undefined ? {} : { network: network(ip) }),
          }
        : audience !== undefined
          ? {
              type: DESTINATION_ROLE,
              who: { identifier: { system: 'urn:phiguard:pickup-audience', value: audience.ref } },
              requestor: false,
              ...(audience.connected && ip !== undefined ? { network: network(ip) } : {}),
            }
          : client(DESTINATION_ROLE);
    out.agent = agents(server(SOURCE_ROLE), to, user(RECIPIENT));
    if (disclosure && success && event.patient !== undefined && to?.network !== undefined) profile = 'PrivacyDisclosure.Source';
  } else if (performed === 'read' && event.query !== undefined) {
    // BALP Query / PatientQuery (PatientQuery.fsh): the query parameters flow from the client
    // (Source Role ID) to the server (Destination Role ID), the reverse of Read.
    out.type = overHttp ? REST : PATIENT_RECORD;
    out.subtype = [SEARCH_TYPE];
    out.action = 'E';
    const c = client(SOURCE_ROLE);
    out.agent = agents(c, server(DESTINATION_ROLE), user(RECIPIENT));
    // entity[query] is the one System Object of a query: the data summary moves to an Other entity.
    const text = queryText(event);
    data.type = OTHER_ENTITY;
    entity.splice(entity.indexOf(data), 0, { type: coding(ENTITY_TYPE, '2', 'System Object'), role: QUERY_ROLE, description: text, query: Buffer.from(text, 'utf8').toString('base64') });
    // PatientQuery names one patient per event: an answer about several is split by toFhirAuditEvents.
    const several = event.patients !== undefined && event.patients.length > 1;
    if (overHttp && success && c !== undefined && !several) profile = event.patient !== undefined ? 'PatientQuery' : 'Query';
  } else if (isRestful(performed)) {
    const p = RESTFUL_PATTERN[performed];
    out.type = overHttp ? REST : PATIENT_RECORD;
    out.subtype = [restful(p.subtype)];
    out.action = p.action;
    const c = client(p.client);
    out.agent = agents(c, server(p.server), user(p.user));
    // A DLP event reports what was found in a request body; the action itself has its own event.
    if (overHttp && success && c !== undefined && event.dlp === undefined) profile = `${event.patient !== undefined ? 'Patient' : ''}${p.profile}`;
  } else {
    // An action this mapping does not know: a Patient Record event, no profile claimed.
    out.agent = agents(client(APPLICATION), user(RECIPIENT), server(SOURCE_ROLE));
  }
  if (out.agent.length === 0) out.agent = [{ type: AUTH_SERVER, who: observer(), requestor: false }];
  if (profile !== undefined) out.meta = { profile: [`${BALP_PROFILE}${profile}`] };
  return out;
}

/**
 * {@link toFhirAuditEvent} for every patient an event is about: a query answered with several
 * patients' records is one BALP PatientQuery per patient ("one AuditEvent is created for every
 * Patient identified in the resulting search set"), ids `<event id>-<n>`. Any other event maps to one.
 */
export function toFhirAuditEvents(event: AuditEvent, options: FhirAuditOptions = {}): FhirAuditEventR4[] {
  const refs = event.patients;
  if (event.query === undefined || refs === undefined || refs.length < 2) return [toFhirAuditEvent(event, options)];
  return refs.map((ref, i) => toFhirAuditEvent({ ...event, id: `${event.id}-${i + 1}`, patient: { ref }, patients: undefined }, options));
}

/**
 * The query as audit may show it: method, route pattern and the declared parameter names the
 * request used (`GET /patients/:id/disclosures?from&to`), never a value or a concrete path.
 */
function queryText(event: AuditEvent): string {
  const q = event.query!;
  const where = event.request?.route ?? event.resource.type;
  const names = q.other === undefined ? q.params : [...q.params, `(${q.other} other)`];
  return `${event.request?.method ?? 'GET'} ${where}${names.length > 0 ? `?${names.join('&')}` : ''}`;
}

/** The external recipient an application put on the event (`recipient: { type, id, name?, address? }`), if well formed. */
function recipientOf(event: AuditEvent): AuditRecipient | undefined {
  const r = (event as AuditEvent & { readonly recipient?: unknown }).recipient;
  if (r === null || typeof r !== 'object') return undefined;
  const { type, id, name, address } = r as Partial<AuditRecipient>;
  if (typeof type !== 'string' || type === '' || typeof id !== 'string' || id === '') return undefined;
  return {
    type,
    id,
    ...(typeof name === 'string' && name !== '' ? { name } : {}),
    ...(typeof address === 'string' && address !== '' ? { address } : {}),
  };
}

/** The keyed audience of a pickup-link event, and whether that audience is the caller (a redemption). */
function pickupAudienceOf(event: AuditEvent): { ref: string; connected: boolean } | undefined {
  const d = (event as AuditEvent & { readonly delivery?: { readonly kind?: unknown; readonly audienceRef?: unknown } }).delivery;
  if (d?.kind !== 'pickup-link' || typeof d.audienceRef !== 'string') return undefined;
  return { ref: d.audienceRef, connected: event.reason === 'pickup-link-redeemed' };
}
