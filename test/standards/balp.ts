/**
 * A checker of the IHE Basic Audit Log Patterns (BALP, IHE ITI.BasicAudit 1.1) constraints that
 * phiguard's FHIR mapping claims, transcribed by hand from the profiles' FSH sources
 * (input/fsh/PatientRead.fsh, PatientCreate.fsh, PatientUpdate.fsh, PatientDelete.fsh,
 * PatientQuery.fsh, Disclose.fsh, AuthZ.fsh, terms.fsh). Each rule names its profile and element. It reads FHIR
 * JSON only, independently of the mapping code, and returns every violation it finds.
 *
 * For an event that claims a profile in `meta.profile`, that profile's rules apply. For every
 * event, the pattern rules apply whatever is claimed: the agent typing of the REST pattern
 * chosen by `type`/`subtype`, Security Alert subtypes for emergency override and
 * authorization decisions, typed patient references, the request-id entity coding.
 */

type J = Record<string, unknown>;
type Coding = { system?: string; code?: string; display?: string };

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP';
const PROFILE = `${BALP}/StructureDefinition/IHE.BasicAudit.`;
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';

const asArray = (v: unknown): J[] => (Array.isArray(v) ? (v as J[]) : []);
const codings = (cc: unknown): Coding[] => asArray((cc as J | undefined)?.coding) as Coding[];
const is = (c: Coding | undefined, system: string, code: string) => c?.system === system && c?.code === code;
/** A CodeableConcept matches a pattern when one of its codings has the system and code. */
const hasCoding = (cc: unknown, system: string, code: string) => codings(cc).some((c) => is(c, system, code));
const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** An agent slice: agents whose `type` matches (the profiles slice agent by value of `type`). */
const agentsTyped = (e: J, system: string, code: string) => asArray(e.agent).filter((a) => hasCoding(a.type, system, code));
const entitiesTyped = (e: J, system: string, code: string) => asArray(e.entity).filter((x) => is(x.type as Coding, system, code));

interface Slice {
  readonly name: string;
  readonly system: string;
  readonly code: string;
  readonly min: 0 | 1;
  /** `who` 1..1 */
  readonly who?: boolean;
  /** `network` 1..1 (true) or 0..0 (false). */
  readonly network?: boolean;
  /** `requestor` fixed. */
  readonly requestor?: boolean;
  /** Elements fixed 0..0. */
  readonly forbidden?: readonly string[];
}

function checkAgent(e: J, where: string, s: Slice, errors: string[]): void {
  const found = agentsTyped(e, s.system, s.code);
  if (found.length < s.min) errors.push(`${where}: agent[${s.name}] (${s.code}) is required (min ${s.min})`);
  if (found.length > 1) errors.push(`${where}: agent[${s.name}] (${s.code}) max 1, found ${found.length}`);
  for (const a of found) {
    if (s.who === true && (a.who === undefined || a.who === null)) errors.push(`${where}: agent[${s.name}].who 1..1`);
    if (s.network === true && (a.network as J | undefined)?.address === undefined) errors.push(`${where}: agent[${s.name}].network 1..1`);
    if (s.network === false && a.network !== undefined) errors.push(`${where}: agent[${s.name}].network 0..0`);
    if (s.requestor !== undefined && a.requestor !== s.requestor) errors.push(`${where}: agent[${s.name}].requestor = ${s.requestor}`);
    for (const f of s.forbidden ?? []) if (a[f] !== undefined) errors.push(`${where}: agent[${s.name}].${f} 0..0`);
  }
}

/** entity[patient] as every Patient* profile, Disclose.fsh and AuthZ.fsh define it. */
function checkPatientEntity(e: J, where: string, min: 0 | 1, errors: string[]): void {
  const patients = asArray(e.entity).filter((x) => is(x.role as Coding, OBJECT_ROLE, '1'));
  if (patients.length < min) errors.push(`${where}: entity[patient] 1..1`);
  if (patients.length > 1) errors.push(`${where}: entity[patient] max 1`);
  for (const p of patients) {
    // entity[patient].type = audit-entity-type#1 "Person"; .role = object-role#1; .what 1..1
    if (!is(p.type as Coding, ENTITY_TYPE, '1')) errors.push(`${where}: entity[patient].type = audit-entity-type#1`);
    const what = p.what as J | undefined;
    if (what === undefined) errors.push(`${where}: entity[patient].what 1..1`);
    // entity[patient].what only Reference(Patient): a literal Patient/… reference or a typed logical one.
    else if (!(typeof what.reference === 'string' && what.reference.startsWith('Patient/')) && what.type !== 'Patient') {
      errors.push(`${where}: entity[patient].what only Reference(Patient)`);
    }
  }
}

