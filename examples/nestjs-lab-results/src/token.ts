/**
 * Prints a bearer token for the lab-results API (the same tokens as the Express example).
 *
 *   npm run -s token -w examples/nestjs-lab-results -- billing
 *   npm run -s token -w examples/nestjs-lab-results -- patient 1003
 */
import { secretsFrom, signToken } from '../../express-lab-results/src/auth.js';
import { DEFAULT_PURPOSE, ROLES } from '../../express-lab-results/src/policy.js';

const USAGE = `usage: node dist/token.js <role> [patientId]
roles (usual purpose of use, sent as X-Purpose-Of-Use):
${ROLES.map((r) => `  ${r.padEnd(24)}${DEFAULT_PURPOSE[r] ?? ''}`).join('\n')}
patientId: for the patient role, their own patient id (1001 to 1005; default 1001)`;

const [role, patientArg] = process.argv.slice(2);
if (role === undefined || role === '-h' || role === '--help') {
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = role === undefined ? 2 : 0;
} else {
  if (!ROLES.includes(role)) process.stderr.write(`note: "${role}" is not a role of the policy; the API will answer 403 role_unknown.\n`);
  const patient = role === 'patient' ? (patientArg ?? '1001') : undefined;
  const { jwtSecret } = secretsFrom(process.env, undefined, ['jwt']);
  signToken({ sub: `demo-${role}`, roles: [role], ...(patient === undefined ? {} : { patient }), amr: ['pwd'] }, jwtSecret).then(
    (token) => process.stdout.write(`${token}\n`),
    (err: unknown) => {
      process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
