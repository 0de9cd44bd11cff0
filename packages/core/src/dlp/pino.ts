/**
 * pino integration: an application's own log lines pass through the DLP scanner before they are
 * written.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { createScanner } from '@phiguard/core';
 * import { dlpPinoOptions } from '@phiguard/core/dlp';
 *
 * const logger = pino({ ...dlpPinoOptions(createScanner()) });
 * logger.child({ patient: 'MRN: 00482913' }).info({ note: 'SSN 123-45-6789' }, 'call %s', '617-555-0143');
 * // {"level":30,…,"patient":"MRN: [MRN]","note":"SSN [SSN]","msg":"call [PHONE]"}
 * ```
 */
import type { Scanner } from './scanner.js';
import { getDefaultScanner } from './scanner.js';
import type { RedactStyle } from './walk.js';

/** Options of the pino helpers. */
export interface DlpLogOptions {
  /** `'type'` (default) writes `[SSN]`; `'mask'` writes `*`s. */
  readonly style?: RedactStyle;
}

/**
 * A pino `formatters.log` function: returns a copy of the log object with every string redacted
 * (the message string is not part of that object: see `dlpLogMethod`).
 */
export function dlpLogFormatter(scanner: Scanner = getDefaultScanner(), options: DlpLogOptions = {}) {
  const style = options.style ?? 'type';
  return function phiguardDlpLogFormatter(object: Record<string, unknown>): Record<string, unknown> {
    return scanner.redactObject(object, { style }).value;
  };
}

/**
 * A pino `hooks.logMethod` function: redacts the message and its string interpolation arguments
 * before pino formats them.
 */
export function dlpLogMethod(scanner: Scanner = getDefaultScanner(), options: DlpLogOptions = {}) {
  const style = options.style ?? 'type';
  return function phiguardDlpLogMethod(
    this: unknown,
    args: unknown[],
    method: (...args: unknown[]) => void,
  ): void {
    const fixed = args.map((a) => (typeof a === 'string' ? scanner.redact(a, { style }) : a));
    method.apply(this, fixed);
  };
}

/**
 * A pino `hooks.streamWrite` function: redacts the whole serialized line just before it is
 * written, so messages, log objects, child-logger bindings and serializer output are all covered.
 * A JSON line is parsed, redacted string by string and serialized again (it stays valid JSON);
 * anything else is redacted as text.
 */
export function dlpStreamWrite(scanner: Scanner = getDefaultScanner(), options: DlpLogOptions = {}) {
  const style = options.style ?? 'type';
  return function phiguardDlpStreamWrite(line: string): string {
    const body = line.endsWith('\n') ? line.slice(0, -1) : line;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return scanner.redact(line, { style });
    }
    return JSON.stringify(scanner.redactObject(parsed, { style }).value) + (body === line ? '' : '\n');
  };
}

/**
 * pino options that redact every log line: spread them into your own options
 * (`pino({ ...dlpPinoOptions(scanner), level: 'info' })`). They set `hooks.streamWrite` (see
 * `dlpStreamWrite`), which also covers child-logger bindings; pino applies `formatters.bindings`
 * to the root logger only, so `dlpLogFormatter` and `dlpLogMethod` alone do not.
 */
export function dlpPinoOptions(scanner: Scanner = getDefaultScanner(), options: DlpLogOptions = {}) {
  return { hooks: { streamWrite: dlpStreamWrite(scanner, options) } };
}
