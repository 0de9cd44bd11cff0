import 'reflect-metadata';
import { Controller, Get, Inject } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, definePolicy, type AuditEvent, type Keyring, type PhiGuard } from '@phiguard/core';
import { createLocalKeyring } from '@phiguard/kms';
import { PHIGUARD_ENGINE, PhiGuardModule, PhiResource } from '../src/index.js';
import { SECRET, headerContext } from './fixtures.js';

const policy = definePolicy({
  roles: ['doctor', 'billing'],
  resources: {
    Chart: {
      id: 'id',
      fields: { id: 'non-phi', ssn: { class: 'direct-identifier', encrypt: true }, glucose: 'clinical' },
      disclose: { doctor: { TREAT: { '*': 'send' } }, billing: { HPAYMT: { glucose: 'send' } } },
    },
  },
});

/** A keyring that can be taken down, as a KMS outage would. */
function switchable(inner: Keyring) {
  const state = { down: false };
  const guard = <T>(f: () => Promise<T>) => (state.down ? Promise.reject(new Error('KMS unreachable')) : f());
  const keyring: Keyring = {
    generateDataKey: (c) => guard(() => inner.generateDataKey(c)),
    encryptDataKey: (p, c) => guard(() => inner.encryptDataKey(p, c)),
    decryptDataKey: (w, c) => guard(() => inner.decryptDataKey(w, c)),
  };
  return { keyring, state };
}

describe('encrypted fields through the interceptor (prepare + release)', () => {
  it('decrypts only for callers whose rule reads the field, and fails closed (503, audited) when the key service is down', async () => {
    const { keyring, state } = switchable(createLocalKeyring({ key: new Uint8Array(32).fill(7) }));
    const cipher = createFieldCipher({ keyring });
    const events: AuditEvent[] = [];
    let stored: unknown;

    @Controller('charts')
    @PhiResource('Chart')
    class ChartController {
      constructor(@Inject(PHIGUARD_ENGINE) private readonly engine: PhiGuard) {}
      @Get(':id')
      async get() {
        stored ??= await this.engine.records!.encryptRecord('Chart', { id: 'ch-1', ssn: '123-45-6789', glucose: 182 });
        return stored;
      }
    }

    const moduleRef = await Test.createTestingModule({
      imports: [PhiGuardModule.forRoot({ policy, secret: SECRET, cipher, audit: { write: (e) => void events.push(e) }, context: headerContext() })],
      controllers: [ChartController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const doctor = { 'x-user': 'u-doc', 'x-roles': 'doctor', 'x-purpose': 'TREAT' };
      const billing = { 'x-user': 'u-bill', 'x-roles': 'billing', 'x-purpose': 'HPAYMT' };
      const ok = await request(app.getHttpServer()).get('/charts/ch-1').set(doctor);
      expect(ok.body).toEqual({ id: 'ch-1', ssn: '123-45-6789', glucose: 182 });
      expect(JSON.stringify(stored)).not.toContain('123-45-6789'); // stored encrypted

      state.down = true;
      cipher.clear();
      // Billing's rule never reads the SSN: nothing to decrypt, the outage does not matter.
      const bill = await request(app.getHttpServer()).get('/charts/ch-1').set(billing);
      expect(bill.status).toBe(200);
      expect(bill.body).toEqual({ id: 'ch-1', glucose: 182 });
      const down = await request(app.getHttpServer()).get('/charts/ch-1').set(doctor);
      expect(down.status).toBe(503);
      expect(down.body.error).toMatchObject({ code: 'key_unavailable', status: 503 });
      expect(down.text).not.toMatch(/123-45-6789|KMS/);
      expect(events.at(-1)).toMatchObject({ outcome: 'error', reason: 'key_unavailable', resource: { type: 'Chart' } });
      expect(events.filter((e) => e.outcome === 'error')).toHaveLength(1); // audited once, not again by the filter
    } finally {
      await app.close();
    }
  });
});
