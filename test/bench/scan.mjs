// `phiguard scan` over a 100 MB tree of 100 files of 1 MB, through the built CLI as a child
// process, on two kinds of text from the DLP evaluation set:
// - clean: lab values, reference ranges, LOINC and ICD-10 codes (the hard negatives), the
//   common case of fixtures and logs that hold no PHI, where the scan itself is the cost;
// - PHI-dense: the clinical notes (about 27,000 identifiers per MB), where printing every finding
//   dominates.
//   npm run build && node test/bench/scan.mjs [--mb 100]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus, ordinaryText } from '../../packages/core/test/dlp/eval/corpus.mjs';

const i = process.argv.indexOf('--mb');
const MB = i === -1 ? 100 : Number(process.argv[i + 1]);
const { docs, negatives } = loadCorpus();
const fill = (lines) => {
  let s = '';
  for (let k = 0; s.length < 1 << 20; k++) s += `${lines[k % lines.length]}\n`;
  return s.slice(0, 1 << 20);
};

for (const [name, text] of [
  ['clean', fill(negatives)],
  ['PHI-dense', ordinaryText(docs, 1 << 20).slice(0, 1 << 20)],
]) {
  const dir = mkdtempSync(join(tmpdir(), 'phiguard-scan-bench-'));
  for (let f = 0; f < MB; f++) {
    const sub = join(dir, `d${f % 10}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `notes-${f}.txt`), text);
  }
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['packages/cli/dist/cli.js', 'scan', dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary = run.stdout.trim().split('\n').at(-1);
  console.log(`${name}: ${MB} MB in ${MB} files, ${seconds.toFixed(1)} s wall, ${(MB / seconds).toFixed(1)} MB/s; "${summary}", exit ${run.status}`);
  rmSync(dir, { recursive: true, force: true });
}