/** entity[transaction] (all REST profiles): type BasicAuditEntityType#XrequestId, what.identifier.value 1..1; display as terms.fsh. */
function checkTransaction(e: J, where: string, errors: string[]): void {
  const tx = entitiesTyped(e, `${BALP}/CodeSystem/BasicAuditEntityType`, 'XrequestId');
  if (tx.length > 1) errors.push(`${where}: entity[transaction] 0..1`);
  for (const t of tx) {
    if (typeof ((t.what as J | undefined)?.identifier as J | undefined)?.value !== 'string') errors.push(`${where}: entity[transaction].what.identifier.value 1..1`);
    const display = (t.type as Coding).display;
    // terms.fsh: #XrequestId "transport specific unique identifier where http X-Request-Id is used"
    if (display !== undefined && display !== 'transport specific unique identifier where http X-Request-Id is used') {
      errors.push(`${where}: entity[transaction].type.display differs from BasicAuditEntityType#XrequestId`);
    }
  }
}

/** entity[data] (Read/Create/Update/Delete): type audit-entity-type#2, role from RestObjectRoles (4, 3, 20), what 1..1. */
function checkData(e: J, where: string, errors: string[]): void {
  const data = entitiesTyped(e, ENTITY_TYPE, '2');
  if (data.length !== 1) errors.push(`${where}: entity[data] 1..1 (found ${data.length})`);
  for (const d of data) {
    if (!['4', '3', '20'].some((c) => is(d.role as Coding, OBJECT_ROLE, c))) errors.push(`${where}: entity[data].role from RestObjectRoles (required)`);
    if (d.what === undefined) errors.push(`${where}: entity[data].what 1..1`);
  }
}

/**
 * entity[query] (PatientQuery.fsh Query): type audit-entity-type#2 1..1, role object-role#24
 * "Query" 1.., what 0..0, lifecycle 0..0, description 0..1, query 1..1 (base64Binary), detail 0..0.
 * The entity slicing is by `type` value, so every System Object entity falls in this slice: 1..1.
 */
function checkQueryEntity(e: J, where: string, errors: string[]): void {
  const objects = entitiesTyped(e, ENTITY_TYPE, '2');
  if (objects.length !== 1) errors.push(`${where}: entity[query] 1..1 (System Object entities found: ${objects.length})`);
  for (const q of objects) {
    if (!is(q.role as Coding, OBJECT_ROLE, '24')) errors.push(`${where}: entity[query].role = object-role#24 "Query"`);
    if (q.what !== undefined) errors.push(`${where}: entity[query].what 0..0`);
    if (q.lifecycle !== undefined) errors.push(`${where}: entity[query].lifecycle 0..0`);
    if (q.detail !== undefined) errors.push(`${where}: entity[query].detail 0..0`);
    if (q.description !== undefined && typeof q.description !== 'string') errors.push(`${where}: entity[query].description 0..1 string`);
    // base64Binary: FHIR's pattern (\s*([0-9a-zA-Z\+/=]){4}\s*)+, here without whitespace.
    if (typeof q.query !== 'string' || q.query.length === 0 || !/^([0-9a-zA-Z+/=]{4})+$/.test(q.query)) errors.push(`${where}: entity[query].query 1..1 (base64Binary)`);
  }
}

