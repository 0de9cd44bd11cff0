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
  /** Path to the patient's identifier; hashed into audit `patient.ref`, checked for PATRQT. */
  readonly subject?: string;
  /**
   * Route parameter holding the patient id (`'id'` for `/patients/:id/results`). Lets adapters
   * refuse a patient request (PATRQT) for another patient before the handler runs, so that
   * 403 versus 404 cannot reveal which patient ids exist.
   */
  readonly subjectParam?: string;
  /** Path to an opaque, non-identifying resource id recorded in audit `resource.id`. */
  readonly id?: string;
  /** Routes (`'GET /patients/:id/results'`, Express path syntax) that return this resource. */
  readonly routes?: readonly string[];
  /** Whether raw bodies (Buffers, strings, streams) may be sent on this resource's routes. Default `'deny'`. */
  readonly rawBody?: 'allow' | 'deny';
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
  readonly disclose: DisclosureMatrix<Role, Extract<keyof Fields, string>>;
}

/** A whole policy: the roles it knows and the resources it governs. */
export interface PolicyDefinition<
  Role extends string = string,
  Resources extends Record<string, FieldDeclarations> = Record<string, FieldDeclarations>,
> {
  /** Every role the policy knows. A caller whose roles are all unknown is denied. */
  readonly roles: readonly Role[];
  /** Resource name → definition. Field paths in rules are checked against each resource's fields. */
  readonly resources: {
    readonly [K in keyof Resources]: { readonly fields: Resources[K] } & Omit<
      ResourceDefinition<NoInfer<Role>, NoInfer<Resources[K]>>,
      'fields'
    >;
  };
}
