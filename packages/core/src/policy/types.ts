import type { PurposeOfUse } from '../purpose.js';
import type { PhiType } from '../dlp/index.js';

/**
 * What kind of data a field holds. Decides defaults and lets rules address many fields at once
 * (`'@clinical': 'send'`).
 * - `direct-identifier`: names, MRN, SSN, contact details (45 CFR 164.514(b)(2)(i)).
 * - `quasi-identifier`: dates, ZIP codes, ages: identifying in combination.
 * - `clinical`: codes, values, units, reference ranges, interpretations.
 * - `free-text`: narrative that may itself contain PHI (comments, notes).
 * - `sensitive`: specially protected categories (HIV, genetic, behavioral health...).
 * - `non-phi`: no health or identifying information; sent unless a rule says otherwise.
 */
export type FieldClass =
  | 'direct-identifier'
  | 'quasi-identifier'
  | 'clinical'
  | 'free-text'
  | 'sensitive'
  | 'non-phi';

/** A field declaration: its class, optionally with a sensitive category and a description. */
export interface FieldSpec {
  readonly class: FieldClass;
  /** Sensitive category tag, for example `'HIV'` or `'genetic'`. */
  readonly category?: string;
  readonly description?: string;
  /**
   * Stored encrypted (a field cipher ciphertext, see `createRecordCipher`). Responses decrypt it
   * only where the caller's rule needs the value (`send`, `partial`, `token`…); where the rule
   * denies, redacts, nulls or replaces it, it is never decrypted. The resource must declare `id`.
   */
  readonly encrypt?: boolean;
}

/** Names of the built-in operators that take no arguments (or use their defaults). */
export type BuiltinOperatorName =
  | 'send'
  | 'deny'
  | 'redact'
  | 'null'
  | 'replace'
  | 'partial'
  | 'initials'
  | 'year'
  | 'zip3'
  | 'age90'
  | 'token'
  | 'scrub';

/**
 * How a field is disclosed. A bare name uses the operator's defaults; the object forms take
 * arguments; `{ custom }` names an operator registered with `compilePolicy(…, { operators })`.
 */
export type OperatorSpec =
  | BuiltinOperatorName
  | { readonly op: 'partial'; readonly keep?: number; readonly mask?: string }
  | { readonly op: 'replace'; readonly with?: string }
  | { readonly op: 'token'; readonly prefix?: string; readonly domain?: string }
  | { readonly op: 'scrub'; readonly types?: readonly PhiType[]; readonly style?: 'type' | 'mask' }
  | { readonly custom: string; readonly args?: Readonly<Record<string, unknown>> };

/** Rule selectors: a declared field path, a field class (`@clinical`) or every field (`*`). */
export type Selector<Path extends string> = Path | `@${FieldClass}` | '*';

/**
 * Which fields one role receives for one purpose of use, and through which operator.
 * The most specific selector wins: field path, then `@class`, then `*`; anything not matched
 * is denied (non-PHI fields default to `send`).
 */
export type RuleSet<Path extends string = string> = {
  readonly [S in Selector<Path>]?: OperatorSpec;
};

/** The disclosure matrix of one resource: role → purpose of use → rule set. */
export type DisclosureMatrix<Role extends string, Path extends string> = {
  readonly [R in Role]?: { readonly [P in PurposeOfUse]?: RuleSet<Path> };
};

/** Field declarations: path → class. Paths use `.` for keys, `[]` for array elements, `*` for any key. */
export type FieldDeclarations = Readonly<Record<string, FieldClass | FieldSpec>>;

