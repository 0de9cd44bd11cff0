/**
 * Three-digit ZIP prefixes whose geographic units hold 20,000 or fewer people, which Safe Harbor
 * requires to be reported as `000` (45 CFR 164.514(b)(2)(i)(B)).
 *
 * This is HHS's list from the **2000 Census** ("Guidance Regarding Methods for De-identification
 * of Protected Health Information", November 26, 2012, section 3.5). The rule asks for "the
 * current publicly available data from the Bureau of the Census": when a list computed from the
 * 2020 Census (ZCTA populations summed by ZIP3) is at hand, pass it as
 * `createSafeHarbor({ restrictedZip3 })`. See DEID.md.
 */
export const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036', '059', '063', '102', '203', '556', '692', '790', '821',
  '823', '830', '831', '878', '879', '884', '890', '893',
]);

/** Where {@link RESTRICTED_ZIP3} comes from. */
export const RESTRICTED_ZIP3_SOURCE = Object.freeze({
  census: 2000,
  publisher: 'U.S. Department of Health and Human Services, Office for Civil Rights',
  document: 'Guidance Regarding Methods for De-identification of Protected Health Information in Accordance with the HIPAA Privacy Rule (2012), section 3.5',
});
