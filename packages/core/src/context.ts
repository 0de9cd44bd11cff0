/**
 * Who is asking, why, and from where: plain data resolved from the framework request by a
 * user-supplied function (JWT claims, headers, session). phiguard never reads a request itself.
 */
export interface AccessContext {
  readonly principal: Principal;
  /** The caller's roles; only those the policy declares count. */
  readonly roles: readonly string[];
  /** HL7 v3 PurposeOfUse code (`TREAT`, `HPAYMT`…); missing means denied. */
  readonly purposeOfUse?: string | null;
  /**
   * Relationships of the principal to the patient the request targets (`care-team`,
   * `encounter`…), when known. Filled by the guard from the `relationship` resolver for
   * resources that require one; a resolver of your own may set it too.
   */
  readonly patientRelationship?: string | readonly string[];
  /** How and when the caller authenticated (JWT `amr` and `auth_time`), for step-up checks. */
  readonly authentication?: Authentication;
  /**
   * Break-glass: the grant the caller invokes (`{ grantId }`, from a request header). The guard
   * replaces it by the validated grant before deciding.
   */
  readonly breakGlass?: BreakGlassClaim;
  readonly request?: RequestInfo;
}

/** Authentication facts from the identity provider. */
export interface Authentication {
  /** Authentication methods references (RFC 8176: `pwd`, `otp`, `mfa`, `hwk`…). */
  readonly methods?: readonly string[];
  /** When the user last authenticated, in seconds since the epoch (JWT `auth_time`). */
  readonly time?: number;
}

/** A break-glass grant as invoked by a request, and, once validated by the guard, its terms. */
export interface BreakGlassClaim {
  readonly grantId: string;
  /** Set by the guard after validation: never trusted from the request. */
  readonly validated?: {
    readonly patientId: string;
    readonly principalId: string;
    readonly reason: string;
    readonly expiresAt: number;
  };
}

/** The authenticated caller. */
export interface Principal {
  /** Stable user id (JWT `sub`). Recorded in audit. */
  readonly id: string;
  /** For patients: their own patient id, which PATRQT access is limited to. Never audited raw. */
  readonly patientId?: string | number | null;
  /** The client application the request came through (OAuth `azp` / `client_id`), for the deny list. */
  readonly clientId?: string;
}

/** Request facts recorded in audit. */
export interface RequestInfo {
  readonly method?: string;
  /** Route pattern (`/patients/:id/results`), never the concrete URL (which may hold identifiers). */
  readonly route?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
  readonly traceId?: string;
  /**
   * Names of the query-string parameters (`?from=…&to=…` → `['from', 'to']`), sorted, never their
   * values. Audit records only the names the resource declares (`query.params`); see AUDIT.md.
   */
  readonly query?: readonly string[];
}
