/** The version of @phiguard/core (kept equal to package.json by the test suite). */
export const VERSION = '0.1.0';
