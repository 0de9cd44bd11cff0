/**
 * Three-digit ZIP prefixes whose geographic units hold 20,000 or fewer people (2000 Census),
 * which Safe Harbor requires to be reported as `000`.
 * 45 CFR 164.514(b)(2)(i)(B); list from HHS, "Guidance Regarding Methods for De-identification
 * of PHI", section 3.5.
 */
export const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036', '059', '063', '102', '203', '556', '692', '790', '821',
  '823', '830', '831', '878', '879', '884', '890', '893',
]);
