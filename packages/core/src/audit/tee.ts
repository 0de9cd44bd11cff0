import { optionIssue } from '../options.js';
import type { AuditBatchSink, AuditEvent, AuditSink } from './event.js';

/** A sink writing to several; see {@link teeSink}. */
export interface TeeAuditSink extends AuditBatchSink {
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Writes every event to each sink, in order of the arguments. The write fails (the event is
 * not recorded, PHI is not released) if any sink fails; a retry may then re-deliver to the
 * sinks that succeeded, which the event id makes harmless.
 */
export function teeSink(...sinks: AuditSink[]): TeeAuditSink {
  const bad = sinks.findIndex((s) => s === null || typeof s !== 'object' || typeof s.write !== 'function');
  if (sinks.length === 0 || bad >= 0) {
    throw optionIssue('createTeeSink', sinks.length === 0 ? 'sinks' : `sinks.${bad}`, 'one or more audit sinks (objects with write(event))', sinks[bad], sinks.length === 0 ? 'missing' : 'type');
  }
  const each = async (name: 'flush' | 'close'): Promise<void> => {
    for (const s of sinks) {
      const fn = (s as Partial<Record<'flush' | 'close', () => Promise<void>>>)[name];
      if (typeof fn === 'function') await fn.call(s);
    }
  };
  const writeOne = (event: AuditEvent): void | Promise<void> => {
    const pending: Promise<void>[] = [];
    for (const s of sinks) {
      const r = s.write(event);
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') pending.push(r as Promise<void>);
    }
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  };
  return {
    write: writeOne,
    async writeBatch(events: readonly AuditEvent[]) {
      await Promise.all(
        sinks.map(async (s) => {
          const batch = (s as Partial<AuditBatchSink>).writeBatch;
          if (typeof batch === 'function') await batch.call(s, events);
          else for (const e of events) await s.write(e);
        }),
      );
    },
    flush: () => each('flush'),
    close: () => each('close'),
  };
}
