/** De-identification and pseudonymization: Safe Harbor, keyed and vault tokens, FF1, disclosure control. */
export { FF1DomainError, FF1_ALPHABET, FF1_MIN_DOMAIN, createFF1, decryptPreservingFormat, encryptPreservingFormat } from './ff1.js';
export type { FF1, FF1Options, PreserveFormatOptions } from './ff1.js';
export { createSafeHarbor, inferQuasiIdentifierRule } from './safe-harbor.js';
export type {
  QuasiIdentifierRule,
  SafeHarbor,
  SafeHarborCall,
  SafeHarborAction,
  SafeHarborEntry,
  SafeHarborOptions,
  SafeHarborReport,
  SafeHarborResult,
  ScrubType,
} from './safe-harbor.js';
export { safeHarborDetectors } from './residual.js';
export type { SafeHarborDetectorOptions } from './residual.js';
export { createPseudonymizer } from './pseudonym.js';
export type { PseudonymOptions, Pseudonymizer, PseudonymizerOptions } from './pseudonym.js';
export { createVault } from './vault.js';
export type { TokenizeOptions, Vault, VaultOptions, VaultPool } from './vault.js';
export { kAnonymity, laplaceNoise, reidentificationRisk, suppressSmallCells, topBottomCode } from './disclosure.js';
export type {
  EquivalenceClass,
  KAnonymity,
  LaplaceOptions,
  ReidentificationRisk,
  SuppressOptions,
  SuppressedTable,
  TopBottomOptions,
} from './disclosure.js';
