/**
 * HL7 v2 segments: identifiers sit in known fields, so PID, NK1, PV1 and IN1 are read by field
 * position (PID-3 identifiers, PID-5 name, PID-7 birth date, PID-11 address, PID-13/14 phones,
 * PID-18 account, PID-19 SSN; NK1-2 name, NK1-5 phone; PV1-7/8/9/17 clinician names; IN1-36
 * policy number). Free-text detectors still run over the same text.
 */
import type { PhiType } from '../types.js';
import { validDate, validSsn } from '../validate.js';
import { isDigit, type ScanState } from './state.js';

/** Field positions: segment → [field number, handler]. */
type Handler = (s: ScanState, start: number, end: number) => void;

const span = (type: PhiType, confidence = 0.9): Handler => (s, a, b) => {
  if (b > a) s.emit(type, a, b, confidence);
};

/** First component of each repetition (CX identifiers "00482913^^^MGH^MR"). */
const firstComponent = (type: PhiType): Handler => (s, a, b) => {
  let p = a;
  while (p < b) {
    let e = p;
    while (e < b && s.text.charCodeAt(e) !== 94 && s.text.charCodeAt(e) !== 126) e++;
    if (e > p) s.emit(type, p, e, 0.9);
    while (e < b && s.text.charCodeAt(e) !== 126) e++;
    p = e + 1;
  }
};

/** XPN name: family^given^middle → one span from family to the last non-empty name part. */
const xpn = (offset: number): Handler => (s, a, b) => {
  const comps = components(s.text, a, b);
  let start = -1;
  let end = -1;
  for (let k = offset; k < Math.min(comps.length, offset + 3); k++) {
    const [cs, ce] = comps[k]!;
    if (ce > cs) {
      if (start < 0) start = cs;
      end = ce;
    }
  }
  if (start >= 0) s.emit('PERSON_NAME', start, end, 0.95);
};

/** XAD address: street^other^city^state^zip. */
const xad: Handler = (s, a, b) => {
  const comps = components(s.text, a, b);
  const street = comps[0];
  if (street && street[1] > street[0]) s.emit('STREET_ADDRESS', street[0], street[1], 0.95);
  const zip = comps[4];
  if (zip && zip[1] > zip[0]) s.emit('ZIP_CODE', zip[0], zip[1], 0.95);
};

/** TS date: YYYYMMDD[hhmm…]: the date part. */
const ts: Handler = (s, a, b) => {
  const t = s.text;
  if (b - a < 8) return;
  for (let k = a; k < a + 8; k++) if (!isDigit(t.charCodeAt(k))) return;
  const y = Number(t.slice(a, a + 4));
  if (validDate(y, Number(t.slice(a + 4, a + 6)), Number(t.slice(a + 6, a + 8)))) s.emit('DATE', a, a + 8, 0.95);
};

const ssn: Handler = (s, a, b) => {
  const digits = s.text.slice(a, b).replace(/-/g, '');
  if (digits.length === 9 && /^\d{9}$/.test(digits) && validSsn(Number(digits.slice(0, 3)), Number(digits.slice(3, 5)), Number(digits.slice(5)))) {
    s.emit('SSN', a, b, 0.97);
  }
};

const phone = (s: ScanState, a: number, b: number) => {
  const comps = components(s.text, a, b);
  const first = comps[0];
  if (first && first[1] > first[0]) s.emit('PHONE', first[0], first[1], 0.9);
};

const SEGMENTS: Record<string, ReadonlyArray<readonly [number, Handler]>> = {
  PID: [
    [2, firstComponent('MRN')],
    [3, firstComponent('MRN')],
    [5, xpn(0)],
    [6, xpn(0)],
    [7, ts],
    [11, xad],
    [13, phone],
    [14, phone],
    [18, firstComponent('ACCOUNT_NUMBER')],
    [19, ssn],
    [20, span('LICENSE_NUMBER')],
  ],
  NK1: [
    [2, xpn(0)],
    [4, xad],
    [5, phone],
    [6, phone],
  ],
  PV1: [
    [7, xpn(1)],
    [8, xpn(1)],
    [9, xpn(1)],
    [17, xpn(1)],
  ],
  IN1: [
    [16, xpn(0)],
    [19, xad],
    [36, span('HEALTH_PLAN_ID')],
  ],
  GT1: [
    [3, xpn(0)],
    [5, xad],
    [6, phone],
    [8, ts],
    [12, ssn],
  ],
};

/** Component spans ('^'-separated) of the field text[a, b), first repetition only. */
function components(text: string, a: number, b: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let p = a;
  for (let e = a; e <= b; e++) {
    const c = e < b ? text.charCodeAt(e) : 124;
    if (c === 94 || e === b || c === 126) {
      out.push([p, e]);
      p = e + 1;
      if (c === 126 || out.length >= 12) break;
    }
  }
  return out;
}

/** Findings in the known fields of HL7 v2 PID, NK1, PV1, IN1 and GT1 segments. */
export function detectHl7(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let bar = text.indexOf('|', from); bar >= 0; bar = text.indexOf('|', from)) {
    from = bar + 1;
    // A segment: three capitals then '|' at the start of a line.
    const st = bar - 3;
    if (st < 0) continue;
    const before = st === 0 ? 10 : text.charCodeAt(st - 1);
    if (before !== 10 && before !== 13) continue;
    const name = text.slice(st, bar);
    const fields = SEGMENTS[name];
    if (fields === undefined) continue;
    let lineEnd = text.length;
    for (let k = bar; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c === 10 || c === 13) {
        lineEnd = k;
        break;
      }
    }
    // Field n starts after the n-th '|'.
    let fieldNo = 1;
    let fs = bar + 1;
    let fi = 0;
    for (let k = bar + 1; k <= lineEnd && fi < fields.length; k++) {
      if (k === lineEnd || text.charCodeAt(k) === 124) {
        while (fi < fields.length && fields[fi]![0] < fieldNo) fi++;
        const f = fields[fi];
        if (f !== undefined && f[0] === fieldNo) f[1](s, fs, k);
        fieldNo++;
        fs = k + 1;
      }
    }
    from = lineEnd;
  }
}
