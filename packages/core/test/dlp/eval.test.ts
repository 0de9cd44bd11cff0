/**
 * The quality thresholds on the labeled evaluation set (test/dlp/eval). Matching rule: a
 * finding of the labeled type that overlaps the labeled span counts (see eval/corpus.mjs).
 */
import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/index.js';
import { loadCorpus, score } from './eval/corpus.mjs';

const { docs, negatives } = loadCorpus();
const scanner = createScanner();
const result = score(docs, (text) => scanner.scan(text));

const STRICT = ['SSN', 'CREDIT_CARD', 'NPI', 'DEA_NUMBER', 'VEHICLE_ID', 'EMAIL', 'IP_ADDRESS', 'URL', 'PHONE', 'ZIP_CODE'];
const CONTEXT = ['DATE', 'MRN', 'HEALTH_PLAN_ID', 'ACCOUNT_NUMBER', 'LICENSE_NUMBER', 'DEVICE_ID', 'FAX', 'AGE_OVER_89'];
const FUZZY = ['PERSON_NAME', 'STREET_ADDRESS'];

describe('evaluation set', () => {
  it('is substantial: ≥ 400 entities, ≥ 19 of every type, ≥ 150 hard negatives', () => {
    const total = Object.values(result.per).reduce((n, r) => n + r.labels, 0);
    expect(total).toBeGreaterThanOrEqual(400);
    for (const row of Object.values(result.per)) expect(row.labels).toBeGreaterThanOrEqual(19);
    expect(negatives.length).toBeGreaterThanOrEqual(150);
  });
  it.each(STRICT)('%s: recall ≥ 0.97 and precision ≥ 0.95', (type) => {
    expect(result.per[type]!.recall).toBeGreaterThanOrEqual(0.97);
    expect(result.per[type]!.precision).toBeGreaterThanOrEqual(0.95);
  });
  it.each(CONTEXT)('%s: recall ≥ 0.90', (type) => {
    expect(result.per[type]!.recall).toBeGreaterThanOrEqual(0.9);
  });
  it.each(FUZZY)('%s: recall ≥ 0.80', (type) => {
    expect(result.per[type]!.recall).toBeGreaterThanOrEqual(0.8);
  });
  it('reports nothing on the hard negatives', () => {
    const hits = negatives.flatMap((line) => scanner.scan(line).map((f) => `${f.type} in: ${line}`));
    expect(hits).toEqual([]);
  });
});
