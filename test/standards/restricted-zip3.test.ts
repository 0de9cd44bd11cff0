/**
 * Standards: the restricted ZIP3 list (45 CFR 164.514(b)(2)(i)(B)) is what the committed 2020
 * Census ZIP3 aggregate says it is: every prefix of 20,000 or fewer people, and no other. The
 * aggregate itself is checked for completeness against the census totals, so that a truncated
 * regeneration cannot pass.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESTRICTED_ZIP3, RESTRICTED_ZIP3_2000, RESTRICTED_ZIP3_SOURCE } from '@phiguard/core/policy';

const text = readFileSync(new URL('../../packages/core/scripts/data/zip3-population-2020.csv', import.meta.url), 'utf8');
const rows = text
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#') && l !== 'zip3,population,zctas')
  .map((l) => {
    const [zip3, population, zctas] = l.split(',');
    return { zip3: zip3!, population: Number(population), zctas: Number(zctas) };
  });

describe('restricted ZIP3 prefixes from the 2020 Census', () => {
  it('the aggregate is complete: 33,774 ZCTAs, the states and DC within 0.1% of the 2020 resident population', () => {
    for (const r of rows) {
      expect(r.zip3).toMatch(/^\d{3}$/);
      expect(Number.isInteger(r.population) && r.population >= 0).toBe(true);
      expect(Number.isInteger(r.zctas) && r.zctas >= 1).toBe(true);
    }
    expect(new Set(rows.map((r) => r.zip3)).size).toBe(rows.length);
    expect(rows.map((r) => r.zip3)).toEqual([...rows.map((r) => r.zip3)].sort());
    expect(rows.reduce((s, r) => s + r.zctas, 0)).toBe(33_774);
    // Puerto Rico (006-009) is in the ZCTA table but not in the 331,449,281 of the 50 states and DC.
    const states = rows.filter((r) => !/^00[6-9]/.test(r.zip3)).reduce((s, r) => s + r.population, 0);
    expect(Math.abs(states - 331_449_281) / 331_449_281).toBeLessThan(0.001);
    expect(text).toContain('DECENNIALDHC2020.P1');
  });

  it('RESTRICTED_ZIP3 is exactly the prefixes of 20,000 people or fewer', () => {
    const computed = rows.filter((r) => r.population <= 20_000).map((r) => r.zip3);
    expect([...RESTRICTED_ZIP3].sort()).toEqual(computed);
    // The threshold is "more than 20,000" kept: the smallest kept prefix is above it.
    expect(Math.min(...rows.filter((r) => !RESTRICTED_ZIP3.has(r.zip3)).map((r) => r.population))).toBeGreaterThan(20_000);
    expect(RESTRICTED_ZIP3_SOURCE.census).toBe(2020);
    // The 2000 list stays available by name, and differs (063, 790, 830, 831, 890 count more than 20,000 people in 2020).
    for (const z of ['063', '790', '830', '831', '890']) expect(RESTRICTED_ZIP3_2000.has(z) && !RESTRICTED_ZIP3.has(z)).toBe(true);
  });
});
