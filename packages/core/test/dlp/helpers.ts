/** Shared helpers of the DLP suites. */
import { createScanner, type Finding, type PhiType, type ScannerOptions } from '../../src/dlp/index.js';

const scanner = createScanner();

/** The findings of the default scanner as [type, matched text] pairs. */
export function found(text: string, options?: ScannerOptions): Array<[PhiType, string]> {
  const s = options === undefined ? scanner : createScanner(options);
  return s.scan(text).map((f) => [f.type, text.slice(f.start, f.end)]);
}

/** The matched texts of findings of `type`. */
export function textsOf(text: string, type: PhiType): string[] {
  return scanner
    .scan(text)
    .filter((f) => f.type === type)
    .map((f) => text.slice(f.start, f.end));
}

/** The types found in `text`. */
export function typesIn(text: string): PhiType[] {
  return scanner.scan(text).map((f: Finding) => f.type);
}
