import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDurableSink } from '@phiguard/core/audit';
import { main } from '../src/main.js';
import { KEY, sampleEvent, walLines } from '../../core/test/audit/fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


describe('phiguard audit verify over a durable sink', () => {
  it('the write-ahead files, concatenated, verify; an edited line is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-durable-'));
    dirs.push(dir);
    const s = createDurableSink({ key: KEY, dir, intervalMs: 0, segmentBytes: 2048 });
    for (let i = 0; i < 9; i++) await s.write(sampleEvent(i));
    await s.close();
    expect(readdirSync(dir).filter((n) => n.startsWith('wal-')).length).toBeGreaterThan(1);
    const trail = join(dir, 'trail.ndjson');
    writeFileSync(trail, walLines(dir).join('\n') + '\n');
    const run = async () => {
      const out: string[] = [];
      const code = await main(['audit', 'verify', trail, '--key', Buffer.from(KEY).toString('hex')], { out: (t: string) => void out.push(t), err: (t: string) => void out.push(t), env: {} });
      return { code, out: out.join('') };
    };
    expect(await run()).toMatchObject({ code: 0 });
    writeFileSync(trail, readFileSync(trail, 'utf8').replace('"action":"create"', '"action":"delete"'));
    const broken = await run();
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/modified at seq 2/);
  });
});
