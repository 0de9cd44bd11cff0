import { Router, type Request, type Response } from 'express';
import { AccessDeniedError, AuthenticationRequiredError, OptionsError, type AccessContext, type AuditEvent, type AuditSink, type PhiGuard } from '@phiguard/core';
import { accountingOfDisclosures, denialEvent, type DisclosureStore } from '@phiguard/core/audit';
import { DISCLOSURE_BASES, type DenyList, type DenyTarget, type DisclosureBasis, type RecipientInput, type RecipientRegistry } from '@phiguard/core/governance';
import type { ExportDisclosure } from '@phiguard/core/delivery';
import { nonPhi } from '@phiguard/express';

/** The roles of the governance offices (the NestJS example's, same names). */
export const GOVERNANCE_ROLES = {
  /** Registers recipients and agreements, reads the accounting of disclosures. */
  privacy: 'privacy-officer',
  /** Disables users and clients (incident containment). */
  security: 'security-officer',
} as const;

type Fields = Record<string, unknown>;
const fields = (body: unknown): Fields => (body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Fields) : {});

/** A refusal with the status and code the NestJS example answers with. */
export class Refusal extends Error {
  constructor(readonly status: number, readonly code: string, readonly extra: Fields = {}) {
    super(code);
  }
}

/**
 * The disclosure block of an export to an outside recipient (`?recipient=&basis=&statement=`),
 * or undefined for an internal export (no recipient). The registry admits the recipient: 403
 * `recipient_unknown` / `agreement_missing` (45 CFR 164.502(e)), audited by core. Throws a
 * 400 `disclosure_invalid` refusal without a known basis or a purpose statement.
 */
export async function disclosureOf(recipients: RecipientRegistry, context: AccessContext, query: Request['query'], patientRef: string): Promise<ExportDisclosure | undefined> {
  const { recipient, basis, statement } = query;
  if (typeof recipient !== 'string' || recipient.length === 0) return undefined;
  if (typeof basis !== 'string' || !(DISCLOSURE_BASES as readonly string[]).includes(basis) || typeof statement !== 'string' || statement.trim() === '') {
    throw new Refusal(400, 'disclosure_invalid', { problems: ['an export to a recipient needs `basis` (a disclosure basis) and `statement` (brief purpose)'] });
  }
  const admitted = await recipients.admit(context, recipient, { patientRef, resource: 'ResultsExport', action: 'export' });
  return { recipient: admitted, basis: basis as DisclosureBasis, purpose: statement, deliveryMethod: 'download', description: { recordTypes: ['lab'] } };
}

/** Answers a refusal as the NestJS example does: `{ error: { code, status, requestId, reason? | problems? } }`. */
export function refuse(res: Response, err: unknown): boolean {
  const requestId = String(res.getHeader('x-request-id') ?? '') || undefined;
  let status: number;
  let body: Fields;
  if (err instanceof Refusal) [status, body] = [err.status, { code: err.code, status: err.status, ...err.extra }];
  else if (err instanceof AccessDeniedError) [status, body] = [403, { code: 'access_denied', status: 403, reason: err.reason }];
  else if (err instanceof AuthenticationRequiredError) [status, body] = [401, { code: 'authentication_required', status: 401 }];
  // Option problems name fields and rules, never values.
  else if (err instanceof OptionsError) [status, body] = [422, { code: 'governance_invalid', status: 422, problems: [err.message] }];
  else return false;
  res.status(status).setHeader('Cache-Control', 'no-store');
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  res.json({ error: { ...body, ...(requestId === undefined ? {} : { requestId }) } });
  return true;
}

/**
 * The privacy and security offices' routes, the NestJS example's `/governance` shape. Bodies carry
 * registry ids and codes, not PHI (non-PHI routes); core checks the roles and audits every change.
 * - `POST /recipients` `{ id, type, name, address?, agreement? }` → 201 (privacy officer)
 * - `GET /patients/:id/disclosures?from&to` → 200 the accounting of disclosures (45 CFR 164.528)
 * - `POST /deny-list/disable` `{ principal | client, reason }`, `/enable` `{ principal | client }` → 204 (security officer)
 */
export function governanceRoutes(options: {
  readonly guard: PhiGuard;
  readonly resolve: (req: Request) => AccessContext;
  readonly recipients: RecipientRegistry;
  readonly denyList: DenyList;
  readonly accountingSource: DisclosureStore | readonly AuditEvent[];
  readonly audit: AuditSink;
}): Router {
  const { guard, recipients, denyList } = options;
  const router = Router();

  /** The caller, holding `role`, not on the deny list (these routes skip the PHI pipeline, so they check it). */
  async function caller(req: Request, res: Response, role: string): Promise<AccessContext> {
    let resolved: AccessContext;
    try {
      resolved = options.resolve(req);
    } catch {
      throw new AuthenticationRequiredError();
    }
    const route = `${req.baseUrl}${String(req.route?.path ?? '')}`;
    if (!resolved.roles.includes(role)) throw new AccessDeniedError('purpose_not_permitted');
    const disabled = await denyList.check(resolved);
    if (disabled !== null) {
      await options.audit.write(denialEvent('update', { ...resolved, request: { method: req.method, route } }, 'governance', disabled));
      throw new AccessDeniedError(disabled);
    }
    const ua = req.headers['user-agent'];
    const requestId = res.getHeader('x-request-id');
    return {
      ...resolved,
      request: { method: req.method, route, ip: req.ip, userAgent: typeof ua === 'string' ? ua : undefined, requestId: typeof requestId === 'string' ? requestId : undefined },
    };
  }

  const handle = (role: string, status: number, run: (context: AccessContext, req: Request) => Promise<unknown>) => async (req: Request, res: Response) => {
    try {
      const out = await run(await caller(req, res, role), req);
      res.setHeader('Cache-Control', 'no-store');
      if (out === undefined) res.status(status).end();
      else res.status(status).json(out);
    } catch (err) {
      if (!refuse(res, err)) throw err;
    }
  };

  router.post(
    '/recipients',
    nonPhi(),
    handle(GOVERNANCE_ROLES.privacy, 201, async (officer, req) => {
      const e = await recipients.register(officer, fields(req.body) as unknown as RecipientInput);
      return { id: e.id, type: e.type, agreement: e.agreement?.status ?? null };
    }),
  );

  router.get(
    '/patients/:id/disclosures',
    nonPhi(),
    handle(GOVERNANCE_ROLES.privacy, 200, async (_officer, req) => {
      const { from, to } = req.query;
      return accountingOfDisclosures(options.accountingSource, {
        patientRef: guard.policy.patientRef(String(req.params.id)),
        rule: '164.528',
        recipientName: recipients.nameOf,
        ...(typeof from === 'string' ? { from } : {}),
        ...(typeof to === 'string' ? { to } : {}),
      });
    }),
  );

  router.post(
    '/deny-list/:op',
    nonPhi(),
    handle(GOVERNANCE_ROLES.security, 204, async (officer, req) => {
      const b = fields(req.body);
      const target = (typeof b.principal === 'string' ? { principal: b.principal } : { client: b.client }) as DenyTarget;
      if (req.params.op === 'disable') await denyList.disable(officer, target, b.reason as string);
      else if (req.params.op === 'enable') await denyList.enable(officer, target);
      else throw new OptionsError('deny-list operation must be "disable" or "enable"');
      return undefined;
    }),
  );
  return router;
}