/** One resource (a response shape) the policy governs. */
export interface ResourceDefinition<Role extends string = string, Fields extends FieldDeclarations = FieldDeclarations> {
  readonly description?: string;
  /** Every PHI-bearing field, classified. Fields not declared here are never sent. */
  readonly fields: Fields;
  /**
   * Path to the patient's identifier; hashed into audit `patient.ref`, checked for PATRQT. A
   * path through arrays (`[].patientId`, `entry[].resource.subject.reference`) names every
   * patient of a list: each is audited (`patients`), and a patient request (PATRQT) is answered
   * only when every element is the caller's.
   */
  readonly subject?: string;
  /**
   * How the subject is written when it is a reference, with `{id}` for the id:
   * `'Patient/{id}'` reads `Patient/1001` as `1001`, so that one patient has one audit reference
   * and one PATRQT check across resources. Values not in this form are read as they are.
   */
  readonly subjectFormat?: string;
  /**
   * The envelope the resource is also sent in, declared once instead of repeating every path:
   * `{ bundle: 'Observation' }` for a FHIR Bundle (`entry[].resource` are Observations; entries
   * of another type are left out; the subject becomes a list, each patient audited), or
   * `{ items: 'data[]', fields: { total: 'non-phi', next: 'non-phi' } }` for a page wrapper.
   * A value is read as the envelope by its shape (`resourceType: 'Bundle'`, an `items` array).
   */
  readonly envelope?: { readonly bundle: string } | { readonly items: string; readonly fields?: FieldDeclarations };
  /**
   * Route parameter holding the patient id (`'id'` for `/patients/:id/results`). Lets adapters
   * refuse a patient request (PATRQT) for another patient before the handler runs, so that
   * 403 versus 404 cannot reveal which patient ids exist.
   */
  readonly subjectParam?: string;
  /** Path to an opaque, non-identifying resource id recorded in audit `resource.id`. */
  readonly id?: string;
  /**
   * Routes (`'GET /patients/:id/results'`, Express path syntax) that return this resource. A
   * pattern that can match the same request as another resource's is a policy error unless one
   * of the two is strictly more specific (`/items/summary` beside `/items/:id`).
   */
  readonly routes?: readonly string[];
  /** Whether raw bodies (Buffers, strings, streams) may be sent on this resource's routes. Default `'deny'`. */
  readonly rawBody?: 'allow' | 'deny';
  /**
   * This resource's reads are queries (a search, a list, an extract of many records): audited
   * with `query` (FHIR: the BALP Query / PatientQuery pattern). `params` names the query-string
   * parameters the routes take; audit records those names (never values) and counts any other.
   * Without it, a read is a query when its value is a JSON array or a FHIR searchset Bundle.
   */
  readonly query?: true | { readonly params: readonly string[] };
  /**
   * DLP on request bodies of this resource's routes: the free-text and unclassified string
   * fields are scanned for identifiers. `block` refuses the request (422, audited with counts by
   * type), `redact` replaces each identifier by a typed marker (`[SSN]`) before the handler sees
   * the body, `report` only audits the counts. Declared identifier fields are not scanned: they
   * are expected to hold PHI. Absent: request bodies are not scanned.
   */
  readonly dlp?: {
    readonly request: 'block' | 'redact' | 'report';
    /** Only these identifier types (default: all). */
    readonly types?: readonly PhiType[];
  };
  /**
   * Relationships a rule requires: role → purpose → `care-team` or `encounter`. The guard asks
   * the `relationship` resolver (for the patient in `subjectParam`, which must be declared) and
   * denies with `relationship_required` when it answers no. Patient requests (PATRQT) never need
   * one; a break-glass grant stands in for it.
   */
  readonly relationship?: { readonly [R in Role]?: { readonly [P in PurposeOfUse]?: Relationship } };
  /** Elements tagged sensitive (by code or security tag) and who may see them. */
  readonly sensitive?: readonly SensitiveDefinition<Role>[];
  readonly disclose: DisclosureMatrix<Role, Extract<keyof Fields, string>>;
}

/** A relationship between the principal and the patient that a rule can require. */
export type Relationship = 'care-team' | 'encounter';

/**
 * Sensitive categories for the elements of one array (`reports[].observations[]`): an element
 * whose codes or security tags name a category has its `mask` fields withheld from callers the
 * category does not `reveal` to (and, with `stepUp`, from revealed callers without a recent second
 * factor: they get 401 `step_up_required`).
 */
