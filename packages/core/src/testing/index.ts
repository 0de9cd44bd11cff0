/**
 * @phiguard/core/testing: a leak-testing kit. Canary patients, capture of every outbound channel,
 * and assertions that prove no PHI escaped. Kept out of the main entry: import it from tests.
 * @packageDocumentation
 */
export { CANARY_MRN_PREFIX, canariesFrom, canaryDetectors, createCanaries, luhnCheckDigit, seededRandom } from './canaries.js';
export type { Canary, CanaryPatient } from './canaries.js';
export { captureConsole, captureLog, capturedResponse, capturedSpans, recordFetch } from './capture.js';
export type { Captured, RecordedResponse, SpanLike } from './capture.js';
export { expectNoPhi, findLeaks, formatLeaks, maskValue, phiMatchers, sweep } from './assert.js';
export type { Leak, LeakOptions, SweepCase } from './assert.js';
export { createManualClock } from './clock.js';
export type { ManualClock } from './clock.js';
/** Tear-down of a PostgreSQL audit store a test or benchmark created (its table, checkpoints, triggers, functions). */
export { dropAuditTableSql } from '../audit/postgres.js';
