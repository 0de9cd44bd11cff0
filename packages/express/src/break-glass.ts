import { Router, type Request, type Response } from 'express';
import {
  AccessDeniedError,
  AuthenticationRequiredError,
  OptionsError,
  PhiGuardError,
  type AccessContext,
} from '@phiguard/core';
import { codeOf, statusOf } from '@phiguard/core/adapter';

const NO_APP_CODES: ReadonlySet<string> = new Set();
const errorCode = (err: unknown, status: number) => codeOf(err, status, NO_APP_CODES);
import { nonPhi, runtimeOf } from './middleware.js';

/**
 * Break-glass endpoints, to mount under a path of your choice after `phiguard(…)`:
 * `app.use('/break-glass', breakGlassRoutes())`.
 * - `POST /` `{ patientId, reason, justification, minutes? }` → 201 `{ grantId, expiresAt }`
 * - `DELETE /:grantId` → 204 (the grant's holder or a reviewer)
 * - `GET /reviews` → 200 grants awaiting after-action review (reviewers)
 * - `POST /:grantId/review` `{ decision: 'appropriate' | 'inappropriate' }` → 204 (reviewers)
 * The caller is resolved by phiguard's `context` resolver; every outcome is audited.
 * Requests then invoke a grant with the `X-Break-Glass-Grant` header.
 */
export function breakGlassRoutes(): Router {
  const router = Router();
  type Handler = (context: AccessContext, req: Request, service: NonNullable<ReturnType<typeof serviceOf>>) => Promise<unknown>;
  const serviceOf = (res: Response) => runtimeOf(res)?.guard.breakGlass;

  const route = (handler: Handler, status: number) => (req: Request, res: Response) => {
    const rt = runtimeOf(res);
    if (rt === undefined) throw new OptionsError('breakGlassRoutes() runs without phiguard: add app.use(phiguard({ … })) first.');
    const service = rt.guard.breakGlass;
    if (service === null) return rt.refuse(404, 'break_glass_disabled');
    const fail = (err: unknown) => {
      if (err instanceof AccessDeniedError) return rt.refuse(403, 'access_denied', err.reason);
      const s = err instanceof PhiGuardError ? err.status : statusOf(err);
      return rt.refuse(s, errorCode(err, s));
    };
    rt.json(req, res, (err?: unknown) => {
      if (err !== undefined && err !== null) return rt.refuse(statusOf(err), errorCode(err, statusOf(err)));
      Promise.resolve()
        .then(() => rt.resolve(req))
        .then((resolved) => {
          if (resolved === null || typeof resolved !== 'object') throw new AuthenticationRequiredError();
          const context: AccessContext = { ...resolved, request: { ...rt.requestInfo(req), ...resolved.request } };
          return handler(context, req, service);
        }, () => {
          throw new AuthenticationRequiredError();
        })
        .then((body) => {
          res.setHeader('Cache-Control', 'no-store');
          if (body === undefined) res.status(status).end();
          else res.status(status).json(body);
        }, fail);
    });
  };

  const bodyOf = (req: Request) => (req.body !== null && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});

  // Grant bodies carry ids and codes, not PHI: these routes are non-PHI, decided by the service.
  router.post(
    '/',
    nonPhi(),
    route(async (context, req, service) => {
      const b = bodyOf(req);
      return service.grant(context, {
        patientId: b.patientId as string,
        reason: b.reason as string,
        justification: b.justification as string,
        ...(b.minutes === undefined ? {} : { minutes: Number(b.minutes) }),
      });
    }, 201),
  );
  router.delete(
    '/:grantId',
    nonPhi(),
    route(async (context, req, service) => {
      await service.revoke(context, String(req.params.grantId));
      return undefined;
    }, 204),
  );
  router.get(
    '/reviews',
    nonPhi(),
    route(async (context, _req, service) => service.pendingReviews(context), 200),
  );
  router.post(
    '/:grantId/review',
    nonPhi(),
    route(async (context, req, service) => {
      await service.review(context, String(req.params.grantId), bodyOf(req).decision as 'appropriate' | 'inappropriate');
      return undefined;
    }, 204),
  );
  return router;
}
