/**
 * The matrix report (set 4, test/eval/independent/matrix.mjs): recall of every identifier kind ×
 * disguise (single and composed) × setting; of every context-bound identifier type × label × way
 * of writing the label (prose, JSON key, key=value, XML element); of every way of writing a date,
 * and a phone or fax number, × setting; of person-name forms × the places a name stands; and
 * findings on the matrix's hard negatives. The matrix was written to find classes of misses, and
 * its misses guided fixes: it is a development set, not an independent measure.
 */
import {
  covered,
  generateContextMatrix,
  generateDateMatrix,
  generateEvasionMatrix,
  generateMatrixNegatives,
  generateNameMatrix,
  generatePhoneMatrix,
} from './independent/matrix.mjs';

const pct = ([n, ok]) => `${((100 * ok) / n).toFixed(1).padStart(5)}`;

/**
 * Scans every case once and counts it under each key `keys(case)` gives: [cases, found] by key.
 * Missed cases are logged with `describe(case)` under `verbose`.
 */
function measure(scan, cases, keys, describe, verbose) {
  const tally = new Map();
  let found = 0;
  const misses = [];
  for (const c of cases) {
    const ok = covered(scan(c.text), c);
    if (ok) found++;
    else misses.push(c);
    for (const key of keys(c)) {
      const v = tally.get(key) ?? [0, 0];
      v[0]++;
      if (ok) v[1]++;
      tally.set(key, v);
    }
  }
  if (verbose) for (const c of misses) console.log(`  miss ${describe(c)}: ${JSON.stringify(c.text)}`);
  /** "group a 98.2 (n=30), b …" of the keys starting with `group `. */
  const by = (group, withCount = true) =>
    [...tally]
      .filter(([k]) => k.startsWith(`${group} `))
      .sort()
      .map(([k, v]) => `${k.slice(group.length + 1)} ${pct(v).trim()}${withCount ? ` (n=${v[0]})` : ''}`)
      .join(', ');
  /** The keys of `group` below 90% recall, or "none". */
  const weak = (group) => {
    const rows = [...tally].filter(([k, [n, ok]]) => k.startsWith(`${group} `) && ok / n < 0.9).map(([k, v]) => `${k.slice(group.length + 1)} ${pct(v).trim()}`);
    return rows.length === 0 ? 'none' : rows.join('; ');
  };
  const recall = found / cases.length;
  return { found, recall, by, weak, share: `${(100 * recall).toFixed(1)}% (${found} of ${cases.length}` };
}

export function reportMatrix(scan, { verbose = false } = {}) {
  const cases = generateEvasionMatrix();
  const evasions = measure(scan, cases, (c) => [`disguise ${c.disguise}`, `setting ${c.setting}`, `type ${c.type}`, `cell ${c.type} ${c.disguise} ${c.setting}`], (c) => `${c.type} ${c.disguise} ${c.setting}`, verbose);
  console.log(`\n=== Set 4 (evasion matrix, generated; a development set: its misses guided fixes): ${cases.length} cases ===`);
  console.log(`all: recall ${evasions.share})`);
  for (const group of ['type', 'disguise', 'setting']) console.log(`  by ${group}: ${evasions.by(group)}`);
  console.log(`  cells below 90% recall: ${evasions.weak('cell')}`);

  // Context-bound identifiers: the value after its label, the label written every way.
  const ctx = measure(scan, generateContextMatrix(), (c) => [`type ${c.type}`, `setting ${c.setting}`, `label ${c.type}: ${c.label}`], (c) => `${c.type} after "${c.label}" (${c.setting})`, verbose);
  console.log(`context-bound identifiers: recall ${ctx.share})`);
  for (const group of ['type', 'setting']) console.log(`  by ${group}: ${ctx.by(group)}`);
  console.log(`  labels below 90% recall: ${ctx.weak('label')}`);

  // Dates: every form a clinical text writes, after a cue, in prose, as a value.
  const dateCases = generateDateMatrix();
  const dates = measure(scan, dateCases, (c) => [`form ${c.form}`], (c) => `DATE ${c.form} (${c.setting})`, verbose);
  console.log(`dates: recall ${dates.share}, ${new Set(dateCases.map((c) => c.form)).size} forms); forms below 90%: ${dates.weak('form')}`);

  // Phones and faxes: every form, with a label, as a value, in prose.
  const phoneCases = generatePhoneMatrix();
  const phones = measure(scan, phoneCases, (c) => [`form ${c.form}`], (c) => `${c.type} ${c.form} (${c.setting})`, verbose);
  console.log(`phones and faxes: recall ${phones.share}, ${new Set(phoneCases.map((c) => c.form)).size} forms); forms below 90%: ${phones.weak('form')}`);

  // Person names: forms (inverted, capitals, initials, suffixes) × places (label, title,
  // relation, signature, e-mail header, JSON, prose). Whole: one finding covers the name (a
  // "Jr." aside); overlap: some finding touches it.
  const nameCases = generateNameMatrix();
  const names = measure(scan, nameCases, (c) => [`form ${c.form}`, `place ${c.setting}`], (c) => `PERSON_NAME ${c.form} (${c.setting})`, verbose);
  const touched = nameCases.filter((c) => scan(c.text).some((x) => x.type === 'PERSON_NAME' && x.start < c.end && x.end > c.start)).length;
  console.log(`person names: whole ${(100 * names.recall).toFixed(1)}%, overlap ${((100 * touched) / nameCases.length).toFixed(1)}% (${nameCases.length} cases)`);
  for (const group of ['form', 'place']) console.log(`  by ${group}: ${names.by(group, false)}`);

  const negatives = generateMatrixNegatives();
  const fps = [];
  for (const t of negatives) {
    const f = scan(t);
    if (f.length > 0) fps.push([t, f.map((x) => `${x.type} ${JSON.stringify(t.slice(x.start, x.end))}`)]);
  }
  console.log(`hard negatives (set 4): findings on ${fps.length} of ${negatives.length} number-rich clinical lines`);
  for (const [t, f] of fps.slice(0, verbose ? fps.length : 3)) console.log(`  ${JSON.stringify(t)} → ${f.join(', ')}`);
  return { recall: evasions.recall, contextRecall: ctx.recall, dateRecall: dates.recall, phoneRecall: phones.recall, nameRecall: names.recall, negativesFlagged: fps.length };
}

