/**
 * `npm run demo`: starts the lab-results API in-process on an ephemeral port (embedded
 * development secrets, audit captured in memory), asks for the same patient's results as
 * three different callers, shows two refusals, prints the audit trail, and exits.
 */
import type { AddressInfo } from 'node:net';
import type { AuditEvent } from '@phiguard/core';
import { createApp } from './app.js';
import { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, signToken } from './auth.js';
import { memoryLog } from './memory-log.js';

const PURPOSES: Record<string, string> = {
  TREAT: 'treatment',
  ETREAT: 'emergency treatment',
  HPAYMT: 'payment',
  HOPERAT: 'health care operations',
  HRESCH: 'research',
  PATRQT: 'patient request',
  HLEGAL: 'legal',
};

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);
const out = (s = '') => process.stdout.write(`${s}\n`);
// `npm run demo | head` closes the pipe early: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const heading = (s: string) => {
  out();
  out(bold(`── ${s} ${'─'.repeat(Math.max(3, 86 - s.length))}`));
};

interface Call {
  readonly title: string;
  readonly roles: readonly string[];
  readonly purpose?: string;
}

async function main(): Promise<void> {
  const audit = memoryLog();
  const app = createApp({ jwtSecret: DEV_JWT_SECRET, phiguardSecret: DEV_PHIGUARD_SECRET, logger: audit.logger });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const get = async ({ roles, purpose }: Call) => {
    const token = await signToken({ sub: `demo-${roles.join('+')}`, roles }, DEV_JWT_SECRET);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'user-agent': 'phiguard-demo' };
    if (purpose !== undefined) headers['x-purpose-of-use'] = purpose;
    const res = await fetch(`${base}/patients/1001/results`, { headers });
    return { res, text: await res.text() };
  };

  try {
    out(bold('phiguard demo: minimum necessary on a lab-results API'));
    out(`Example app examples/express-lab-results on ${base} (embedded development secrets).`);
    out('Its handler returns the same full document for GET /patients/1001/results to every caller:');
    out('demographics (name, MRN, SSN, address, phone, e-mail, birth date) and two lab reports with');
    out('values, reference ranges, interpretations and comments that quote the patient\'s name and phone.');
    out('phiguard cuts it down per role and purpose of use (X-Purpose-Of-Use), then audits the response.');

    const allowed: Call[] = [
      { title: 'ordering-provider', roles: ['ordering-provider'], purpose: 'TREAT' },
      { title: 'billing', roles: ['billing'], purpose: 'HPAYMT' },
      { title: 'researcher', roles: ['researcher'], purpose: 'HRESCH' },
    ];
    let n = 0;
    for (const call of allowed) {
      const { res, text } = await get(call);
      heading(`${++n}. ${call.title}, purpose ${call.purpose} (${PURPOSES[call.purpose!]})`);
      out(dim(`GET /patients/1001/results → ${res.status}, Cache-Control: ${res.headers.get('cache-control')}, ${text.length} bytes`));
      const body = JSON.parse(text) as { reports?: unknown[] };
      const more = Array.isArray(body.reports) ? body.reports.length - 1 : 0;
      if (more > 0) body.reports = body.reports!.slice(0, 1);
      out(pretty(body));
      if (more > 0) out(dim(`(first report shown; ${more} more in the response)`));
    }

    const refused: Call[] = [
      { title: 'a role the policy does not know ("janitor"), purpose TREAT', roles: ['janitor'], purpose: 'TREAT' },
      { title: 'ordering-provider with no X-Purpose-Of-Use header', roles: ['ordering-provider'] },
    ];
    for (const call of refused) {
      const { res, text } = await get(call);
      heading(`${++n}. ${call.title}`);
      out(`${res.status} ${text}`);
      out(dim('Refused before the handler ran; the refusal is audited.'));
    }

    const events = audit.auditEvents();
    heading(`Audit trail: ${events.length} events, captured from the pino logger`);
    out(dim('Paths and operators, a keyed patient reference: never a value, a name or the patient id.'));
    for (const e of events) out(summary(e));
    out();
    out(bold('The audit lines as written (one JSON line per event):'));
    for (const line of audit.lines) out(line);
    out();
    out(`Next: ${bold('npm start -w examples/express-lab-results')} and curl it (examples/express-lab-results/README.md),`);
    out(`or ${bold('npm test')} for the test suites.`);
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** JSON on one line, with a space after `,` and `:`. */
function flat(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(flat).join(', ')}]`;
  const entries = Object.entries(value);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${flat(v)}`).join(', ')} }`;
}

/** Indented JSON that keeps anything fitting in `width` columns on one line, so a body fits a screen. */
function pretty(value: unknown, indent = '', used = 0, width = 120): string {
  const one = flat(value);
  if (value === null || typeof value !== 'object' || used + one.length <= width) return one;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + pretty(v, inner, inner.length, width)).join(',\n')}\n${indent}]`;
  }
  const lines = Object.entries(value).map(([k, v]) => {
    const key = `${inner}${JSON.stringify(k)}: `;
    return key + pretty(v, inner, key.length, width);
  });
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

function summary(e: AuditEvent): string {
  const who = `${e.actor.roles.join('+') || '-'} / ${e.purposeOfUse ?? 'no purpose'}`;
  const what =
    e.outcome === 'success'
      ? `sent ${e.disclosed?.length ?? 0} fields` +
        Object.entries(e.transforms ?? {})
          .map(([path, op], i) => `${i === 0 ? '; ' : ', '}${path} → ${op}`)
          .join('')
      : `reason ${e.reason}`;
  return `  ${e.action.padEnd(5)} ${e.outcome.padEnd(8)} ${who.padEnd(32)} ${e.patient?.ref ?? '(no patient ref)'}  ${what}`;
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
