/** The example's token script (`npm run -s token -w examples/express-lab-results -- …`), built by `npm test`. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../examples/express-lab-results/dist/token.js', import.meta.url));
const claims = (...args: string[]) => decodeJwt(execFileSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());

describe('token script', () => {
  it('signs the contract claims, with a care-team user for nurses and a second factor on request', () => {
    expect(claims('billing')).toMatchObject({ sub: 'demo-billing', roles: ['billing'], amr: ['pwd'] });
    expect(claims('care-team-nurse', '--mfa')).toMatchObject({ sub: 'rn.alvarez', roles: ['care-team-nurse'], amr: ['pwd', 'otp'] });
    expect(claims('patient', '1003', '--sub', 'u-9')).toMatchObject({ sub: 'u-9', roles: ['patient'], patient: '1003', amr: ['pwd'] });
    const c = claims('patient');
    expect(c.patient).toBe('1001');
    expect(c.exp! - c.iat!).toBe(3600);
  });
});
