import { EXPRESS_APPS } from './apps.js';
import { expressSuite } from './suites.js';

// Express 4 runs the same suite in express4.test.ts (see EXPRESS4_APPS).
expressSuite(EXPRESS_APPS);