const REST_PROFILES: Record<string, { subtype: readonly string[]; action: string; client: [string, string]; server: [string, string]; user: readonly [string, string][]; entity?: 'data' | 'query' }> = {
  // PatientRead.fsh Read: subtype[anyRead] from AllReadVS; action = #R; client DCM#110152, server DCM#110153, user IRCP.
  Read: { subtype: ['read', 'vread'], action: 'R', client: [DCM, '110152'], server: [DCM, '110153'], user: [[PARTICIPATION, 'IRCP']] },
  // PatientCreate.fsh Create: subtype = #create; action = #C; client DCM#110153, server DCM#110152, user from DataSources (AUT, INF, CST).
  Create: { subtype: ['create'], action: 'C', client: [DCM, '110153'], server: [DCM, '110152'], user: [[PARTICIPATION, 'AUT'], [PARTICIPATION, 'INF'], [PARTICIPATION, 'CST']] },
  // PatientUpdate.fsh Update: subtype from AllUpdateVS (update, patch); action = #U; client 110153, server 110152, user from DataSources.
  Update: { subtype: ['update', 'patch'], action: 'U', client: [DCM, '110153'], server: [DCM, '110152'], user: [[PARTICIPATION, 'AUT'], [PARTICIPATION, 'INF'], [PARTICIPATION, 'CST']] },
  // PatientQuery.fsh Query: subtype[anySearch] from AllSearchVS (search, search-type, search-system); action = #E;
  // client DCM#110153 "Source Role ID", server DCM#110152 "Destination Role ID" (the query flows client → server); user IRCP.
  Query: { subtype: ['search', 'search-type', 'search-system'], action: 'E', client: [DCM, '110153'], server: [DCM, '110152'], user: [[PARTICIPATION, 'IRCP']], entity: 'query' },
  // PatientDelete.fsh Delete: subtype = #delete; action = #D; client DCM#110150, server provenance-participant-type#custodian, user from DataSources.
  Delete: {
    subtype: ['delete'],
    action: 'D',
    client: [DCM, '110150'],
    server: ['http://terminology.hl7.org/CodeSystem/provenance-participant-type', 'custodian'],
    user: [[PARTICIPATION, 'AUT'], [PARTICIPATION, 'INF'], [PARTICIPATION, 'CST']],
  },
};

