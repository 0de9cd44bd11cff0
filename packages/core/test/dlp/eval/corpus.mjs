/**
 * The labeled DLP evaluation set: loader and scoring, shared by the Vitest thresholds test and
 * `node test/eval/dlp.mjs`.
 *
 * Authoring format (*.txt in this folder): lines starting with '#' are comments; a line holding
 * only '---' separates documents; an entity is written inline as {{TYPE|text}}. The loader
 * strips the markup and records each entity's offsets in the plain text. `hard-negatives.txt`
 * holds one negative sample per line: the scanner must report nothing on any of them.
 * `holdout/` holds documents written after the detectors, reported separately by
 * test/eval/dlp.mjs and not asserted on.
 *
 * Matching rule: a labeled entity is found (true positive for recall) when a finding of the same
 * type overlaps its span; a finding is correct (for precision) when it overlaps a labeled entity
 * of its type. A finding that overlaps nothing labeled, or only labels of other types, is a false
 * positive.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const EVAL_DIR = fileURLToPath(new URL('.', import.meta.url));

const LABEL = /\{\{([A-Z_0-9]+)\|([^{}]*)\}\}/g;

/** Parses one labeled document. */
export function parseDocument(source) {
  let text = '';
  const labels = [];
  let pos = 0;
  for (const m of source.matchAll(LABEL)) {
    text += source.slice(pos, m.index);
    const start = text.length;
    text += m[2];
    labels.push({ type: m[1], start, end: text.length, text: m[2] });
    pos = m.index + m[0].length;
  }
  text += source.slice(pos);
  return { text, labels };
}

/** Loads the evaluation set: labeled documents and hard-negative lines. */
export function loadCorpus(dir = EVAL_DIR) {
  const docs = [];
  let negatives = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    const raw = readFileSync(join(dir, file), 'utf8');
    const lines = raw.split('\n').filter((l) => !l.startsWith('#'));
    if (file === 'hard-negatives.txt') {
      negatives = lines.filter((l) => l.trim() !== '');
      continue;
    }
    const chunks = [];
    let cur = [];
    for (const l of lines) {
      if (l === '---') {
        chunks.push(cur.join('\n'));
        cur = [];
      } else cur.push(l);
    }
    chunks.push(cur.join('\n'));
    for (const c of chunks) {
      const body = c.replace(/^\n+|\n+$/g, '');
      if (body !== '') docs.push({ file, ...parseDocument(body) });
    }
  }
  return { docs, negatives };
}

export const TYPES = [
  'PERSON_NAME', 'STREET_ADDRESS', 'ZIP_CODE', 'DATE', 'AGE_OVER_89', 'PHONE', 'FAX', 'EMAIL', 'SSN', 'MRN',
  'HEALTH_PLAN_ID', 'ACCOUNT_NUMBER', 'LICENSE_NUMBER', 'NPI', 'DEA_NUMBER', 'VEHICLE_ID', 'DEVICE_ID', 'URL',
  'IP_ADDRESS', 'CREDIT_CARD',
];

const overlaps = (a, b) => a.start < b.end && b.start < a.end;

/**
 * Scores span predictions. `predict(text)` returns [{ type, start, end }]. Returns per-type
 * { labels, found, predicted, correct, precision, recall, f2 } and the misses / false positives.
 */
export function score(docs, predict) {
  const per = Object.fromEntries(TYPES.map((t) => [t, { labels: 0, found: 0, predicted: 0, correct: 0 }]));
  const misses = [];
  const falsePositives = [];
  for (const doc of docs) {
    const preds = predict(doc.text);
    for (const l of doc.labels) {
      const row = per[l.type];
      row.labels++;
      if (preds.some((p) => p.type === l.type && overlaps(p, l))) row.found++;
      else misses.push({ file: doc.file, type: l.type, text: l.text, got: preds.filter((p) => overlaps(p, l)).map((p) => p.type) });
    }
    for (const p of preds) {
      const row = per[p.type];
      if (row === undefined) continue;
      row.predicted++;
      if (doc.labels.some((l) => l.type === p.type && overlaps(p, l))) row.correct++;
      else falsePositives.push({ file: doc.file, type: p.type, text: doc.text.slice(p.start, p.end) });
    }
  }
  for (const row of Object.values(per)) finish(row);
  return { per, misses, falsePositives };
}

function finish(row) {
  row.precision = row.predicted === 0 ? (row.labels === 0 ? 1 : 0) : row.correct / row.predicted;
  row.recall = row.labels === 0 ? 1 : row.found / row.labels;
  const p = row.precision;
  const r = row.recall;
  row.f2 = p + r === 0 ? 0 : (5 * p * r) / (4 * p + r);
  return row;
}

/**
 * Recall for a redactor that only returns redacted text: an entity counts as found when its text
 * no longer appears in the output; per-type precision uses the spans recovered from the redactor's
 * category markers (`recoverSpans`).
 */
export function scoreRedactor(docs, redactSpans) {
  const per = Object.fromEntries(TYPES.map((t) => [t, { labels: 0, found: 0, predicted: 0, correct: 0 }]));
  for (const doc of docs) {
    const { output, spans } = redactSpans(doc.text);
    for (const l of doc.labels) {
      const row = per[l.type];
      row.labels++;
      if (!output.includes(l.text)) row.found++;
    }
    for (const p of spans) {
      const row = per[p.type];
      if (row === undefined) continue;
      row.predicted++;
      if (doc.labels.some((l) => l.type === p.type && overlaps(p, l))) row.correct++;
    }
  }
  for (const row of Object.values(per)) finish(row);
  return { per };
}

/**
 * Spans of the original text that a marker-based redaction replaced. `output` is `text` with
 * some substrings replaced by markers matched by `markerRe` (group 1 = category); the literal
 * pieces between markers are located in `text` in order, and what lies between them is a span.
 */
export function recoverSpans(text, output, markerRe, typeOf) {
  const spans = [];
  let tpos = 0;
  let opos = 0;
  let pending = [];
  const flush = (end) => {
    if (pending.length > 0 && end > tpos) {
      const type = typeOf(pending[0]);
      if (type !== undefined) spans.push({ type, start: tpos, end });
    }
    pending = [];
  };
  for (const m of output.matchAll(markerRe)) {
    const literal = output.slice(opos, m.index);
    if (literal.length > 0) {
      const at = text.indexOf(literal, tpos);
      if (at < 0) break;
      flush(at);
      tpos = at + literal.length;
    }
    pending.push(m[1]);
    opos = m.index + m[0].length;
  }
  const tail = output.slice(opos);
  flush(tail.length > 0 ? text.indexOf(tail, tpos) : text.length);
  return spans;
}

/**
 * Ordinary clinical text of at least `bytes` characters, built from the labeled documents (the
 * evasion samples excepted: ordinary text is what clinicians type, not an attack).
 */
export function ordinaryText(docs, bytes = 1 << 20) {
  const plain = docs
    .filter((d) => d.file !== 'evasions.txt')
    .map((d) => d.text)
    .join('\n\n');
  let out = '';
  while (out.length < bytes) out += plain + '\n\n';
  return out;
}
