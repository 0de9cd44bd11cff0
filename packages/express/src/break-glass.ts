import { Router, type Request, type Response } from 'express';
import { OptionsError } from '@phiguard/core';
import { BREAK_GLASS_DISABLED, BREAK_GLASS_ENDPOINTS, answerBreakGlass, breakGlassFacts, breakGlassRefusal, type BreakGlassEndpoint } from '@phiguard/core/adapter';
import { nonPhi, runtimeOf } from './middleware.js';

/**
 * Break-glass endpoints, to mount under a path of your choice after `phiguard(…)`:
 * `app.use('/break-glass', breakGlassRoutes())`.
 * - `POST /` `{ patientId, reason, justification, minutes? }` → 201 `{ grantId, expiresAt }`
 * - `DELETE /:grantId` → 204 (the grant's holder or a reviewer)
 * - `GET /reviews` → 200 grants awaiting after-action review (reviewers)
 * - `POST /:grantId/review` `{ decision: 'appropriate' | 'inappropriate' }` → 204 (reviewers)
 * The caller is resolved by phiguard's `context` resolver; core answers and audits every outcome.
 * Requests then invoke a grant with the `X-Break-Glass-Grant` header.
 */
export function breakGlassRoutes(): Router {
  const router = Router();
  const route = (endpoint: BreakGlassEndpoint) => (req: Request, res: Response) => {
    const rt = runtimeOf(res);
    if (rt === undefined) throw new OptionsError('breakGlassRoutes() runs without phiguard: add app.use(phiguard({ … })) first.');
    const service = rt.guard.breakGlass;
    if (service === null) return rt.refuse(BREAK_GLASS_DISABLED.status, BREAK_GLASS_DISABLED.code);
    const refuse = (err: unknown) => {
      const r = breakGlassRefusal(err);
      rt.refuse(r.status, r.code, r.reason);
    };
    rt.json(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) return refuse(err);
      const facts = breakGlassFacts(rt.entry, rt.routeOf(req), () => rt.resolve(req), req.params, req.body as unknown);
      answerBreakGlass(endpoint, service, facts).then((reply) => {
        res.set(reply.headers);
        if (reply.body === undefined) res.status(reply.status).end();
        else res.status(reply.status).json(reply.body);
      }, refuse);
    });
  };
  // Grant bodies carry ids and codes, not PHI: these routes are non-PHI, decided by the service.
  for (const [endpoint, { method, path }] of Object.entries(BREAK_GLASS_ENDPOINTS)) {
    router[method === 'GET' ? 'get' : method === 'DELETE' ? 'delete' : 'post'](path, nonPhi(), route(endpoint as BreakGlassEndpoint));
  }
  return router;
}
