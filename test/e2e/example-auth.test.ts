/**
 * The examples' HS256 check (node:crypto, key imported once) against jose as the reference
 * signer and verifier: what jose accepts is accepted, any tampering, another algorithm, a
 * missing subject or a time outside exp/nbf is refused.
 */
import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SignJWT, jwtVerify } from 'jose';
import type { Request } from 'express';
import { AuthenticationRequiredError } from '@phiguard/core';
import { jwtContext, signToken, verifyHs256 } from '../../examples/express-lab-results/src/auth.js';

const SECRET = 'example-auth-test-secret-0123456789abcdef';
const bytes = new TextEncoder().encode(SECRET);
const key = createSecretKey(bytes);
const now = Math.floor(Date.now() / 1000);
const requestWith = (authorization: string | undefined, purpose = 'TREAT') =>
  ({ get: (name: string) => (name.toLowerCase() === 'authorization' ? authorization : name.toLowerCase() === 'x-purpose-of-use' ? purpose : undefined) }) as unknown as Request;

const claimsArb = fc.record({
  sub: fc.string({ minLength: 1, maxLength: 12 }),
  roles: fc.array(fc.constantFrom('ordering-provider', 'nurse', 'billing', 'patient'), { maxLength: 2 }),
  patient: fc.option(fc.constantFrom('1001', '1003'), { nil: undefined }),
  amr: fc.option(fc.array(fc.constantFrom('pwd', 'otp')), { nil: undefined }),
});

describe('HS256 verification with node:crypto', () => {
  it('accepts exactly what jose accepts, and refuses every single-character tampering', async () => {
    await fc.assert(
      fc.asyncProperty(claimsArb, fc.nat(), async (claims, at) => {
        const token = await signToken(claims, SECRET);
        const ours = verifyHs256(token, key);
        const { payload } = await jwtVerify(token, bytes, { algorithms: ['HS256'] });
        expect(ours).toEqual(payload);
        const i = at % token.length;
        const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
        if (flipped === token || token[i] === '.') return;
        const joseAccepts = await jwtVerify(flipped, bytes, { algorithms: ['HS256'] }).then(
          () => true,
          () => false,
        );
        // Base64url's last character can carry unused bits; whatever jose says, we say.
        expect(verifyHs256(flipped, key) !== null).toBe(joseAccepts);
      }),
      { seed: 256, numRuns: 150 },
    );
  });

  it('refuses other algorithms, crit headers, another key, no subject, expiry and not-before', async () => {
    const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }, k: Uint8Array = bytes) =>
      new SignJWT(payload).setProtectedHeader(header as never).sign(k);
    const refused = [
      await sign({ sub: 'a' }, { alg: 'HS512' }),
      await sign({ sub: 'a' }, { alg: 'HS256', crit: ['b64'], b64: true }).catch(() => 'x.y.z'),
      await sign({ sub: 'a' }, { alg: 'HS256' }, new TextEncoder().encode('another-secret-another-secret-another!!')),
      await sign({ roles: ['nurse'] }),
      await sign({ sub: 7 }),
      await sign({ sub: 'a', exp: now - 1 }),
      await sign({ sub: 'a', nbf: now + 60 }),
      await sign({ sub: 'a', exp: '9999999999' }),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`,
      'a.b.c',
      'a.b.c.d',
    ];
    for (const token of refused) expect(verifyHs256(token, key), token).toBeNull();
    expect(verifyHs256(await sign({ sub: 'a', exp: now + 60, nbf: now - 1 }), key)).toMatchObject({ sub: 'a' });
  });

  it('jwtContext maps the claims of the contract synchronously, and answers 401 otherwise', async () => {
    const resolve = jwtContext(SECRET);
    const token = await signToken({ sub: 'u-7', roles: ['patient'], patient: '1003', amr: ['pwd', 'otp'] }, SECRET);
    const context = resolve(requestWith(`Bearer ${token}`, 'PATRQT'));
    expect(context).toMatchObject({ principal: { id: 'u-7', patientId: '1003' }, roles: ['patient'], purposeOfUse: 'PATRQT', authentication: { methods: ['pwd', 'otp'] } });
    expect(typeof context.authentication?.time).toBe('number');
    for (const header of [undefined, '', 'Bearer', `Basic ${token}`, `Bearer ${token}x`, `Bearer ${token.split('.').slice(0, 2).join('.')}.`]) {
      expect(() => resolve(requestWith(header))).toThrow(AuthenticationRequiredError);
    }
  });
});
