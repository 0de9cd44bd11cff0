import { NEST_APPS } from './apps.js';
import { nestSuite } from './suites.js';

nestSuite(NEST_APPS);
