/** Types of hostile.mjs. */
/** `unit` repeated to exactly `size` UTF-16 units. */
export function fill(unit: string, size: number): string;
/** Named hostile inputs of `size` characters. */
export function hostileInputs(size: number): Record<string, string>;
