import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { AuditEvent } from '@phiguard/core';

/**
 * The disclosure block both examples put on the export event of a court-ordered CSV export of
 * patient 1003 to the registered Suffolk court: recipient, purpose, basis, delivery, and the
 * digest and record count of exactly the bytes the client received; no value of the record.
 */
export function expectCourtExportDisclosure(event: AuditEvent, bytes: Buffer): void {
  expect(event.disclosure).toMatchObject({
    recipient: { type: 'court', id: 'suffolk-court' },
    purpose: 'Court order for laboratory records',
    basis: 'judicial',
    deliveryMethod: 'download',
    bytes: bytes.length,
    description: { recordTypes: ['lab'] },
  });
  expect(event.disclosure!.recipient.nameRef).toMatch(/^rn_/);
  expect(event.disclosure!.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  expect(event.disclosure!.description.records).toBe(bytes.toString('utf8').trim().split(/\r\n/).length - 2);
  expect(JSON.stringify(event)).not.toMatch(/Suffolk Superior|1003/);
}
