/**
 * The compat suite on Express 4 (4.18, the peer range's floor, and the latest 4.x): the same
 * apps and checks as on Express 5. The adapter's router hook reads Express 4's `app._router`.
 */
import { EXPRESS4_APPS } from './apps.js';
import { expressSuite } from './suites.js';

expressSuite(EXPRESS4_APPS);
