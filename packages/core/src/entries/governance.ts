/**
 * @phiguard/core/governance: disclosure governance (recipients and agreements, authorizations,
 * disclosures, containment, retention and legal holds, governed key operations, channel exceptions).
 * @packageDocumentation
 */
export { ACCOUNTING_EXEMPT, DELIVERY_METHODS, DISCLOSURE_BASES, RECIPIENT_TYPES, disclosureDigest } from '../governance/disclosure.js';
export type { DeliveryMethod, DisclosureBasis, DisclosureDetails, Recipient, RecipientType } from '../governance/disclosure.js';
export type { GovernanceAudit } from '../governance/common.js';
export { createRecipientRegistry } from '../governance/recipients.js';
export type { Agreement, RecipientEntry, RecipientInput, RecipientRegistry, RecipientRegistryOptions } from '../governance/recipients.js';
export { authorizationProblems, createAuthorizations, inScope, scopeCovers, scopeProblems } from '../governance/authorizations.js';
export type { AuthorizationInput, AuthorizationScope, AuthorizationVerdict, Authorizations, AuthorizationsOptions, StoredAuthorization } from '../governance/authorizations.js';
export { createDisclosures } from '../governance/disclosures.js';
export type { DisclosureRequest, DisclosureResult, Disclosures, DisclosuresOptions, RecordSelector } from '../governance/disclosures.js';
export { createMemoryDisclosureCopyStore, postgresDisclosureCopyStore as createPostgresDisclosureCopyStore } from '../governance/copies.js';
export type { DisclosureCopy, DisclosureCopyStore, PostgresCopyStoreOptions } from '../governance/copies.js';
export { createLegalHolds, createPurgeJob } from '../governance/retention.js';
export type { LegalHold, LegalHolds, LegalHoldsOptions, PurgeAuditEvent, PurgeCandidate, PurgeJob, PurgeJobOptions, PurgeReport, PurgeTarget, RetentionRule } from '../governance/retention.js';
export { createDenyList } from '../governance/containment.js';
export type { DenyList, DenyListOptions, DenyTarget } from '../governance/containment.js';
export { governedKeyring as createGovernedKeyring } from '../governance/keys.js';
export type { GovernedKeyring, GovernedKeyringOptions, RotateNowOptions } from '../governance/keys.js';
export { createChannelExceptions } from '../governance/channels.js';
export type { ChannelException, ChannelExceptions } from '../governance/channels.js';
export { ORAL_SUSPENSION_DAYS, createAccountingSuspensions, suspensionProblems } from '../governance/suspensions.js';
export type { AccountingSuspension, AccountingSuspensionInput, AccountingSuspensions, AccountingSuspensionsOptions } from '../governance/suspensions.js';
