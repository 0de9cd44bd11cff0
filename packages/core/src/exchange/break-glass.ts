/**
 * The break-glass HTTP endpoints, framework-neutral: an adapter hands over the route it matched,
 * how to resolve the caller, the request facts, params and body, and gets back status, headers
 * and body. Every grant, revoke and review is decided and audited by the break-glass service;
 * these handlers only shape the HTTP around it, once for every adapter.
 */
import type { BreakGlassService } from '../access/break-glass.js';
import type { AccessContext, RequestInfo } from '../context.js';
import { AccessDeniedError, AuthenticationRequiredError } from '../errors.js';
import type { Maybe } from './exchange.js';
import { codeOf, statusOf } from './http.js';

/** The four endpoints, with the method, path (relative to the mount point) and success status. */
export const BREAK_GLASS_ENDPOINTS = Object.freeze({
  grant: { method: 'POST', path: '/', status: 201 },
  revoke: { method: 'DELETE', path: '/:grantId', status: 204 },
  reviews: { method: 'GET', path: '/reviews', status: 200 },
  review: { method: 'POST', path: '/:grantId/review', status: 204 },
} as const);
export type BreakGlassEndpoint = keyof typeof BREAK_GLASS_ENDPOINTS;

/** Grant answers are per caller and short-lived: never cached. */
export const BREAK_GLASS_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store' });

/** The refusal when the policy declares no break-glass (the service is `null`). */
export const BREAK_GLASS_DISABLED = Object.freeze({ status: 404, code: 'break_glass_disabled' } as const);

/** What an adapter knows of a break-glass request. */
export interface BreakGlassFacts {
  /** The application's context resolver for this request; a throw or a non-object is a 401. */
  readonly resolve: () => Maybe<AccessContext | null | undefined>;
  /** Request facts for audit; the resolver's own `request` fields win. */
  readonly request: RequestInfo;
  readonly params: Readonly<Record<string, unknown>>;
  /** The parsed JSON body, when there is one. */
  readonly body: unknown;
}

/** A successful answer; failures are thrown as the service's typed errors (see {@link breakGlassRefusal}). */
export interface BreakGlassReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** `undefined` for the 204 endpoints. */
  readonly body: unknown;
}

type Fields = Record<string, unknown>;
const fieldsOf = (body: unknown): Fields => (body !== null && typeof body === 'object' ? (body as Fields) : {});

/** The caller, or AuthenticationRequiredError: a resolver that fails or refuses authenticates nobody. */
async function callerOf(facts: BreakGlassFacts): Promise<AccessContext> {
  let resolved: AccessContext | null | undefined;
  try {
    resolved = await facts.resolve();
  } catch {
    throw new AuthenticationRequiredError();
  }
  if (resolved === null || typeof resolved !== 'object') throw new AuthenticationRequiredError();
  return { ...resolved, request: { ...facts.request, ...resolved.request } };
}

/** Answers one break-glass endpoint through the guard's service (which audits every outcome). */
export async function answerBreakGlass(endpoint: BreakGlassEndpoint, service: BreakGlassService, facts: BreakGlassFacts): Promise<BreakGlassReply> {
  const context = await callerOf(facts);
  const grantId = String(facts.params.grantId);
  const b = fieldsOf(facts.body);
  let body: unknown;
  switch (endpoint) {
    case 'grant':
      body = await service.grant(context, {
        patientId: b.patientId as string,
        reason: b.reason as string,
        justification: b.justification as string,
        ...(b.minutes === undefined ? {} : { minutes: Number(b.minutes) }),
      });
      break;
    case 'revoke':
      await service.revoke(context, grantId);
      break;
    case 'reviews':
      body = await service.pendingReviews(context);
      break;
    case 'review':
      await service.review(context, grantId, b.decision as 'appropriate' | 'inappropriate');
      break;
  }
  return { status: BREAK_GLASS_ENDPOINTS[endpoint].status, headers: BREAK_GLASS_HEADERS, body };
}

const NO_APP_CODES: ReadonlySet<string> = new Set();

/** The status, code and reason of a failed break-glass request, for adapters that answer errors themselves. */
export function breakGlassRefusal(err: unknown): { readonly status: number; readonly code: string; readonly reason?: string } {
  if (err instanceof AccessDeniedError) return { status: 403, code: 'access_denied', reason: err.reason };
  const status = statusOf(err);
  return { status, code: codeOf(err, status, NO_APP_CODES) };
}
