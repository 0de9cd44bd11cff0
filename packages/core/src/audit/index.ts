/** Audit: sinks, tamper evidence, FHIR mapping and accounting of disclosures. */
export {};
