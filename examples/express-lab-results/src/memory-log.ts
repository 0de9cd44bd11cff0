import { pino, type Logger } from 'pino';
import type { AuditEvent } from '@phiguard/core';

/** A pino logger whose JSON lines are kept in memory (the demo prints them; tests read them). */
export interface MemoryLog {
  readonly logger: Logger;
  /** Every line written so far, as written. */
  readonly lines: string[];
  /** The phiguard audit events among them (`{"audit":{…},"msg":"phiguard.audit"}`). */
  auditEvents(): AuditEvent[];
  clear(): void;
}

export function memoryLog(): MemoryLog {
  const lines: string[] = [];
  // pino calls write() synchronously with one complete line per entry, so an event is here by
  // the time the response it describes has been sent.
  const logger = pino({ base: undefined }, { write: (line: string) => void lines.push(line.trimEnd()) });
  return {
    logger,
    lines,
    auditEvents: () =>
      lines
        .map((l) => JSON.parse(l) as { msg?: string; audit?: AuditEvent })
        .filter((l) => l.msg === 'phiguard.audit' && l.audit !== undefined)
        .map((l) => l.audit!),
    clear: () => {
      lines.length = 0;
    },
  };
}
