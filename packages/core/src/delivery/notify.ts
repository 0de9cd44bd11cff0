import { OptionsError } from '../errors.js';
import type { PhiType } from '../dlp/index.js';
import { getDefaultScanner, type Scanner } from '../dlp/scanner.js';
import { NotificationPhiError } from './errors.js';
import { checkKeys } from './util.js';

/** Channels a notification is built for. */
export type NotificationChannel = 'sms' | 'email' | 'push';

/** Generic messages: none names a test, a condition, a clinician or a date. */
export type NotificationTemplate = 'result-ready' | 'document-ready' | 'message-waiting' | 'generic';

/** What {@link buildNotification} takes. */
export interface NotificationInput {
  readonly channel: NotificationChannel;
  readonly template: NotificationTemplate;
  /** The pickup URL: https, no credentials; a pickup token in it is not scanned. */
  readonly link: string;
  /** Greeting name. Refused whenever the scanner takes it for an identifier in the message. */
  readonly recipientName?: string;
  /** Sender shown to the recipient (`Acme Health`). */
  readonly organization?: string;
  /** Lifetime of the link, shown as "expires in N minutes/hours". */
  readonly expiresInMinutes?: number;
  /** Scanner to check with (your names list, institution patterns). Default: the default scanner. */
  readonly scanner?: Scanner;
}

/** A notification ready to send: a generic message and the pickup link, nothing else. */
export interface Notification {
  /** E-mail subject or push title; absent for SMS. */
  readonly subject?: string;
  readonly text: string;
  /** E-mail only. */
  readonly html?: string;
}

const KEYS = ['channel', 'template', 'link', 'recipientName', 'organization', 'expiresInMinutes', 'scanner'];
const CHANNELS: readonly string[] = ['sms', 'email', 'push'];
const TEMPLATES: Readonly<Record<NotificationTemplate, { readonly subject: string; readonly line: string }>> = {
  'result-ready': { subject: 'A new result is available', line: 'A new result is ready in your secure portal.' },
  'document-ready': { subject: 'A new document is available', line: 'A new document is ready in your secure portal.' },
  'message-waiting': { subject: 'You have a new secure message', line: 'You have a new secure message in your portal.' },
  generic: { subject: 'You have a new notification', line: 'You have a new notification in your secure portal.' },
};
/** Stands for the link while the message is scanned; the link itself is checked on its own. */
const PLACEHOLDER = 'the-pickup-link';
const TOKEN = /v1\.[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}/g;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029<>]/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function text(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > max || UNSAFE.test(value)) {
    throw new OptionsError(`buildNotification: \`${field}\` must be a plain string of 1 to ${max} characters (no control characters or markup)`);
  }
  return value.trim();
}

const typesOf = (findings: readonly { readonly type: PhiType }[]) => [...new Set(findings.map((f) => f.type))];

