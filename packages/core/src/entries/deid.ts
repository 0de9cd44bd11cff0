/**
 * @phiguard/core/deid: de-identification and pseudonymization (Safe Harbor, keyed and vault
 * tokens, FF1 format-preserving encryption, disclosure control).
 * @packageDocumentation
 */
export * from '../deid/index.js';
