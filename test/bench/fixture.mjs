// The ~2 KB lab-results document of patient 1001 and the example's policy, from the built example.
import { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, findPatient, labResultsView, operators, policy, signToken } from '../../examples/express-lab-results/dist/app.js';

export { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, operators, policy, signToken };

/** Fixed date so every run projects the same document. */
export const AS_OF = new Date('2026-06-01T00:00:00Z');
export const document = () => labResultsView(findPatient('1001'), AS_OF);

/** Roles measured, with the purpose each asserts. */
export const CALLERS = [
  { role: 'billing', purpose: 'HPAYMT' },
  { role: 'ordering-provider', purpose: 'TREAT' },
  { role: 'researcher', purpose: 'HRESCH' },
];
