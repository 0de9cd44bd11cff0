/**
 * Which sensitive categories an element is in, from its codes and security tags. Shared by
 * every reader of sensitive elements (plans, Safe Harbor, exports) so that one element gets one
 * answer everywhere. Fails closed: an element with more codes and tags than are read, or too
 * deep a structure to read them from, counts as in every category.
 */
import type { CompiledSensitive } from './access.js';

/** Codes and tags read per element; beyond it the element is treated as in every category. */
export const MAX_ELEMENT_CODES = 64;
/** Values (objects, arrays, strings) visited per element while looking for codes. */
const MAX_VISITS = 1024;

/** Codes match whatever the spacing and case they were written with (`' 20447-9 '`, `'hiv'`). */
export const normalizeCode = (code: string): string => code.trim().toUpperCase();

/** @internal code or tag → the categories it puts an element in. */
export interface CategoryIndex {
  readonly byCode: ReadonlyMap<string, readonly number[]>;
  readonly byTag: ReadonlyMap<string, readonly number[]>;
}

const indexes = new WeakMap<CompiledSensitive, CategoryIndex>();

/** @internal */
export function categoryIndex(rule: CompiledSensitive): CategoryIndex {
  let index = indexes.get(rule);
  if (index !== undefined) return index;
  const byCode = new Map<string, number[]>();
  const byTag = new Map<string, number[]>();
  rule.categories.forEach((c, i) => {
    for (const code of c.codes) byCode.set(normalizeCode(code), [...(byCode.get(normalizeCode(code)) ?? []), i]);
    for (const tag of c.tags) byTag.set(normalizeCode(tag), [...(byTag.get(normalizeCode(tag)) ?? []), i]);
  });
  index = { byCode, byTag };
  indexes.set(rule, index);
  return index;
}

interface Budget {
  strings: number;
  visits: number;
}

// A code with no small letter, no whitespace and nothing beyond ASCII is its own normalized form.
const NEEDS_NORMALIZING = /[a-z\s\u0080-\uffff]/;

/**
 * Adds to `found` the categories of every string (and number) at `segments`, looked up in
 * `byCode`; false when the budget ran out.
 */
function collect(value: unknown, segments: readonly string[], i: number, byCode: ReadonlyMap<string, readonly number[]>, found: number[], budget: Budget): boolean {
  if (++budget.visits > MAX_VISITS) return false;
  if (i === segments.length) {
    if (typeof value === 'string' || typeof value === 'number') {
      if (++budget.strings > MAX_ELEMENT_CODES) return false;
      const code = String(value);
      const categories = byCode.get(NEEDS_NORMALIZING.test(code) ? normalizeCode(code) : code);
      if (categories !== undefined) for (const c of categories) found.push(c);
    } else if (Array.isArray(value)) {
      // A list where one code was expected: every entry counts.
      for (const v of value) if (!collect(v, segments, i, byCode, found, budget)) return false;
    }
    return true;
  }
  if (value === null || typeof value !== 'object') return true;
  if (segments[i] === '[]') {
    if (Array.isArray(value)) for (const v of value) if (!collect(v, segments, i + 1, byCode, found, budget)) return false;
    return true;
  }
  if (Array.isArray(value) || !Object.hasOwn(value, segments[i]!)) return true;
  return collect((value as Record<string, unknown>)[segments[i]!], segments, i + 1, byCode, found, budget);
}

/**
 * The indexes of the categories `element` is in (duplicates possible), or null when its codes
 * and tags could not all be read within the caps: the caller must then withhold or refuse.
 */
export function categoriesOf(
  element: object,
  where: { readonly codes: readonly string[] | null; readonly tags: readonly string[] | null },
  index: CategoryIndex,
): number[] | null {
  const budget: Budget = { strings: 0, visits: 0 };
  const found: number[] = [];
  if (where.codes !== null && !collect(element, where.codes, 0, index.byCode, found, budget)) return null;
  if (where.tags !== null && !collect(element, where.tags, 0, index.byTag, found, budget)) return null;
  return found;
}
