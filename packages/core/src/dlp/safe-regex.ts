/**
 * Safety check for user-supplied regular expressions (institution patterns, pattern detectors).
 * V8's engine backtracks, so a pattern like /(a+)+$/ can take exponential time on hostile text.
 * We accept only patterns whose running time per starting position is bounded:
 * no backreferences, no unbounded quantifiers (*, +, {n,}), no repeated group (anything but an
 * optional `?` / `{0,1}`) that itself holds a quantifier or an alternation, and bounds n ≤ 100.
 */
import { OptionsError } from '../errors.js';

/** Throws an OptionsError naming `where` when `re` may backtrack super-linearly. */
export function assertSafeRegex(re: RegExp, where: string): void {
  const src = re.source;
  const fail = (why: string) => {
    throw new OptionsError(
      `${where}: the pattern is rejected because ${why}. Patterns must run in linear time: use bounded ` +
        `repetition such as \\d{6,10} or [A-Z0-9]{1,12}, no backreferences and no quantified groups ` +
        `containing quantifiers or alternatives.`,
    );
  };
  if (src.length > 500) fail('it is longer than 500 characters');
  // Per open group: does it contain a quantifier or a '|'?
  const stack: Array<{ quantified: boolean; alt: boolean }> = [];
  let inClass = false;
  let lastClosedGroup: { quantified: boolean; alt: boolean } | undefined;
  const markQuantified = () => {
    for (const g of stack) g.quantified = true;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const closedGroup = lastClosedGroup;
    lastClosedGroup = undefined;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(n) || n === 'k')) fail('it uses a backreference');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      continue;
    }
    if (c === '(') {
      stack.push({ quantified: false, alt: false });
      // Skip group syntax "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?<name>".
      if (src[i + 1] === '?') {
        i++;
        if (src[i + 1] === '<' && src[i + 2] !== '=' && src[i + 2] !== '!') {
          const close = src.indexOf('>', i);
          if (close > 0) i = close;
        } else i++;
      }
      continue;
    }
    if (c === ')') {
      lastClosedGroup = stack.pop();
      continue;
    }
    if (c === '|') {
      const top = stack[stack.length - 1];
      if (top) top.alt = true;
      continue;
    }
    let quant = false;
    let unbounded = false;
    let lazyMark = false;
    let repeats = true; // may match its operand more than once

    if (c === '*' || c === '+') {
      quant = true;
      unbounded = true;
    } else if (c === '?') {
      quant = true;
      repeats = false;
      // A '?' right after another quantifier makes it lazy: not a quantifier of its own.
      const prev = src[i - 1];
      if (prev === '*' || prev === '+' || prev === '?' || prev === '}') lazyMark = true;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (m) {
        quant = true;
        if (m[2] !== undefined && (m[3] === undefined || m[3] === '')) unbounded = true;
        const max = Number(m[3] || m[1]);
        if (max > 100) fail('a repetition bound is above 100');
        if (max <= 1) repeats = false;
        i += m[0].length - 1;
      }
    }
    if (!quant || lazyMark) continue;
    if (unbounded) fail('it uses an unbounded quantifier (*, + or {n,})');
    // An optional group ("(?:-[A-Z]{1,2})?") cannot multiply the work of what it holds.
    if (repeats && closedGroup && (closedGroup.quantified || closedGroup.alt)) {
      fail('a quantified group contains a quantifier or alternatives (nested quantifiers)');
    }
    markQuantified();
  }
}
