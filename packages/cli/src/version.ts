/** The version of @phiguard/cli (kept equal to package.json by the test suite). */
export const VERSION = '0.1.0';
