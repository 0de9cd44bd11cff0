import { NEST_APPS } from './apps.js';
import { nestSuite } from './suites.js';

// The app's own global exception filter is checked in pending/adapters.pending.ts.
nestSuite(NEST_APPS, { errorFilter: false });
