import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createScanner, dlpLogFormatter, dlpLogMethod, dlpPinoOptions } from '../../src/dlp/index.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { stream, lines: () => lines.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('pino integration', () => {
  it('redacts log objects, messages, interpolation arguments and child bindings', () => {
    const { stream, lines } = capture();
    const logger = pino({ ...dlpPinoOptions(createScanner()) }, stream);
    logger.info({ note: 'SSN 123-45-6789', n: 3, nested: { email: 'a@example.com' } }, 'called from %s', '617-555-0143');
    logger.child({ patient: 'MRN: 00482913' }).warn('fax to 617-555-0101 failed');
    const [first, second] = lines();
    expect(first).toMatchObject({ note: 'SSN [SSN]', n: 3, nested: { email: '[EMAIL]' }, msg: 'called from [PHONE]' });
    expect(second).toMatchObject({ patient: 'MRN: [MRN]', msg: 'fax to [FAX] failed', level: 40 });
    const raw = JSON.stringify(lines());
    for (const value of ['123-45-6789', 'a@example.com', '617-555-0143', '00482913']) expect(raw).not.toContain(value);
  });
  it('keeps non-JSON lines working (redacted as text)', () => {
    const write = dlpPinoOptions().hooks.streamWrite;
    expect(write('plain SSN 123-45-6789\n')).toBe('plain SSN [SSN]\n');
    expect(write('{"msg":"SSN 123-45-6789"}\n')).toBe('{"msg":"SSN [SSN]"}\n');
  });
  it('dlpLogFormatter and dlpLogMethod work as formatters.log and hooks.logMethod, with the mask style', () => {
    const { stream, lines } = capture();
    const scanner = createScanner();
    const logger = pino(
      { formatters: { log: dlpLogFormatter(scanner, { style: 'mask' }) }, hooks: { logMethod: dlpLogMethod(scanner) } },
      stream,
    );
    logger.info({ ssn: '123-45-6789' }, 'hello %s', 'a@example.com');
    expect(lines()[0]).toMatchObject({ ssn: '***********', msg: 'hello [EMAIL]' });
  });
  it('dlpLogFormatter works alone as formatters.log, with the mask style', () => {
    const { stream, lines } = capture();
    const logger = pino({ formatters: { log: dlpLogFormatter(createScanner(), { style: 'mask' }) } }, stream);
    logger.info({ ssn: '123-45-6789' }, 'hello');
    expect(lines()[0]).toMatchObject({ ssn: '***********', msg: 'hello' });
  });
  it('does not mutate the logged object', () => {
    const { stream } = capture();
    const logger = pino({ ...dlpPinoOptions() }, stream);
    const obj = { note: 'SSN 123-45-6789' };
    logger.info(obj);
    expect(obj.note).toBe('SSN 123-45-6789');
  });
});
