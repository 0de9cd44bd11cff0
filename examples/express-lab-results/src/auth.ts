import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Request } from 'express';
import { SignJWT } from 'jose';
import { AuthenticationRequiredError, type AccessContext } from '@phiguard/core';

/**
 * Embedded development secrets, so that `npm run demo` and `npm start` work out of the box.
 * They are public (they are in this file): anyone can mint tokens for a server that uses them.
 * Set JWT_SECRET and PHIGUARD_SECRET (32+ random bytes: `openssl rand -base64 32`) anywhere else.
 */
export const DEV_JWT_SECRET = 'phiguard-example-DEVELOPMENT-ONLY-jwt-secret-do-not-deploy';
export const DEV_PHIGUARD_SECRET = 'phiguard-example-DEVELOPMENT-ONLY-phiguard-secret-do-not-deploy';

export interface Secrets {
  readonly jwtSecret: string;
  readonly phiguardSecret: string;
}

/**
 * Reads JWT_SECRET and PHIGUARD_SECRET from `env`, falling back to the development defaults
 * with a one-line warning each (through `warn`, stderr by default).
 */
export function secretsFrom(
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  which: readonly ('jwt' | 'phiguard')[] = ['jwt', 'phiguard'],
): Secrets {
  const jwtSecret = env.JWT_SECRET || DEV_JWT_SECRET;
  const phiguardSecret = env.PHIGUARD_SECRET || DEV_PHIGUARD_SECRET;
  if (which.includes('jwt') && !env.JWT_SECRET) {
    warn('warning: JWT_SECRET is not set; using the embedded development secret (anyone can mint tokens). Set JWT_SECRET outside development.');
  }
  if (which.includes('phiguard') && !env.PHIGUARD_SECRET) {
    warn('warning: PHIGUARD_SECRET is not set; using the embedded development secret (tokens and audit patient refs are guessable). Set PHIGUARD_SECRET to 32+ random bytes outside development.');
  }
  return { jwtSecret, phiguardSecret };
}

const ALGORITHM = 'HS256';
const keyOf = (secret: string | Uint8Array): Uint8Array => (typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

export interface TokenClaims {
  /** User id; recorded in audit as actor.id, so never a patient identifier. */
  readonly sub: string;
  readonly roles: readonly string[];
  /** For the patient role: the caller's own patient id. */
  readonly patient?: string;
  /** Authentication methods (RFC 8176): `['pwd']`, `['pwd', 'otp']`… */
  readonly amr?: readonly string[];
}

/** Signs an HS256 bearer token with `auth_time` now and a one hour expiry. */
export async function signToken(
  claims: TokenClaims,
  secret: string | Uint8Array,
  options: { expiresIn?: string | number; now?: Date } = {},
): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const { sub, ...rest } = claims;
  return new SignJWT({ ...rest, amr: [...(claims.amr ?? ['pwd'])], auth_time: now })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(options.expiresIn ?? now + 3600)
    .sign(keyOf(secret));
}

const BEARER = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i;

/** Parses base64url JSON into an object, or null. */
function jsonPart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Verifies an HS256 compact JWT (RFC 7519) under `key`: header `alg` HS256 and no `crit`, a
 * constant-time signature check, `exp` and `nbf` when present (numbers, checked against `now`),
 * `iat` a number when present, and a string `sub`. Returns the claims, or null.
 */
export function verifyHs256(token: string, key: KeyObject, now = Date.now() / 1000): Record<string, unknown> | null {
  const [header64, payload64, signature64, extra] = token.split('.');
  if (header64 === undefined || payload64 === undefined || signature64 === undefined || extra !== undefined) return null;
  const header = jsonPart(header64);
  if (header === null || header.alg !== ALGORITHM || header.crit !== undefined) return null;
  const expected = createHmac('sha256', key).update(`${header64}.${payload64}`).digest();
  const given = Buffer.from(signature64, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const claims = jsonPart(payload64);
  if (claims === null || typeof claims.sub !== 'string') return null;
  for (const name of ['exp', 'nbf', 'iat']) if (claims[name] !== undefined && (typeof claims[name] !== 'number' || !Number.isFinite(claims[name]))) return null;
  if (typeof claims.exp === 'number' && claims.exp <= now) return null;
  if (typeof claims.nbf === 'number' && claims.nbf > now) return null;
  return claims;
}

/**
 * The phiguard context resolver: verifies the bearer JWT (HS256 only, `exp`/`nbf` checked when
 * present) and maps its claims; the purpose of use is the `X-Purpose-Of-Use` header. A missing,
 * malformed, expired or forged token answers 401 through AuthenticationRequiredError.
 * Synchronous: one HMAC under a key imported once, no per-request key import or promise.
 */
export function jwtContext(secret: string | Uint8Array): (req: Request) => AccessContext {
  const key = createSecretKey(keyOf(secret));
  return function resolveContext(req) {
    const match = BEARER.exec(req.get('authorization') ?? '');
    if (!match) throw new AuthenticationRequiredError('Send Authorization: Bearer <token> (npm run -s token -- <role>).');
    const payload = verifyHs256(match[1]!, key);
    // The reason (expired, bad signature…) stays server-side: it would help an attacker.
    if (payload === null) throw new AuthenticationRequiredError('The bearer token is invalid or expired.');
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    const patient = payload.patient;
    const amr = Array.isArray(payload.amr) ? payload.amr.filter((m): m is string => typeof m === 'string') : [];
    return {
      principal: {
        id: payload.sub as string,
        patientId: typeof patient === 'string' || typeof patient === 'number' ? patient : null,
      },
      roles,
      purposeOfUse: req.get('x-purpose-of-use') ?? null,
      // Step-up for sensitive results: RFC 8176 methods and the time of the last sign-in.
      authentication: { methods: amr, ...(typeof payload.auth_time === 'number' ? { time: payload.auth_time } : {}) },
    };
  };
}
