/**
 * Email addresses, URLs and IPv6 addresses. Each is anchored on a cheap landmark ('@', a scheme or
 * "www.", ':') and grown by hand with bounded scans, so no input makes it backtrack.
 */
import { isIPv6 } from 'node:net';
import { isAlnum, isDigit, isLetter, type ScanState } from './state.js';

const isLocalChar = (c: number) => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isDomainChar = (c: number) => isAlnum(c) || c === 45 || c === 46;

/** Email: local part ≤ 64 characters, a dotted domain ≤ 253 with a final label of ≥ 2 letters. */
export function detectEmail(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let at = text.indexOf('@', from); at >= 0; at = text.indexOf('@', from)) {
    from = at + 1;
    let l = at;
    while (l > 0 && at - l < 64 && isLocalChar(text.charCodeAt(l - 1))) l--;
    while (l < at && text.charCodeAt(l) === 46) l++;
    if (l === at) continue;
    let r = at + 1;
    let lastDot = -1;
    while (r < text.length && r - at <= 253 && isDomainChar(text.charCodeAt(r))) {
      if (text.charCodeAt(r) === 46) lastDot = r;
      r++;
    }
    // Trailing dots and hyphens belong to the sentence.
    while (r > at + 1 && (text.charCodeAt(r - 1) === 46 || text.charCodeAt(r - 1) === 45)) r--;
    if (lastDot >= r) {
      // Trimmed past the last dot: find the one before, inside the domain only.
      lastDot = r - 1;
      while (lastDot > at && text.charCodeAt(lastDot) !== 46) lastDot--;
    }
    if (lastDot <= at + 1 || r - lastDot - 1 < 2) continue;
    let tldOk = true;
    for (let k = lastDot + 1; k < r; k++) if (!isLetter(text.charCodeAt(k))) tldOk = false;
    if (!tldOk) continue;
    s.emit('EMAIL', l, r, 0.95);
    from = r;
  }
}

// Schemes and "www." start a URL; the regex is a literal alternation (no quantifiers).
const URL_START = /\b(?:https?:\/\/|ftp:\/\/|www\.)/gi;

/** Hosts of terminology systems (FHIR coding systems): identifiers of code systems, not of people. */
const TERMINOLOGY_HOSTS = ['hl7.org', 'terminology.hl7.org', 'loinc.org', 'snomed.info', 'unitsofmeasure.org', 'www.nlm.nih.gov', 'www.ama-assn.org'];

function isUrlChar(c: number): boolean {
  // Stop at whitespace, quotes, angle brackets, braces, pipes, carets, backslashes and controls.
  return c > 32 && c !== 34 && c !== 39 && c !== 60 && c !== 62 && c !== 123 && c !== 125 && c !== 124 && c !== 94 && c !== 92 && c !== 96 && c < 127;
}

/** URL: scheme (http, https, ftp) or "www.", then URL characters to the first space or quote. */
export function detectUrl(s: ScanState): void {
  const { text } = s;
  URL_START.lastIndex = 0;
  for (let m = URL_START.exec(text); m !== null; m = URL_START.exec(text)) {
    const start = m.index;
    const hostStart = start + m[0].length;
    let r = hostStart;
    while (r < text.length && isUrlChar(text.charCodeAt(r))) r++;
    // Trailing punctuation belongs to the sentence; a closing parenthesis only when the URL has
    // no opening one (looked for inside the URL only, so the cost stays within its length).
    let hasOpen = false;
    for (let k = hostStart; k < r; k++) if (text.charCodeAt(k) === 40) hasOpen = true;
    while (r > hostStart) {
      const c = text.charCodeAt(r - 1);
      if (c === 46 || c === 44 || c === 59 || c === 58 || c === 33 || c === 63) r--;
      else if (c === 41 && !hasOpen) r--;
      else break;
    }
    URL_START.lastIndex = Math.max(r, hostStart);
    if (r - hostStart < 3) continue;
    let hostEnd = hostStart;
    while (hostEnd < r && isDomainChar(text.charCodeAt(hostEnd))) hostEnd++;
    const host = text.slice(m[0].toLowerCase() === 'www.' ? start : hostStart, hostEnd).toLowerCase();
    if (!host.includes('.') && !host.startsWith('localhost')) continue;
    if (TERMINOLOGY_HOSTS.includes(host)) continue;
    s.emit('URL', start, r, 0.9);
  }
}

const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** IPv6: a run of hex digits, ':' and '.' with at least two colons, parsed by `node:net`. */
export function detectIpv6(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let colon = text.indexOf(':', from); colon >= 0; colon = text.indexOf(':', from)) {
    let l = colon;
    while (l > 0 && colon - l < 40 && (isHex(text.charCodeAt(l - 1)) || text.charCodeAt(l - 1) === 58)) l--;
    let r = colon;
    let colons = 0;
    while (r < text.length && r - l <= 45) {
      const c = text.charCodeAt(r);
      if (c === 58) colons++;
      else if (!(isHex(c) || c === 46)) break;
      r++;
    }
    from = r + 1;
    if (r - l > 45 || colons < 2) continue;
    // Glued to a word on either side ("abc:def::1x"): not an address.
    if (isAlnum(text.charCodeAt(l - 1) || 0) || isLetter(text.charCodeAt(r) || 0)) continue;
    while (r > l && text.charCodeAt(r - 1) === 46) r--;
    if (isIPv6(text.slice(l, r))) s.emit('IP_ADDRESS', l, r, 0.9);
  }
}
