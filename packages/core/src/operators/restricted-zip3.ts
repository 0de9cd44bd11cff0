/**
 * Three-digit ZIP prefixes whose geographic units hold 20,000 or fewer people, which Safe Harbor
 * requires to be reported as `000` (45 CFR 164.514(b)(2)(i)(B): "according to the current
 * publicly available data from the Bureau of the Census").
 *
 * Computed from the **2020 Census**: the population of every ZIP Code Tabulation Area (2020 DHC,
 * table P1, 33,774 ZCTAs) summed by its first three digits, keeping the sums of 20,000 or fewer.
 * Regenerate with `node packages/core/scripts/restricted-zip3.mjs <DECENNIALDHC2020.P1-Data.csv>`;
 * the ZIP3 aggregate it reads is committed at `packages/core/scripts/data/zip3-population-2020.csv`.
 * Another list goes in `createSafeHarbor({ restrictedZip3 })`. See DEID.md.
 */
export const RESTRICTED_ZIP3: ReadonlySet<string> = new Set([
  '036', '059', '102', '202', '203', '204', '205', '369', '556',
  '692', '753', '772', '821', '823', '878', '879', '884', '893',
]);

/** Where {@link RESTRICTED_ZIP3} comes from. */
export const RESTRICTED_ZIP3_SOURCE = Object.freeze({
  census: 2020,
  publisher: 'U.S. Census Bureau',
  document: '2020 Census Demographic and Housing Characteristics File (DHC), table P1 "Total Population", all 5-digit ZIP Code Tabulation Areas (DECENNIALDHC2020.P1, released May 2023)',
  method: 'ZCTA populations summed by the first three digits; prefixes with 20,000 or fewer people',
  computed: '2026-12-07',
});

/**
 * HHS's list from the **2000 Census** ("Guidance Regarding Methods for De-identification of
 * Protected Health Information", November 26, 2012, section 3.5), for data sets that must match
 * releases made under it: `createSafeHarbor({ restrictedZip3: RESTRICTED_ZIP3_2000 })`.
 */
export const RESTRICTED_ZIP3_2000: ReadonlySet<string> = new Set([
  '036', '059', '063', '102', '203', '556', '692', '790', '821',
  '823', '830', '831', '878', '879', '884', '890', '893',
]);

/** Where {@link RESTRICTED_ZIP3_2000} comes from. */
export const RESTRICTED_ZIP3_2000_SOURCE = Object.freeze({
  census: 2000,
  publisher: 'U.S. Department of Health and Human Services, Office for Civil Rights',
  document: 'Guidance Regarding Methods for De-identification of Protected Health Information in Accordance with the HIPAA Privacy Rule (2012), section 3.5',
});
