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
  /** Relationship to the patient, when known (`care-team`, `self`…). */
  readonly patientRelationship?: string;
  readonly request?: RequestInfo;
}

/** The authenticated caller. */
export interface Principal {
  /** Stable user id (JWT `sub`). Recorded in audit. */
  readonly id: string;
  /** For patients: their own patient id, which PATRQT access is limited to. Never audited raw. */
  readonly patientId?: string | number | null;
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
}