export interface SensitiveDefinition<Role extends string = string> {
  /** The elements a category tags: a declared path prefix ending in `[]`. */
  readonly elements: string;
  /** Where each element lists its codes (relative path, e.g. `code.coding[].code`). */
  readonly codes?: string;
  /** Where each element lists its security tags (relative path, e.g. `meta.security[].code`). */
  readonly tags?: string;
  /** Fields of a tagged element withheld from callers the category does not reveal to (relative paths). */
  readonly mask: readonly string[];
  /** The categories that apply here. Default: the policy's `categories`, the same for every resource. */
  readonly categories?: Readonly<Record<string, SensitiveCategory<Role>>>;
}

/** One sensitive category (HIV, genetic, substance-use treatment…). */
export interface SensitiveCategory<Role extends string = string> {
  /** Codes that put an element in the category (LOINC codes of the tests). */
  readonly codes?: readonly string[];
  /** Security tags that put an element in the category (FHIR meta.security codes). */
  readonly tags?: readonly string[];
  /** Who sees the masked fields: role → purposes of use. Everyone else gets them withheld. */
  readonly reveal?: { readonly [R in Role]?: readonly PurposeOfUse[] };
  /** Revealed callers also need a second factor within the policy's `stepUp.maxAgeSeconds`. */
  readonly stepUp?: boolean;
  /** Revealed callers also need this relationship to the patient. */
  readonly relationship?: Relationship;
}

/** A whole policy: the roles it knows and the resources it governs. */
export interface PolicyDefinition<
  Role extends string = string,
  Resources extends Record<string, FieldDeclarations> = Record<string, FieldDeclarations>,
> {
  /** Every role the policy knows. A caller whose roles are all unknown is denied. */
  readonly roles: readonly Role[];
  /** Sets of roles no caller may hold together (a report designer may not approve its release). */
  readonly separationOfDuties?: readonly (readonly NoInfer<Role>[])[];
  /** Who may invoke emergency access (purpose ETREAT), who reviews it, and its terms. */
  readonly breakGlass?: {
    readonly roles: readonly NoInfer<Role>[];
    /** Roles that review grants after the fact and may revoke any grant. */
    readonly reviewers: readonly NoInfer<Role>[];
    /** Reason codes a request must choose from. Default DEFAULT_BREAK_GLASS_REASONS. */
    readonly reasons?: readonly string[];
    /** Longest grant, in minutes. Default 60. */
    readonly maxMinutes?: number;
    /** Shortest free-text justification. Default 20 characters. */
    readonly minJustification?: number;
    /**
     * Secondary approval: `after` (default) queues every grant for after-action review; `before`
     * holds a grant unusable until a reviewer other than the requester approves it; `none` neither.
     */
    readonly approval?: 'none' | 'before' | 'after';
    /** Days grant records (with their justifications) are kept for review. Default 90. */
    readonly retentionDays?: number;
  };
  /** What counts as a recent second factor for sensitive categories with `stepUp`. */
  readonly stepUp?: {
    /** Default 900 (15 minutes). */
    readonly maxAgeSeconds?: number;
    /** `amr` values that count as multi-factor. Default: mfa, otp, hwk, swk, sc, fpt, face, sms, pop. */
    readonly methods?: readonly string[];
  };
  /**
   * Sensitive categories (HIV, genetic, substance-use treatment…) by name: a property of the data,
   * so they apply to every resource whose `sensitive` elements carry their codes or tags. Once a
   * policy declares categories, a resource with coded fields (`code`, `coding`, `test`, `meta`…)
   * outside its `sensitive` elements is a policy error: declare where its elements list their
   * codes, or `sensitive: []` when it carries none.
   */
  readonly categories?: Readonly<Record<string, SensitiveCategory<NoInfer<Role>>>>;
  /**
   * Routes that carry no PHI (`['GET /health', 'GET /fhir/metadata']`): their bodies pass
   * unprojected and unaudited. Matched exactly, never as a prefix; a route a resource claims
   * cannot be listed here.
   */
  readonly nonPhi?: readonly string[];
  /** Resource name → definition. Field paths in rules are checked against each resource's fields. */
  readonly resources: {
    readonly [K in keyof Resources]: { readonly fields: Resources[K] } & Omit<
      ResourceDefinition<NoInfer<Role>, NoInfer<Resources[K]>>,
      'fields'
    >;
  };
}
