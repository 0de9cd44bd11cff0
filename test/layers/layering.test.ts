import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layering check of `npm run lint` (.dependency-cruiser.cjs): it passes on this repository
 * and fails on each kind of violation, planted in a throwaway tree with core's layout.
 */
const root = resolve(__dirname, '../..');
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const trees: string[] = [];

afterAll(() => {
  for (const dir of trees) rmSync(dir, { recursive: true, force: true });
});

function cruise(cwd: string, target: string) {
  const r = spawnSync(process.execPath, [depcruise, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', target], { cwd, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'phiguard-layers-'));
  trees.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('layering check', () => {
  it('passes on the packages as they are', () => {
    const r = cruise(root, 'packages/core/src');
    expect(r.out).toContain('no dependency violations found');
    expect(r.status).toBe(0);
  }, 60_000);

  it.each([
    [
      'no-circular',
      'a cycle of type-only imports',
      {
        'packages/core/src/dlp/index.ts': "export type { T } from './scanner.js';\nexport type Kind = 'SSN';\n",
        'packages/core/src/dlp/scanner.ts': "import type { Kind } from './index.js';\nexport type T = { kind: Kind };\n",
      },
    ],
    [
      'no-circular',
      'a cycle through three layers',
      {
        'packages/core/src/policy/plan.ts': "import { a } from './access.js';\nexport const p = a;\n",
        'packages/core/src/policy/access.ts': "import { g } from '../audit/event.js';\nexport const a = g;\n",
        'packages/core/src/audit/event.ts': "import type { P } from '../policy/types.js';\nimport { p } from '../policy/plan.js';\nexport const g = 1; export type Q = P | typeof p;\n",
        'packages/core/src/policy/types.ts': 'export type P = number;\n',
      },
    ],
    [
      'base-is-bottom',
      'the bottom layer importing upwards',
      {
        'packages/core/src/base/clock.ts': "import { x } from '../errors.js';\nexport const c = x;\n",
        'packages/core/src/errors.ts': 'export const x = 1;\n',
      },
    ],
    [
      'policy-imports-no-service',
      'the policy layer importing a stateful service for a constant',
      {
        'packages/core/src/policy/access.ts': "import { REASONS } from '../access/break-glass.js';\nexport const r = REASONS;\n",
        'packages/core/src/access/break-glass.ts': "export const REASONS = ['x'];\n",
      },
    ],
  ])('fails on %s: %s', (rule, _what, files) => {
    const r = cruise(tree(files), 'packages/core/src');
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(`error ${rule}`);
  }, 60_000);
});
