/**
 * The evasion-matrix report (set 4, test/eval/independent/matrix.mjs): recall of every
 * identifier kind × disguise (single and composed) × setting, of every context-bound identifier
 * type × label × way of writing the label (prose, JSON key, key=value, XML element), of every
 * way of writing a date × setting, of every way of writing a phone or fax number × setting, of
 * person-name forms × the places a name stands, and
 * findings on the matrix's hard negatives. The matrix was written to find classes of misses, and its misses guided fixes of
 * the normalizer and the numeric detectors: it is a development set, not an independent measure.
 */
import { generateContextMatrix, generateDateMatrix, generateEvasionMatrix, generateMatrixNegatives, generateNameMatrix, generatePhoneMatrix } from './independent/matrix.mjs';

/** True when one finding of `type` covers the disguised identifier (its surrounding spaces aside). */
function covered(findings, c) {
  const core = c.text.slice(c.start, c.end);
  const lead = core.length - core.trimStart().length;
  const trail = core.length - core.trimEnd().length;
  return findings.some((f) => f.type === c.type && f.start <= c.start + lead && f.end >= c.end - trail);
}

export function reportMatrix(scan, { verbose = false } = {}) {
  const cases = generateEvasionMatrix();
  const negatives = generateMatrixNegatives();
  const tally = new Map();
  const count = (key, ok) => {
    const v = tally.get(key) ?? [0, 0];
    v[0]++;
    if (ok) v[1]++;
    tally.set(key, v);
  };
  const misses = [];
  for (const c of cases) {
    const ok = covered(scan(c.text), c);
    count(`disguise ${c.disguise}`, ok);
    count(`setting ${c.setting}`, ok);
    count(`type ${c.type}`, ok);
    count(`cell ${c.type} ${c.disguise} ${c.setting}`, ok);
    if (!ok) misses.push(c);
  }
  const pct = ([n, ok]) => `${((100 * ok) / n).toFixed(1).padStart(5)}`;
  const found = cases.length - misses.length;
  console.log(`\n=== Set 4 (evasion matrix, generated; a development set: its misses guided fixes): ${cases.length} cases ===`);
  console.log(`all: recall ${((100 * found) / cases.length).toFixed(1)}% (${found} of ${cases.length})`);
  for (const group of ['type', 'disguise', 'setting']) {
    const rows = [...tally].filter(([k]) => k.startsWith(`${group} `)).sort();
    console.log(`  by ${group}: ${rows.map(([k, v]) => `${k.slice(group.length + 1)} ${pct(v).trim()} (n=${v[0]})`).join(', ')}`);
  }
  const weak = [...tally].filter(([k, [n, ok]]) => k.startsWith('cell ') && ok / n < 0.9).map(([k, v]) => `${k.slice(5)} ${pct(v).trim()}`);
  console.log(`  cells below 90% recall: ${weak.length === 0 ? 'none' : weak.join('; ')}`);
  let flagged = 0;
  const fps = [];
  for (const t of negatives) {
    const f = scan(t);
    if (f.length > 0) {
      flagged++;
      fps.push([t, f.map((x) => `${x.type} ${JSON.stringify(t.slice(x.start, x.end))}`)]);
    }
  }
  // Context-bound identifiers: the value after its label, the label written every way.
  const ctx = generateContextMatrix();
  const ctxTally = new Map();
  let ctxFound = 0;
  for (const c of ctx) {
    const ok = covered(scan(c.text), c);
    if (ok) ctxFound++;
    for (const key of [`type ${c.type}`, `setting ${c.setting}`, `label ${c.type}: ${c.label}`]) {
      const v = ctxTally.get(key) ?? [0, 0];
      v[0]++;
      if (ok) v[1]++;
      ctxTally.set(key, v);
    }
    if (!ok && verbose) console.log(`  miss ${c.type} after "${c.label}" (${c.setting}): ${JSON.stringify(c.text)}`);
  }
  console.log(`context-bound identifiers: recall ${((100 * ctxFound) / ctx.length).toFixed(1)}% (${ctxFound} of ${ctx.length})`);
  for (const group of ['type', 'setting']) {
    const rows = [...ctxTally].filter(([k]) => k.startsWith(`${group} `)).sort();
    console.log(`  by ${group}: ${rows.map(([k, v]) => `${k.slice(group.length + 1)} ${pct(v).trim()} (n=${v[0]})`).join(', ')}`);
  }
  const weakLabels = [...ctxTally].filter(([k, [n, ok]]) => k.startsWith('label ') && ok / n < 0.9).map(([k, v]) => `${k.slice(6)} ${pct(v).trim()}`);
  console.log(`  labels below 90% recall: ${weakLabels.length === 0 ? 'none' : weakLabels.join('; ')}`);
  // Dates: every form a clinical text writes, after a cue, in prose, as a value.
  const dates = generateDateMatrix();
  const byForm = new Map();
  let datesFound = 0;
  for (const c of dates) {
    const ok = covered(scan(c.text), c);
    if (ok) datesFound++;
    const v = byForm.get(c.form) ?? [0, 0];
    v[0]++;
    if (ok) v[1]++;
    byForm.set(c.form, v);
    if (!ok && verbose) console.log(`  miss DATE ${c.form} (${c.setting}): ${JSON.stringify(c.text)}`);
  }
  const weakForms = [...byForm].filter(([, [n, ok]]) => ok / n < 0.9).map(([k, v]) => `${k} ${pct(v).trim()}`);
  console.log(`dates: recall ${((100 * datesFound) / dates.length).toFixed(1)}% (${datesFound} of ${dates.length}, ${byForm.size} forms); forms below 90%: ${weakForms.length === 0 ? 'none' : weakForms.join('; ')}`);
  // Phones and faxes: every form, with a label, as a value, in prose.
  const phones = generatePhoneMatrix();
  const byPhoneForm = new Map();
  let phonesFound = 0;
  for (const c of phones) {
    const ok = covered(scan(c.text), c);
    if (ok) phonesFound++;
    const v = byPhoneForm.get(c.form) ?? [0, 0];
    v[0]++;
    if (ok) v[1]++;
    byPhoneForm.set(c.form, v);
    if (!ok && verbose) console.log(`  miss ${c.type} ${c.form} (${c.setting}): ${JSON.stringify(c.text)}`);
  }
  const weakPhones = [...byPhoneForm].filter(([, [n, ok]]) => ok / n < 0.9).map(([k, v]) => `${k} ${pct(v).trim()}`);
  console.log(`phones and faxes: recall ${((100 * phonesFound) / phones.length).toFixed(1)}% (${phonesFound} of ${phones.length}, ${byPhoneForm.size} forms); forms below 90%: ${weakPhones.length === 0 ? 'none' : weakPhones.join('; ')}`);
  // Person names: forms (inverted, capitals, initials, suffixes) × places (label, title,
  // relation, signature, e-mail header, JSON, prose). Whole: one finding covers the name (a
  // "Jr." aside); overlap: some finding touches it.
  const names = generateNameMatrix();
  const nameTally = new Map();
  let whole = 0;
  let touched = 0;
  for (const c of names) {
    const f = scan(c.text).filter((x) => x.type === 'PERSON_NAME');
    const core = c.text.slice(c.start, c.end).replace(/ Jr\.$/, '');
    const ok = f.some((x) => x.start <= c.start && x.end >= c.start + core.length);
    const over = f.some((x) => x.start < c.end && x.end > c.start);
    if (ok) whole++;
    if (over) touched++;
    for (const key of [`form ${c.form}`, `place ${c.setting}`]) {
      const v = nameTally.get(key) ?? [0, 0];
      v[0]++;
      if (ok) v[1]++;
      nameTally.set(key, v);
    }
    if (!ok && verbose) console.log(`  miss PERSON_NAME ${c.form} (${c.setting}): ${JSON.stringify(c.text)}`);
  }
  console.log(`person names: whole ${((100 * whole) / names.length).toFixed(1)}%, overlap ${((100 * touched) / names.length).toFixed(1)}% (${names.length} cases)`);
  for (const group of ['form', 'place']) {
    const rows = [...nameTally].filter(([k]) => k.startsWith(`${group} `)).sort();
    console.log(`  by ${group}: ${rows.map(([k, v]) => `${k.slice(group.length + 1)} ${pct(v).trim()}`).join(', ')}`);
  }
  console.log(`hard negatives (set 4): findings on ${flagged} of ${negatives.length} number-rich clinical lines`);
  for (const [t, f] of fps.slice(0, verbose ? fps.length : 3)) console.log(`  ${JSON.stringify(t)} → ${f.join(', ')}`);
  if (verbose) for (const c of misses) console.log(`  miss ${c.type} ${c.disguise} ${c.setting}: ${JSON.stringify(c.text)}`);
  return { recall: found / cases.length, contextRecall: ctxFound / ctx.length, dateRecall: datesFound / dates.length, phoneRecall: phonesFound / phones.length, nameRecall: whole / names.length, negativesFlagged: flagged };
}
