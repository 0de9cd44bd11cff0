#!/usr/bin/env node
// The `phiguard` command. A committed file rather than dist/cli.js itself, so that npm links the
// bin at install time in a checkout where dist does not exist yet.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    process.stderr.write('phiguard: @phiguard/cli is not built; run `npm run build` first.\n');
    process.exitCode = 2;
    return;
  }
  throw err;
});
