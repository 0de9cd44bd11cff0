/** Types of corpus.mjs (the DLP evaluation set loader and scoring). */
export interface Label { type: string; start: number; end: number; text: string }
export interface Doc { file: string; text: string; labels: Label[] }
export interface Span { type: string; start: number; end: number }
export interface Row { labels: number; found: number; predicted: number; correct: number; precision: number; recall: number; f2: number }
export const EVAL_DIR: string;
export const TYPES: string[];
export function parseDocument(source: string): { text: string; labels: Label[] };
export function loadCorpus(dir?: string): { docs: Doc[]; negatives: string[] };
export function score(
  docs: Doc[],
  predict: (text: string) => readonly Span[],
): {
  per: Record<string, Row>;
  misses: Array<{ file: string; type: string; text: string; got: string[] }>;
  falsePositives: Array<{ file: string; type: string; text: string }>;
};
export function scoreRedactor(docs: Doc[], redactSpans: (text: string) => { output: string; spans: Span[] }): { per: Record<string, Row> };
export function recoverSpans(text: string, output: string, markerRe: RegExp, typeOf: (category: string) => string | undefined): Span[];
export function ordinaryText(docs: Doc[], bytes?: number): string;
