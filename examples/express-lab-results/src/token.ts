/**
 * Prints a bearer token for the lab-results API.
 *
 *   node dist/token.js <role> [patientId]
 *   npm run -s token -w examples/express-lab-results -- billing
 *   npm run -s token -w examples/express-lab-results -- patient 1003
 *
 * Signed HS256 with JWT_SECRET (or the embedded development default, as the server uses),
 * with `sub`, `roles: [role]`, `patient` for the patient role (default 1001), `amr: ['pwd']`,
 * `auth_time` now and a one hour expiry. Only the token goes to stdout, so
 * `TOKEN=$(npm run -s token -w examples/express-lab-results -- billing)` works.
 */
import { secretsFrom, signToken } from './auth.js';
import { DEFAULT_PURPOSE, ROLES } from './policy.js';

const USAGE = `usage: node dist/token.js <role> [patientId]
roles (usual purpose of use, sent as X-Purpose-Of-Use):
${ROLES.map((r) => `  ${r.padEnd(24)}${DEFAULT_PURPOSE[r] ?? ''}`).join('\n')}
patientId: for the patient role, their own patient id (1001 to 1005; default 1001)`;

async function main(argv: readonly string[]): Promise<number> {
  const [role, patientArg] = argv;
  if (role === undefined || role === '-h' || role === '--help') {
    process.stderr.write(`${USAGE}\n`);
    return role === undefined ? 2 : 0;
  }
  if (!ROLES.includes(role)) {
    // Allowed on purpose: such a token demonstrates the 403 an unknown role receives.
    process.stderr.write(`note: "${role}" is not a role of the policy; the API will answer 403 role_unknown.\n`);
  }
  if (patientArg !== undefined && role !== 'patient') {
    process.stderr.write(`note: a patient id only applies to the patient role; ignored for "${role}".\n`);
  }
  const patient = role === 'patient' ? (patientArg ?? '1001') : undefined;
  const { jwtSecret } = secretsFrom(process.env, undefined, ['jwt']);
  const token = await signToken(
    // The subject is a user id, never a patient identifier: it is recorded in audit as is.
    { sub: `demo-${role}`, roles: [role], ...(patient === undefined ? {} : { patient }), amr: ['pwd'] },
    jwtSecret,
  );
  process.stdout.write(`${token}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