/** Checks the link on its own: https, no credentials, and nothing the scanner flags around the token. */
function checkLink(link: unknown, scanner: Scanner): string {
  if (typeof link !== 'string' || link.length > 2048 || UNSAFE.test(link) || /\s/.test(link)) {
    throw new OptionsError('buildNotification: `link` must be an absolute https URL without spaces or control characters');
  }
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new OptionsError('buildNotification: `link` must be an absolute https URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new OptionsError('buildNotification: `link` must use https');
  }
  if (url.username !== '' || url.password !== '') throw new OptionsError('buildNotification: `link` must not carry credentials');
  let readable: string;
  try {
    readable = decodeURIComponent(`${url.host}${url.pathname} ${url.search} ${url.hash}`.replace(TOKEN, 'TOKEN'));
  } catch {
    throw new NotificationPhiError('link', ['URL']);
  }
  // The whole link is a URL by definition; what matters is what it says besides the token.
  const findings = scanner.scan(readable.replace(/[/?&=#+]/g, ' ')).filter((f) => f.type !== 'URL');
  if (findings.length > 0) throw new NotificationPhiError('link', typesOf(findings));
  return link;
}

function lifetime(minutes: unknown): string {
  if (minutes === undefined) return '';
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 43_200) {
    throw new OptionsError('buildNotification: expiresInMinutes must be an integer from 1 to 43200');
  }
  if (minutes % 1440 === 0) return ` It expires in ${minutes / 1440} day${minutes === 1440 ? '' : 's'}.`;
  if (minutes % 60 === 0) return ` It expires in ${minutes / 60} hour${minutes === 60 ? '' : 's'}.`;
  return ` It expires in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/**
 * Builds an SMS, e-mail or push notification that carries a generic message and the pickup
 * link only. Every output string is run through the DLP scanner (the link checked on its own);
 * when the scanner flags anything the inputs brought in, it throws
 * {@link NotificationPhiError} (`notification_phi`, 422) instead of returning.
 */
export function buildNotification(input: NotificationInput): Notification {
  checkKeys(input, KEYS, 'buildNotification');
  if (!CHANNELS.includes(input.channel)) throw new OptionsError(`buildNotification: channel must be one of ${CHANNELS.join(', ')}`);
  const template = Object.hasOwn(TEMPLATES, input.template) ? TEMPLATES[input.template] : undefined;
  if (template === undefined) throw new OptionsError(`buildNotification: template must be one of ${Object.keys(TEMPLATES).join(', ')}`);
  const scanner = input.scanner ?? getDefaultScanner();
  const name = text(input.recipientName, 'recipientName', 64);
  const organization = text(input.organization, 'organization', 64);
  const link = checkLink(input.link, scanner);
  const expires = lifetime(input.expiresInMinutes);

  // Each input alone first, so the error can name the field.
  for (const [field, value] of [['recipientName', name], ['organization', organization]] as const) {
    if (value === undefined) continue;
    const findings = scanner.scan(value);
    if (findings.length > 0) throw new NotificationPhiError(field, typesOf(findings));
  }

  const greeting = name === undefined ? 'Hello,' : `Hello ${name},`;
  const from = organization === undefined ? '' : `${organization}: `;
  const action = `Open this secure link to view it: ${PLACEHOLDER}${expires} The link works once.`;
  let out: { subject?: string; text: string; html?: string };
  switch (input.channel) {
    case 'sms':
      out = { text: `${from}${template.line} ${action}` };
      break;
    case 'push':
      out = { subject: organization ?? template.subject, text: `${template.line} ${action}` };
      break;
    default: {
      const sign = organization === undefined ? '' : `\n\n${organization}`;
      out = {
        subject: template.subject,
        text: `${greeting}\n\n${template.line}\n\n${action}${sign}`,
        html:
          `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(template.line)}</p>` +
          `<p><a href="${PLACEHOLDER}">Open this secure link to view it</a>.${escapeHtml(expires)} The link works once.</p>` +
          (organization === undefined ? '' : `<p>${escapeHtml(organization)}</p>`),
      };
    }
  }

  // The message as it will read, in context: a name can be flagged after "Hello" only.
  for (const value of [out.subject, out.text, out.html]) {
    if (value === undefined) continue;
    const findings = scanner.scan(value);
    if (findings.length > 0) {
      const hit = findings[0]!;
      const span = value.slice(hit.start, hit.end);
      const field = name !== undefined && (span.includes(name) || name.includes(span)) ? 'recipientName' : organization !== undefined && (span.includes(organization) || organization.includes(span)) ? 'organization' : 'message';
      throw new NotificationPhiError(field, typesOf(findings));
    }
  }
  // A function replacer: `$&` and friends in a URL stay literal.
  const html = out.html?.replace(PLACEHOLDER, () => escapeHtml(link));
  return {
    ...(out.subject === undefined ? {} : { subject: out.subject }),
    text: out.text.replace(PLACEHOLDER, () => link),
    ...(html === undefined ? {} : { html }),
  };
}
