/**
 * Prints a bearer token for the lab-results API.
 *
 *   node dist/token.js <role> [patientId] [--mfa] [--sub <user id>]
 *   npm run -s token -w examples/express-lab-results -- billing
 *   npm run -s token -w examples/express-lab-results -- patient 1003 --mfa
 *
 * Signed HS256 with JWT_SECRET (or the embedded development default, as the server uses),
 * with `sub` (`demo-<role>`; `rn.alvarez`, who is on the care teams, for the nurse role),
 * `roles: [role]`, `patient` for the patient role (default 1001), `amr: ['pwd']` (`['pwd','otp']`
 * with --mfa, which HIV and genetic results need), `auth_time` now and a one hour expiry. Only the token goes to stdout, so
 * `TOKEN=$(npm run -s token -w examples/express-lab-results -- billing)` works.
 */
import { secretsFrom, signToken } from './auth.js';
import { DEFAULT_PURPOSE, ROLES } from './policy.js';

const USAGE = `usage: node dist/token.js <role> [patientId] [--mfa] [--sub <user id>]
roles (usual purpose of use, sent as X-Purpose-Of-Use):
${ROLES.map((r) => `  ${r.padEnd(24)}${DEFAULT_PURPOSE[r] ?? ''}`).join('\n')}
patientId: for the patient role, their own patient id (1001 to 1005; default 1001)
--mfa: a recent second factor (amr pwd+otp), needed for HIV and genetic results
--sub: the user id (default demo-<role>; rn.alvarez for care-team-nurse)`;

async function main(args: readonly string[]): Promise<number> {
  const mfa = args.includes('--mfa');
  const subAt = args.indexOf('--sub');
  const sub = subAt === -1 ? undefined : args[subAt + 1];
  const argv = args.filter((a, i) => a !== '--mfa' && (subAt === -1 || (i !== subAt && i !== subAt + 1)));
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
    {
      sub: sub ?? (role === 'care-team-nurse' ? 'rn.alvarez' : `demo-${role}`),
      roles: [role],
      ...(patient === undefined ? {} : { patient }),
      amr: mfa ? ['pwd', 'otp'] : ['pwd'],
    },
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
