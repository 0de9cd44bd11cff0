import { createHash, randomUUID } from 'node:crypto';
import type { AccessContext } from '../context.js';
import { getDefaultScanner, type Scanner } from '../dlp/scanner.js';
import { deliveryEvent, type DeliveryAuditEvent } from './audit.js';
import { ExportError } from './errors.js';
import { DELIVERY_METHODS, DISCLOSURE_BASES, RECIPIENT_TYPES, disclosureDigest, type DeliveryMethod, type DisclosureBasis, type DisclosureDetails, type Recipient } from '../governance/disclosure.js';

/** Who exports what for whom: stamped into every export and its audit event. */
export interface ExportMeta {
  /** Why (an HL7 v3 PurposeOfUse code such as `HPAYMT`, or another short token). */
  readonly purpose: string;
  /** Who receives it: an organization or account reference, not a patient's name. */
  readonly recipient: string;
  /** Who exports it (the principal id). */
  readonly user: string;
  readonly requestId: string;
  /** Default now. */
  readonly time?: Date | string;
  /** Default a random UUID. Ties a leaked file to its audit event. */
  readonly exportId?: string;
}

/** The watermark as written into an export. */
export interface Watermark {
  readonly purpose: string;
  readonly recipient: string;
  readonly user: string;
  readonly time: string;
  readonly requestId: string;
  readonly exportId: string;
  readonly records: number;
  /** Lowercase hex SHA-256 of the data part (the `data` JSON, or the CSV from its header row on). */
  readonly digest: string;
}

/** A finished export. */
export interface ExportResult {
  /** The document to send. */
  readonly body: string;
  readonly contentType: string;
  readonly watermark: Watermark;
}

/** A CSV column: a key of the row objects, optionally with its header text. */
export type CsvColumn = string | { readonly key: string; readonly header?: string };

const TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;
const BARE = /^[A-Za-z0-9._:@/-]{1,256}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function stamp(meta: ExportMeta, records: number, digest: string): Watermark {
  if (meta === null || typeof meta !== 'object') throw new ExportError('export meta must be { purpose, recipient, user, requestId, time? }');
  /* Precondition: every export says why, for whom, by whom, in which request. */
  if (typeof meta.purpose !== 'string' || !TOKEN.test(meta.purpose)) throw new ExportError('export meta: `purpose` must be a PurposeOfUse code or a short token ([A-Za-z0-9._:-], at most 64)');
  for (const key of ['recipient', 'user', 'requestId'] as const) {
    const v = meta[key];
    // A newline here would end the CSV comment line and start a forged row.
    if (typeof v !== 'string' || v.length === 0 || v.length > 256 || CONTROL.test(v)) throw new ExportError(`export meta: \`${key}\` must be a non-empty string of at most 256 characters without control characters`);
  }
  const time = meta.time === undefined ? new Date() : new Date(meta.time);
  if (Number.isNaN(time.getTime())) throw new ExportError('export meta: `time` must be a Date or an ISO-8601 string');
  const exportId = meta.exportId ?? randomUUID();
  if (typeof exportId !== 'string' || !TOKEN.test(exportId)) throw new ExportError('export meta: `exportId` must be a short token');
  return { purpose: meta.purpose, recipient: meta.recipient, user: meta.user, time: time.toISOString(), requestId: meta.requestId, exportId, records, digest };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A watermarked JSON export: `{ "meta": { "watermark": { purpose, recipient, user, time,
 * requestId, exportId, records, digest } }, "data": records }`.
 */
export function exportJson(records: readonly unknown[], meta: ExportMeta): ExportResult {
  if (!Array.isArray(records)) throw new ExportError('exportJson(records, meta): records must be an array');
  let data: string;
  try {
    data = JSON.stringify(records);
  } catch {
    throw new ExportError('exportJson: records must be JSON-serializable (no cycles, no BigInt)');
  }
  const watermark = stamp(meta, records.length, sha256(data));
  return { body: `{"meta":${JSON.stringify({ watermark })},"data":${data}}`, contentType: 'application/json; charset=utf-8', watermark };
}

/** RFC 4180 field, with the spreadsheet formula guard. */
function cell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) text = Number.isNaN(value.getTime()) ? '' : value.toISOString();
  else if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? '';
    } catch {
      throw new ExportError('exportCsv: a cell value is not serializable');
    }
  }
  // OWASP CSV injection: a leading = + - @ (or tab/CR, or those after spaces) starts a formula.
  if (/^[\s]*[=+\-@]/.test(text) || /^[\t\r]/.test(text)) text = `'${text}`;
  // Quoted when it holds a separator, a quote or a line break, or could read as a comment line.
  return /[",\r\n]/.test(text) || text.startsWith('#') ? `"${text.replace(/"/g, '""')}"` : text;
}

function watermarkValue(value: string | number): string {
  const text = String(value);
  return BARE.test(text) ? text : JSON.stringify(text);
}

/**
 * A watermarked CSV export (RFC 4180, CRLF line ends). The first line is a comment:
 * `# phiguard-export purpose=… recipient=… user=… time=… requestId=… exportId=… records=… sha256=…`
 * (values with other characters than `[A-Za-z0-9._:@/-]` JSON-quoted), then the header row and
 * the rows. Cells starting with `= + - @` (or tab / CR) get a leading `'` so that
 * spreadsheets do not run them as formulas.
 */
export function exportCsv(rows: readonly unknown[], columns: readonly CsvColumn[], meta: ExportMeta): ExportResult {
  if (!Array.isArray(rows)) throw new ExportError('exportCsv(rows, columns, meta): rows must be an array of objects');
  if (!Array.isArray(columns) || columns.length === 0) throw new ExportError('exportCsv: columns must list at least one column');
  const cols = columns.map((c: CsvColumn) => {
    const key = typeof c === 'string' ? c : c?.key;
    if (typeof key !== 'string' || key.length === 0) throw new ExportError('exportCsv: each column is a key or { key, header? }');
    return { key, header: typeof c === 'string' ? c : (c.header ?? c.key) };
  });
  const lines = [cols.map((c) => cell(c.header)).join(',')];
  for (const row of rows) {
    if (row === null || typeof row !== 'object') throw new ExportError('exportCsv: each row must be an object');
    // Own properties only: `__proto__` or `constructor` columns never read inherited members.
    lines.push(cols.map((c) => cell(Object.hasOwn(row, c.key) ? (row as Record<string, unknown>)[c.key] : undefined)).join(','));
  }
  const data = `${lines.join('\r\n')}\r\n`;
  const w = stamp(meta, rows.length, sha256(data));
  const comment =
    `# phiguard-export purpose=${watermarkValue(w.purpose)} recipient=${watermarkValue(w.recipient)} user=${watermarkValue(w.user)} ` +
    `time=${w.time} requestId=${watermarkValue(w.requestId)} exportId=${w.exportId} records=${w.records} sha256=${w.digest}`;
  return { body: `${comment}\r\n${data}`, contentType: 'text/csv; charset=utf-8; header=present', watermark: w };
}

/**
 * The disclosure record of an export that leaves the organization (45 CFR 164.528(b)(2)): the
 * same block as a `disclose` event, minus what the export itself fixes (the digest and size of
 * the exact bytes sent, the record count).
 */
export interface ExportDisclosure {
  /** As the registry admitted it (`recipients.admit`): type, id and keyed name reference. */
  readonly recipient: Recipient;
  /** Brief statement of purpose, as the patient reads it in the accounting (no identifiers). */
  readonly purpose: string;
  readonly basis: DisclosureBasis;
  readonly authorizationRef?: string;
  /** Default `download`. */
  readonly deliveryMethod?: DeliveryMethod;
  readonly copyRef?: string;
  readonly channelExceptionRef?: string;
  /** What the rows are (record types, date range); the count is the export's. */
  readonly description?: { readonly recordTypes?: readonly string[]; readonly from?: string; readonly to?: string };
}

/** The disclosure block of an export, checked; the digest is of `body`, every byte sent. */
function exportDisclosure(d: ExportDisclosure, result: ExportResult): DisclosureDetails {
  if (d === null || typeof d !== 'object') throw new ExportError('exportEvent: `disclosure` must be { recipient, purpose, basis, deliveryMethod?, authorizationRef? }');
  const r = d.recipient;
  if (r === null || typeof r !== 'object' || !RECIPIENT_TYPES.includes(r.type) || typeof r.id !== 'string' || r.id === '' || typeof r.nameRef !== 'string' || r.nameRef === '') {
    throw new ExportError('exportEvent disclosure: `recipient` must be { type, id, nameRef } as the recipient registry admits it');
  }
  if (typeof d.purpose !== 'string' || d.purpose.trim() === '' || d.purpose.length > 200 || CONTROL.test(d.purpose)) throw new ExportError('exportEvent disclosure: `purpose` must be a brief statement (at most 200 characters)');
  // The statement is written to audit: it must not carry an identifier.
  if (getDefaultScanner().scan(d.purpose).length > 0) throw new ExportError('exportEvent disclosure: `purpose` holds what looks like an identifier; state the purpose without names, dates or numbers of the patient');
  if (!DISCLOSURE_BASES.includes(d.basis)) throw new ExportError(`exportEvent disclosure: basis must be one of ${DISCLOSURE_BASES.join(', ')}`);
  const method = d.deliveryMethod ?? 'download';
  if (!DELIVERY_METHODS.includes(method)) throw new ExportError(`exportEvent disclosure: deliveryMethod must be one of ${DELIVERY_METHODS.join(', ')}`);
  for (const k of ['authorizationRef', 'copyRef', 'channelExceptionRef'] as const) {
    const v = d[k];
    if (v !== undefined && (typeof v !== 'string' || !TOKEN.test(v))) throw new ExportError(`exportEvent disclosure: \`${k}\` must be a short reference`);
  }
  if (d.basis === 'authorization' && d.authorizationRef === undefined) throw new ExportError('exportEvent disclosure: basis "authorization" needs `authorizationRef`');
  const desc = d.description ?? {};
  const types = desc.recordTypes ?? [];
  if (!Array.isArray(types) || types.some((t) => typeof t !== 'string' || !TOKEN.test(t))) throw new ExportError('exportEvent disclosure: description.recordTypes must be short type names');
  for (const k of ['from', 'to'] as const) {
    if (desc[k] !== undefined && Number.isNaN(Date.parse(String(desc[k])))) throw new ExportError(`exportEvent disclosure: description.${k} must be an ISO-8601 date`);
  }
  return {
    recipient: { type: r.type, id: r.id, nameRef: r.nameRef },
    purpose: d.purpose.trim(),
    basis: d.basis,
    ...(d.authorizationRef === undefined ? {} : { authorizationRef: d.authorizationRef }),
    deliveryMethod: method,
    digest: disclosureDigest(result.body),
    bytes: Buffer.byteLength(result.body, 'utf8'),
    ...(d.copyRef === undefined ? {} : { copyRef: d.copyRef }),
    description: {
      recordTypes: [...new Set(types)].sort(),
      ...(desc.from === undefined ? {} : { from: new Date(desc.from).toISOString() }),
      ...(desc.to === undefined ? {} : { to: new Date(desc.to).toISOString() }),
      records: result.watermark.records,
    },
    ...(d.channelExceptionRef === undefined ? {} : { channelExceptionRef: d.channelExceptionRef }),
  };
}

/**
 * The audit event of an export (action `export`): the watermark's references (export id,
 * purpose, recipient, record count, digest), never a value from the data. With `disclosure`,
 * an export that leaves the organization also carries the disclosure record of a `disclose`
 * event, so the accounting of disclosures lists or leaves it out by the same 164.528 rules.
 */
export function exportEvent(
  result: ExportResult,
  details: { readonly format: 'csv' | 'json'; readonly resource?: string; readonly context?: AccessContext | null; readonly patientRef?: string; readonly disclosure?: ExportDisclosure },
): DeliveryAuditEvent {
  const w = result.watermark;
  const disclosure = details.disclosure === undefined ? undefined : exportDisclosure(details.disclosure, result);
  const context = details.context ?? { principal: { id: w.user }, roles: [], purposeOfUse: w.purpose, request: { requestId: w.requestId } };
  const event = deliveryEvent(
    context,
    'export',
    'success',
    { type: details.resource ?? 'export', id: w.exportId },
    { kind: 'export', exportId: w.exportId, format: details.format, records: w.records, recipient: w.recipient, digest: w.digest },
    { purposeOfUse: w.purpose, ...(details.patientRef === undefined ? {} : { patientRef: details.patientRef }) },
  );
  return disclosure === undefined ? event : { ...event, disclosure };
}

const EXT = /\.[A-Za-z0-9]{1,8}$/;
/** Runs of digits, possibly split by separators: five digits or more may be an id or a date. */
const DIGITS = /\d(?:[\d\s._\-/]*\d)?/g;

/**
 * A file name safe for `Content-Disposition`: identifiers the scanner finds replaced by their
 * type (`DATE`, `MRN`, `PERSON_NAME`), runs of five digits or more by `N`, ASCII only (accents
 * dropped, anything else `_`), at most 80 characters before the extension, which is kept.
 * Names are caught as well as the scanner catches them (labels, titles, its `names` list):
 * prefer generated names (`results-<exportId>.csv`).
 */
export function safeFileName(name: string, scanner: Scanner = getDefaultScanner()): string {
  if (typeof name !== 'string') return 'export';
  const trimmed = name.slice(0, 512).trim();
  const ext = EXT.exec(trimmed)?.[0] ?? '';
  // Underscores and plus signs read as spaces, so the detectors see word boundaries.
  const stem = trimmed.slice(0, trimmed.length - ext.length).replace(/[_+]/g, ' ');
  let out = '';
  let at = 0;
  for (const f of scanner.scan(stem)) {
    if (f.start < at) continue;
    out += `${stem.slice(at, f.start)} ${f.type} `;
    at = f.end;
  }
  out += stem.slice(at);
  out = out
    .replace(DIGITS, (run) => (run.replace(/\D/g, '').length >= 5 ? 'N' : run))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 80)
    .replace(/[._-]+$/g, '');
  return `${out || 'export'}${ext}`;
}