function checkRestProfile(e: J, name: string, patient: boolean, errors: string[]): void {
  const p = REST_PROFILES[name]!;
  const where = `${patient ? 'Patient' : ''}${name}`;
  // type = audit-event-type#rest
  if (!is(e.type as Coding, 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest')) errors.push(`${where}: type = audit-event-type#rest`);
  // subtype 1..; subtype contains any<Interaction> 1..1
  const sub = asArray(e.subtype).filter((c) => p.subtype.some((code) => is(c as Coding, RESTFUL, code)));
  if (sub.length !== 1) errors.push(`${where}: subtype[any${name}] 1..1`);
  // action fixed; recorded 1..1; outcome = #0
  if (e.action !== p.action) errors.push(`${where}: action = #${p.action}`);
  if (typeof e.recorded !== 'string') errors.push(`${where}: recorded 1..1`);
  if (e.outcome !== '0') errors.push(`${where}: outcome = #0 (success)`);
  // agent 2..
  if (asArray(e.agent).length < 2) errors.push(`${where}: agent 2..`);
  checkAgent(e, where, { name: 'client', system: p.client[0], code: p.client[1], min: 1, who: true, network: true, forbidden: ['media'] }, errors);
  checkAgent(e, where, { name: 'server', system: p.server[0], code: p.server[1], min: 1, who: true, network: true, forbidden: ['media'] }, errors);
  // agent[user] 0..1: who 1..1, requestor = true, network 0..0, media 0..0.
  const users = asArray(e.agent).filter((a) => p.user.some(([s, c]) => hasCoding(a.type, s, c)));
  if (users.length > 1) errors.push(`${where}: agent[user] 0..1`);
  for (const u of users) {
    if (u.who === undefined) errors.push(`${where}: agent[user].who 1..1`);
    if (u.requestor !== true) errors.push(`${where}: agent[user].requestor = true`);
    if (u.network !== undefined) errors.push(`${where}: agent[user].network 0..0 (users are not network devices)`);
    if (u.media !== undefined) errors.push(`${where}: agent[user].media 0..0`);
  }
  // Read profiles type the user IRCP; a user typed otherwise is a sign of the wrong pattern.
  const requestors = asArray(e.agent).filter((a) => a.requestor === true);
  for (const r of requestors) if (!users.includes(r)) errors.push(`${where}: the requesting user must be typed as agent[user] (${p.user.map(([, c]) => c).join('/')})`);
  // entity 1..; transaction 0..1; data 1..1
  if (asArray(e.entity).length < 1) errors.push(`${where}: entity 1..`);
  checkTransaction(e, where, errors);
  if (p.entity === 'query') checkQueryEntity(e, where, errors);
  else checkData(e, where, errors);
  // Patient*: entity[patient] 1..1; PatientRead/Create/Update/Delete also entity 2.. (PatientQuery keeps Query's entity 1..).
  if (patient) {
    if (p.entity !== 'query' && asArray(e.entity).length < 2) errors.push(`${where}: entity 2..`);
    checkPatientEntity(e, where, 1, errors);
  }
}

/** Disclose.fsh AuditPrivacyDisclosureSource. */
function checkDisclosureSource(e: J, errors: string[]): void {
  const where = 'PrivacyDisclosure.Source';
  // type = DCM#110106 "Export"; action = #R
  if (!is(e.type as Coding, DCM, '110106')) errors.push(`${where}: type = DCM#110106`);
  if (e.action !== 'R') errors.push(`${where}: action = #R`);
  // requireAtLeastOneMatch(subtype, disclosure, iso-21089-lifecycle#disclose)
  if (asArray(e.subtype).filter((c) => is(c as Coding, LIFECYCLE, 'disclose')).length !== 1) errors.push(`${where}: subtype[disclosure] 1..1`);
  if (typeof e.recorded !== 'string') errors.push(`${where}: recorded 1..1`);
  if (e.outcome === undefined) errors.push(`${where}: outcome 1..1`);
  // purposeOfEvent MS: phiguard always knows why (the purpose of use of the request).
  if (asArray(e.purposeOfEvent).length === 0) errors.push(`${where}: purposeOfEvent (must support) missing`);
  if (e.modifierExtension !== undefined) errors.push(`${where}: modifierExtension 0..0`);
  if (asArray(e.agent).length < 2) errors.push(`${where}: agent 2..*`);
  checkAgent(e, where, { name: 'source', system: DCM, code: '110153', min: 1, who: true, network: true }, errors);
  checkAgent(e, where, { name: 'recipient', system: DCM, code: '110152', min: 1, who: true, network: true }, errors);
  // agent[source] obeys val-audit-source: $this.who = %resource.source.observer
  for (const s of agentsTyped(e, DCM, '110153')) {
    if (!deepEqual(s.who, (e.source as J | undefined)?.observer)) errors.push(`${where}: agent[source] val-audit-source (who = source.observer)`);
  }
  // entity 2..*; entity[patient] 1..1
  if (asArray(e.entity).length < 2) errors.push(`${where}: entity 2..*`);
  checkPatientEntity(e, where, 1, errors);
}

/**
 * The AuthZ pattern (AuthZ.fsh), for denials: type DCM#110113, subtype from AuthZsubTypeVS,
 * action #E, agents client (DCM#110150, who, network, no role/purposeOfUse), user (IRCP,
 * requestor, no network) and authorizer (authserver, who = source.observer, no network).
 * phiguard does not claim AuthZconsent itself (no Consent resource decides), so its
 * userorg and consent slices are not required.
 */
function checkAuthZ(e: J, errors: string[]): void {
  const where = 'AuthZ';
  if (!is(e.type as Coding, DCM, '110113')) errors.push(`${where}: type = DCM#110113 "Security Alert"`);
  const sub = asArray(e.subtype);
  if (sub.length < 1) errors.push(`${where}: subtype 1..`);
  for (const c of sub) if (!['AuthZ-Consent', 'AuthZ-Role'].some((code) => is(c as Coding, `${BALP}/CodeSystem/AuthZsubType`, code))) errors.push(`${where}: subtype from AuthZsubTypeVS`);
  if (e.action !== 'E') errors.push(`${where}: action = #E`);
  checkAgent(e, where, { name: 'client', system: DCM, code: '110150', min: 0, who: true, network: true, forbidden: ['role', 'altId', 'name', 'location', 'media', 'purposeOfUse'] }, errors);
  checkAgent(e, where, { name: 'user', system: PARTICIPATION, code: 'IRCP', min: 0, who: true, network: false, requestor: true, forbidden: ['altId', 'location', 'media'] }, errors);
  const authSystem = 'http://terminology.hl7.org/CodeSystem/extra-security-role-type';
  checkAgent(e, where, { name: 'authorizer', system: authSystem, code: 'authserver', min: 1, who: true, network: false, requestor: false, forbidden: ['role', 'altId', 'name', 'location', 'policy', 'media', 'purposeOfUse'] }, errors);
  for (const a of agentsTyped(e, authSystem, 'authserver')) {
    if (!deepEqual(a.who, (e.source as J | undefined)?.observer)) errors.push(`${where}: agent[authorizer] val-audit-source (who = source.observer)`);
  }
  checkPatientEntity(e, where, 0, errors);
}

/** Every BALP violation of one FHIR AuditEvent (JSON); empty when it conforms. */
export function balpErrors(event: unknown): string[] {
  const errors: string[] = [];
  const e = event as J;
  if (e === null || typeof e !== 'object' || e.resourceType !== 'AuditEvent') return ['not an AuditEvent'];
  const profiles = asArray((e.meta as J | undefined)?.profile) as unknown as string[];
  for (const p of profiles) {
    if (!p.startsWith(PROFILE)) continue;
    const id = p.slice(PROFILE.length);
    const patient = id.startsWith('Patient');
    const base = patient ? id.slice('Patient'.length) : id;
    if (Object.hasOwn(REST_PROFILES, base)) checkRestProfile(e, base, patient, errors);
    else if (id === 'PrivacyDisclosure.Source') checkDisclosureSource(e, errors);
    else errors.push(`unchecked BALP profile ${id}`);
  }

  // Pattern rules for every event, claimed or not.
  const type = e.type as Coding;
  const subtypes = asArray(e.subtype) as Coding[];
  if (is(type, 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest')) {
    // Which REST profile's agent typing applies is decided by the interaction, whatever the outcome.
    const name = Object.keys(REST_PROFILES).find((n) => subtypes.some((c) => REST_PROFILES[n]!.subtype.some((code) => is(c, RESTFUL, code))));
    if (name === undefined) errors.push('rest: subtype names no restful interaction');
    else {
      const p = REST_PROFILES[name]!;
      const where = `${name} pattern`;
      if (e.action !== p.action) errors.push(`${where}: action = #${p.action}`);
      checkAgent(e, where, { name: 'client', system: p.client[0], code: p.client[1], min: 0, who: true, network: true }, errors);
      checkAgent(e, where, { name: 'server', system: p.server[0], code: p.server[1], min: 1, who: true, network: true }, errors);
      for (const a of asArray(e.agent)) if (a.requestor === true && a.network !== undefined) errors.push(`${where}: agent[user].network 0..0`);
      // A query carries its query entity whatever the outcome: it is what the audit says was asked.
      if (p.entity === 'query') checkQueryEntity(e, where, errors);
    }
  }
  if (is(type, DCM, '110113')) {
    const override = subtypes.filter((c) => is(c, DCM, '110127') || is(c, DCM, '110138'));
    if (override.length === 0) checkAuthZ(e, errors);
    // DICOM: 110127 Emergency Override Started, 110138 Emergency Override Stopped, one per event.
    if (override.length > 1) errors.push('Security Alert: one of Emergency Override Started/Stopped');
    for (const c of override) if (c.display !== (c.code === '110127' ? 'Emergency Override Started' : 'Emergency Override Stopped')) errors.push(`Security Alert: display of DCM#${c.code}`);
  }
  if (is(type, DCM, '110106')) {
    // Export: a disclosure names both ends (Disclose.fsh source and recipient agents).
    if (subtypes.some((c) => is(c, LIFECYCLE, 'disclose'))) {
      checkAgent(e, 'Export pattern', { name: 'source', system: DCM, code: '110153', min: 1, who: true, network: true }, errors);
      checkAgent(e, 'Export pattern', { name: 'recipient', system: DCM, code: '110152', min: 0, who: true }, errors);
    }
  }
  checkPatientEntity(e, 'every event', 0, errors);
  checkTransaction(e, 'every event', errors);
  return errors;
}
