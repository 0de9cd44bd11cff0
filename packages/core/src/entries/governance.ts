/**
 * @phiguard/core/governance: disclosure governance (recipients and agreements, authorizations,
 * disclosures, containment, retention and legal holds, governed key operations, channel exceptions).
 * @packageDocumentation
 */
export * from '../governance/index.js';
