/**
 * Module layering of the packages, checked by `npm run lint` (`depcruise`). Type-only imports
 * count: a cycle of types is still a cycle for the reader and for the next refactoring.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module must not import itself through others: cut the cycle by moving the shared part down (core: into src/base/).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-is-bottom',
      severity: 'error',
      comment: 'packages/core/src/base/ holds shared types, constants and the Clock; it imports nothing else from core.',
      from: { path: '^packages/core/src/base/' },
      to: { path: '^packages/core/src/', pathNot: '^packages/core/src/base/' },
    },
    {
      name: 'entries-are-leaves',
      severity: 'error',
      comment: 'The public entries (src/index.ts, src/entries/*) only re-export; core modules import the module that defines a name, never an entry.',
      from: { path: '^packages/core/src/', pathNot: '^packages/core/src/(index\\.ts|entries/)' },
      to: { path: '^packages/core/src/(index\\.ts|entries/)' },
    },
    {
      name: 'packages-use-public-entries',
      severity: 'error',
      comment: 'Adapters, keyrings and the CLI are consumers of @phiguard/core like any other: they import its package entries (the root and subpaths), never core sources.',
      from: { path: '^packages/(express|nestjs|kms|cli)/src/' },
      to: { path: '^packages/core/src/' },
    },
    {
      name: 'policy-imports-no-service',
      severity: 'error',
      comment: 'The policy layer (model, plans, decisions) is pure: it must not import stateful services, sinks or the engine; shared constants live in src/base/.',
      from: { path: '^packages/core/src/policy/' },
      to: {
        path: [
          '^packages/core/src/access/break-glass\\.ts$',
          '^packages/core/src/(audit|state|delivery|governance|exchange|entries)/',
          '^packages/core/src/guard\\.ts$',
        ],
      },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
  },
};
