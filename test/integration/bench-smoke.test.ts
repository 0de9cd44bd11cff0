import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The benchmark scripts are run by hand and in `npm run bench`, never by the suite: this keeps
// them runnable (entries, factories and policies move) on a few requests, without timing anything.
describe('benchmark scripts still run', () => {
  it('the in-process suite prints a ratio for every target', () => {
    const run = spawnSync(process.execPath, ['test/bench/inproc.mjs', '--requests', '200', '--rounds', '1', '--warmup', '50'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const rows = run.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| target'));
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows.filter((r) => !r.startsWith('| plain'))) expect(row).toMatch(/\| \d\.\d\d \|/);
  }, 130_000);
});
