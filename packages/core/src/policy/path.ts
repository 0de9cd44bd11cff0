/**
 * Field paths: `patient.name`, `results[].value`, `meta.*`, `[].id` (top-level array).
 * A segment is a key, `[]` (each array element) or `*` (any key of an object).
 */
export const ELEMENT = '[]';
export const ANY_KEY = '*';

const KEY = /^[^.[\]\s]+$/;

/** Splits a path into segments, or returns an error message (never throws). */
export function parsePath(path: string): string[] | string {
  if (typeof path !== 'string' || path.length === 0) return 'a field path must be a non-empty string';
  const segments: string[] = [];
  let rest = path;
  while (rest.startsWith(ELEMENT)) {
    segments.push(ELEMENT);
    rest = rest.slice(2);
  }
  if (rest.startsWith('.')) rest = rest.slice(1);
  if (rest.length === 0) return segments.length > 0 ? segments : `path "${path}" is empty`;
  for (const part of rest.split('.')) {
    let name = part;
    let elements = 0;
    while (name.endsWith(ELEMENT)) {
      name = name.slice(0, -2);
      elements++;
    }
    if (!KEY.test(name)) {
      return `path "${path}" has an invalid segment "${part}" (use key, key[] or *, separated by dots)`;
    }
    segments.push(name);
    for (let i = 0; i < elements; i++) segments.push(ELEMENT);
  }
  return segments;
}

/** Joins segments back into the canonical path spelling. */
export function formatPath(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) {
    if (s === ELEMENT) out += ELEMENT;
    else out += out.length === 0 ? s : `.${s}`;
  }
  return out;
}

/** Reads the value at a concrete (wildcard- and element-free) path, or undefined. */
export function readPath(value: unknown, segments: readonly string[]): unknown {
  let cur = value;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}
