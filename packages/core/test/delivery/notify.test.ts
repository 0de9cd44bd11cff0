import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionsError, createScanner } from '@phiguard/core';
import { createMemoryStateStore } from '@phiguard/core/state';
import { NotificationPhiError, buildNotification, createPickupLinks, type NotificationInput } from '../../src/delivery/index.js';

const scanner = createScanner();
const LINK = 'https://portal.example.org/pickup/v1.eyJsIjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQSJ9.ZmFrZV9tYWNfZmFrZV9tYWNfZmFrZV9tYWNfZmFrZV9tYWM';

/** The outputs with the link taken out: what the scanner must find nothing in. */
function withoutLink(value: string, link: string): string {
  const escaped = link.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  return value.split(escaped).join(' ').split(link).join(' ');
}

function phiError(fn: () => unknown): NotificationPhiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NotificationPhiError);
    return err as NotificationPhiError;
  }
  throw new Error('expected NotificationPhiError');
}

describe('buildNotification', () => {
  it('builds an SMS with a generic line and the link only', async () => {
    const { token } = await createPickupLinks({ secret: 'x'.repeat(32), store: createMemoryStateStore() }).issue({ resource: 'lab-result', resourceId: 'HbA1c-2024-03-15', audience: 'p:1' });
    const link = `https://portal.example.org/pickup/${token}`;
    const sms = buildNotification({ channel: 'sms', template: 'result-ready', link, organization: 'Acme Health', expiresInMinutes: 15 });
    expect(sms).toEqual({ text: `Acme Health: A new result is ready in your secure portal. Open this secure link to view it: ${link} It expires in 15 minutes. The link works once.` });
    expect(withoutLink(sms.text, link)).not.toMatch(/HbA1c|2024/);
    expect(scanner.scan(withoutLink(sms.text, link))).toEqual([]);
  });

  it('builds an e-mail with subject, text and escaped HTML', () => {
    const link = `${LINK}?a=1&b=2`;
    const mail = buildNotification({ channel: 'email', template: 'message-waiting', link, recipientName: 'there', expiresInMinutes: 120 });
    expect(mail.subject).toBe('You have a new secure message');
    expect(mail.text).toContain(`Hello there,`);
    expect(mail.text).toContain(link);
    expect(mail.text).toContain('It expires in 2 hours.');
    expect(mail.html).toContain(`<a href="${link.replace('&', '&amp;')}">`);
    expect(mail.html).not.toContain('&b=2');
  });

  it('builds a push message titled with the organization', () => {
    const push = buildNotification({ channel: 'push', template: 'document-ready', link: LINK, organization: 'Acme Health' });
    expect(push).toEqual({ subject: 'Acme Health', text: `A new document is ready in your secure portal. Open this secure link to view it: ${LINK} The link works once.` });
  });

  it('keeps $-patterns in a link literal', () => {
    const link = `${LINK}?x=$&y=$'`;
    expect(buildNotification({ channel: 'sms', template: 'generic', link }).text).toContain(link);
  });

  it('throws notification_phi (422) when an input carries identifiers, naming the field, never the value', () => {
    const cases: [Partial<NotificationInput>, string][] = [
      [{ recipientName: 'SSN 123-45-6789' }, 'recipientName'],
      [{ recipientName: 'jane@example.org' }, 'recipientName'],
      [{ organization: 'Call 617-555-0142' }, 'organization'],
      [{ link: 'https://portal.example.org/r?mrn=MRN%3A%2012345678' }, 'link'],
      [{ link: 'https://portal.example.org/r/jane.doe@example.org' }, 'link'],
      [{ link: 'https://portal.example.org/r?dob=1951-04-12' }, 'link'],
      [{ link: 'https://10.1.2.3/r' }, 'link'],
    ];
    for (const [over, field] of cases) {
      const err = phiError(() => buildNotification({ channel: 'email', template: 'result-ready', link: LINK, ...over }));
      expect(err.code).toBe('notification_phi');
      expect(err.status).toBe(422);
      expect(err.field).toBe(field);
      expect(err.message).not.toMatch(/123-45|617|jane|1951|12345678/);
    }
  });

  it('refuses a name the scanner flags in context (a salutation)', () => {
    const err = phiError(() => buildNotification({ channel: 'email', template: 'result-ready', link: LINK, recipientName: 'Dr. Jane Doe' }));
    expect(err.field).toBe('recipientName');
    expect(err.types).toContain('PERSON_NAME');
  });

  it('uses the given scanner (an institution names list)', () => {
    const own = createScanner({ names: ['Okonkwo'] });
    expect(() => buildNotification({ channel: 'email', template: 'result-ready', link: LINK, recipientName: 'Okonkwo', scanner: own })).toThrow(NotificationPhiError);
  });

  it('refuses bad links and options as programming errors', () => {
    const base = { channel: 'sms', template: 'result-ready' } as const;
    expect(() => buildNotification({ ...base, link: 'http://portal.example.org/x' })).toThrow(/https/);
    expect(() => buildNotification({ ...base, link: 'https://user:pw@portal.example.org/x' })).toThrow(/credentials/);
    expect(() => buildNotification({ ...base, link: 'not a url' })).toThrow(OptionsError);
    expect(() => buildNotification({ ...base, link: LINK, recipientName: 'a\nb' })).toThrow(/control/);
    expect(() => buildNotification({ ...base, link: LINK, organization: '<script>' })).toThrow(/markup/);
    expect(() => buildNotification({ ...base, template: 'lab-value' as never, link: LINK })).toThrow(/template/);
    expect(() => buildNotification({ ...base, channel: 'fax' as never, link: LINK })).toThrow(/channel/);
    expect(() => buildNotification({ ...base, link: LINK, recipientNam: 'x' } as never)).toThrow(/did you mean "recipientName"/);
    expect(() => buildNotification({ ...base, link: LINK, expiresInMinutes: 0 })).toThrow(/expiresInMinutes/);
  });

  it('property: for arbitrary inputs it throws, or emits strings in which the scanner finds nothing but the link', () => {
    const phi = fc.constantFrom(
      'SSN 123-45-6789', 'MRN: 7654321', 'DOB 04/12/1951', 'jane.doe@example.org', '(617) 555-0142', 'Mr. John Smith', 'Patient: Mary Jones',
      '42 Elm Street', '4111 1111 1111 1111', 'age 93', 'Dear Robert', 'NPI 1234567893', '192.168.10.4', 'www.example.com/p', 'March 15, 2024',
    );
    const word = fc.stringMatching(/^[A-Za-z][A-Za-z' -]{0,20}$/);
    const free = fc.string({ maxLength: 40 });
    const field = fc.option(fc.oneof(word, phi, free, fc.tuple(word, phi).map(([a, b]) => `${a} ${b}`)), { nil: undefined });
    const link = fc.oneof(
      fc.constant(LINK),
      fc.tuple(fc.constantFrom('https://portal.example.org/p/', 'https://www.clinic.example/r?x='), fc.oneof(word, phi, free)).map(([a, b]) => a + encodeURIComponent(b)),
      free,
    );
    let built = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.constantFrom('sms', 'email', 'push'), fc.constantFrom('result-ready', 'document-ready', 'message-waiting', 'generic'), link, field, field, (channel, template, l, recipientName, organization) => {
        let out;
        try {
          out = buildNotification({ channel, template, link: l, recipientName, organization } as NotificationInput);
        } catch (err) {
          expect(err instanceof NotificationPhiError || err instanceof OptionsError).toBe(true);
          refused++;
          return;
        }
        built++;
        for (const value of [out.subject, out.text, out.html]) {
          if (value === undefined) continue;
          expect(scanner.scan(withoutLink(value, l))).toEqual([]);
          // The link is the only thing the scanner may report, and only as a URL.
          for (const f of scanner.scan(value)) expect(f.type).toBe('URL');
        }
      }),
      { numRuns: 600 },
    );
    // Both branches were exercised: the property is not vacuous.
    expect(built).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });
});
