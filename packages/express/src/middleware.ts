import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { OptionsError, type AccessContext, type PhiGuard } from '@phiguard/core';
import {
  checkResourceName,
  createAdapterHost,
  option,
  type AdapterOptions,
  type OptionsShape,
  nodeRequestFacts,
  errorBody,
  genericCode,
  isAnswer,
  refusal,
  requestEntries,
  resourceNamed,
  statusOf,
  type Answer,
  type Exchange,
  type ExchangeHost,
  type RequestEntry,
  type ResponseGate,
  type Step,
} from '@phiguard/core/adapter';
import type { ErrorLogger } from './errors.js';

/** Options of {@link phiguard}: core's adapter options (engine or `guard`, exchange, `context`, `logger`) and Express's own. */
export interface PhiGuardExpressOptions extends AdapterOptions<(req: Request) => AccessContext | null | undefined | Promise<AccessContext | null | undefined>> {
  /**
   * Installs a final error handler on the app at the first request, so that errors thrown by
   * handlers reach clients and logs as codes only (Express's own handler prints `err.stack`).
   * Default true; set false and mount {@link phiguardErrorHandler} yourself to place it.
   */
  readonly installErrorHandler?: boolean;
  /** Largest request body parsed for DLP on resources that declare `dlp`. Default `'100kb'`. */
  readonly bodyLimit?: string | number;
}

/** Express's own keys; core's adapter schema holds the rest. */
const OWN_OPTIONS: OptionsShape<Pick<PhiGuardExpressOptions, 'installErrorHandler' | 'bodyLimit'>> = {
  installErrorHandler: option.boolean(),
  bodyLimit: option.custom('a size such as "100kb", or a number of bytes', ['string', 'number']),
};

/** Per-request state: core's request entry, keyed by the response, with Express's own fields. */
interface State extends RequestEntry {
  readonly runtime: Runtime;
  /** An Express response is a Node response: always gated. */
  readonly gate: ResponseGate;
  /** Set once the claimed route dispatched (the decision point). */
  dispatched: boolean;
}

interface Runtime {
  readonly guard: PhiGuard;
  readonly host: ExchangeHost;
  readonly resolve: PhiGuardExpressOptions['context'];
  readonly installErrorHandler: boolean;
  readonly parsers: { readonly json: RequestHandler; readonly text: RequestHandler };
}

const states = requestEntries<State>();
const installedOn = new WeakSet<object>();
/** Router layer prototypes whose request handling phiguard hooks, to decide where the route runs. */
const hooked = new WeakSet<object>();
/** Marks middleware that claims or releases a route from inside its own stack. */
const ROUTE_MARK = Symbol.for('phiguard.routeMiddleware');

/**
 * The one line: `app.use(phiguard({ policy, context, audit }))`, before or after the app's own
 * authentication.
 *
 * Every response passes phiguard's gate. On routes a resource claims (the policy's `routes`, or
 * {@link phiResource}) the access decision is taken when the route runs, after the app's
 * middleware; denied callers are refused before the handler (403, 401), and whatever the handler
 * writes — `res.json`, `res.send`, `res.end` after `writeHead`, streams — leaves only as the
 * caller's plan projected it, with one audit event. Bodies it cannot read are refused unless the
 * resource allows raw bodies, and error bodies are reduced to codes.
 */
export function phiguard(options: PhiGuardExpressOptions): RequestHandler {
  /* Precondition: phiguard was called, not passed bare to app.use. */
  if (arguments.length === 3 && typeof arguments[2] === 'function') {
    throw new OptionsError('phiguard must be called: use app.use(phiguard({ policy, context, audit })), not app.use(phiguard).');
  }
  // Core reads the shared options (engine or `guard`, exchange, logger) and refuses unknown keys.
  const { guard, host } = createAdapterHost(options, { label: 'phiguard', options: OWN_OPTIONS });
  const { context, installErrorHandler = true, bodyLimit = '100kb' } = options;
  const runtime: Runtime = {
    guard,
    host,
    resolve: context,
    installErrorHandler,
    // Bodies of DLP routes are parsed here, before the handler, so they are scanned whatever the app mounts later.
    parsers: {
      json: express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] }),
      text: express.text({ limit: bodyLimit, type: 'text/*' }),
    },
  };

  return function phiguardMiddleware(req: Request, res: Response, next: NextFunction): void {
    const known = states.get(res);
    if (known !== undefined) {
      if (known.runtime === runtime) return next();
      // A second phiguard (a sub-app's) would be silently ignored: its policy never applied.
      return next(new OptionsError('phiguard is mounted twice with different engines: mount one phiguard for the app, or share one with `guard`'));
    }
    const app = req.app;
    if (runtime.installErrorHandler && !installedOn.has(app)) {
      installedOn.add(app);
      app.use(phiguardErrorHandler());
    }
    hookRouter(app);
    const facts = nodeRequestFacts(req);
    // Core drops the state at the response's last byte: an error raised after the end is handled
    // as outside phiguard (logged; the connection destroyed).
    const state: State = states.enter(res, { host: runtime.host, facts, response: res, decide: () => decideLate(req, state) }, (entry) => ({
      exchange: entry.exchange,
      gate: entry.gate!,
      requestId: entry.requestId,
      facts: entry.facts,
      runtime,
      dispatched: false,
    }));
    // A first claim by URL; the route that actually runs confirms or replaces it.
    claimBy(state.exchange, runtime.host.match(req.method, facts.path), undefined);
    next();
  };
}

function claimBy(exchange: Exchange, matched: ReturnType<ExchangeHost['match']>, params: Record<string, unknown> | undefined): void {
  if (matched === null) return;
  if (matched === 'non-phi') exchange.skip();
  else exchange.claim({ resource: matched.resource, route: matched.route, params: params ?? matched.params });
}

/**
 * Decides where the route runs: phiguard hooks the router's layer prototype (Express 5's router
 * and Express 4's), so a route's handlers run only after the decision, and after every
 * application middleware before them (its authentication).
 */
function hookRouter(app: Request['app']): void {
  // Express 4 keeps its router in `_router` (its `app.router` getter throws); Express 5 in `router`.
  const a = app as unknown as { router?: { stack?: unknown[] }; _router?: { stack?: unknown[] } };
  const router = a._router ?? a.router;
  const layer = router?.stack?.[0];
  if (layer === undefined || layer === null) return;
  const proto = Object.getPrototypeOf(layer) as Record<string, unknown>;
  if (hooked.has(proto)) return;
  hooked.add(proto);
  for (const name of ['handleRequest', 'handle_request']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function handleRoute(this: { route?: { path?: unknown; stack?: { handle?: unknown }[] } }, req: Request, res: Response, next: NextFunction) {
      const state = this.route === undefined ? undefined : states.get(res);
      if (state === undefined || state.dispatched) return (original as (...a: unknown[]) => unknown).call(this, req, res, next);
      state.dispatched = true;
      const route = `${req.baseUrl}${typeof this.route!.path === 'string' ? this.route!.path : ''}`;
      const matched = state.runtime.host.match(req.method, route);
      if (matched !== null) claimBy(state.exchange, matched, req.params as Record<string, unknown>);
      else if (state.exchange.kind === 'phi') state.exchange.claim({ resource: state.exchange.resource!, route, params: req.params as Record<string, unknown> });
      else state.exchange.ranRoute(route);
      state.gate.raise();
      const refused = this.route!.stack?.some(isRouteMiddleware) === true ? null : state.exchange.beforeUnmapped();
      if (refused !== null) return state.gate.answer(refused);
      // phiResource()/nonPhi() inside the route's own stack decide there (after the route's own auth).
      if (this.route!.stack?.some(isRouteMiddleware) === true) {
        return (original as (...a: unknown[]) => unknown).call(this, req, res, next);
      }
      admit(req, res, state, () => (original as (...a: unknown[]) => unknown).call(this, req, res, next));
    };
  }
}

/** Decides, applies request DLP, then `proceed()`; or answers in the handler's place. */
function admit(req: Request, res: Response, state: State, proceed: () => void): void {
  const { exchange, gate, runtime } = state;
  if (exchange.kind !== 'phi') return proceed();
  settle(exchange.admit(() => runtime.resolve(req)), gate, () => {
    if (!exchange.needsInspection()) return proceed();
    const type = String(req.headers['content-type'] ?? '');
    const parser = /^application\/(?:[\w.-]+\+)?json/i.test(type) ? runtime.parsers.json : /^text\//i.test(type) ? runtime.parsers.text : null;
    const inspect = () =>
      settle(exchange.inspect(type, req.body), gate, (inspected) => {
        req.body = inspected.body;
        proceed();
      });
    if (parser === null || req.body !== undefined) return inspect();
    void parser(req, res, (err?: unknown) => (err !== undefined && err !== null ? gate.answer(exchange.fail(err)) : inspect()));
  });
}

/** The decision for a response that reached the gate with no route dispatch seen. */
function decideLate(req: Request, state: State): Step | Promise<Step> {
  state.dispatched = true;
  return state.exchange.admit(() => state.runtime.resolve(req));
}

function settle<T>(step: T | Answer | Promise<T | Answer>, gate: ResponseGate, then: (value: T) => void): void {
  const apply = (v: T | Answer) => (isAnswer(v) ? gate.answer(v) : then(v));
  if (step !== null && typeof step === 'object' && typeof (step as Promise<unknown>).then === 'function') void (step as Promise<T | Answer>).then(apply);
  else apply(step as T | Answer);
}


/** A layer running phiResource() or nonPhi(): the route decides inside its own stack. */
function isRouteMiddleware(layer: { handle?: unknown }): boolean {
  return typeof layer.handle === 'function' && (layer.handle as { [ROUTE_MARK]?: boolean })[ROUTE_MARK] === true;
}

function mark<T extends RequestHandler>(fn: T): T {
  Object.defineProperty(fn, ROUTE_MARK, { value: true });
  return fn;
}

/**
 * Claims a route for a resource from inside the route's own stack, after the route's own
 * middleware: `router.get('/:id', requireAuth, phiResource('LabReport'), handler)`. Needs
 * `app.use(phiguard(…))` first.
 */
export function phiResource(resource: string, options: { readonly allowBreakGlass?: boolean } = {}): RequestHandler {
  checkResourceName(resource, 'phiResource');
  return mark(function phiResourceMiddleware(req: Request, res: Response, next: NextFunction) {
    const state = states.get(res);
    if (state === undefined) return next(new OptionsError(`phiResource("${resource}") runs without phiguard: add app.use(phiguard({ … })) before the routes.`));
    try {
      resourceNamed(state.runtime.guard.policy, resource, `phiResource("${resource}")`);
    } catch (err) {
      return next(err);
    }
    if (state.exchange.decided) return next();
    const route = `${req.baseUrl}${typeof req.route?.path === 'string' ? req.route.path : req.path}`;
    state.exchange.claim({ resource, route, params: req.params as Record<string, unknown>, ...(options.allowBreakGlass === undefined ? {} : { allowBreakGlass: options.allowBreakGlass }) });
    state.dispatched = true;
    state.gate.raise();
    admit(req, res, state, () => next());
  });
}

/**
 * Marks the route it guards as carrying no PHI: `app.get('/health', nonPhi(), handler)`. Mounted
 * with `app.use(path, nonPhi(), …)` it applies to that exact path only, never to the routes under
 * it; list prefixes' non-PHI routes in the `nonPhi` option instead.
 */
export function nonPhi(): RequestHandler {
  return mark(function nonPhiMiddleware(req: Request, res: Response, next: NextFunction) {
    const state = states.get(res);
    if (state !== undefined && (req.route !== undefined || req.path === '/')) state.exchange.skip();
    next();
  });
}

/** @internal What the break-glass and delivery routes need of the request's phiguard state. */
export function runtimeOf(res: Response) {
  const state = states.get(res);
  if (state === undefined) return undefined;
  state.exchange.skip(); // grant bodies carry ids and codes, not PHI
  return {
    guard: state.runtime.guard,
    resolve: state.runtime.resolve,
    json: state.runtime.parsers.json,
    entry: state,
    routeOf: (req: Request) => `${req.baseUrl}${typeof req.route?.path === 'string' ? req.route.path : ''}`,
    refuse: (status: number, code: string, reason?: string) => state.gate.answer(refusal(state, status, code, reason)),
  };
}

/** The access context phiguard resolved for this request, once a PHI route was decided, until its response is sent. */
export function getAccessContext(res: Response): AccessContext | null {
  return states.get(res)?.exchange.context ?? null;
}

/**
 * Final error handler: answers with a code and the request id, and logs the error's name,
 * code and status only. Messages and stacks are never sent or logged: they often quote PHI
 * (JSON parse errors quote the body; database errors quote values).
 */
export function phiguardErrorHandler(options: { logger?: ErrorLogger } = {}) {
  return function phiguardErrorMiddleware(err: unknown, req: Request, res: Response, next: NextFunction): void {
    const state = states.get(res);
    if (state === undefined) {
      const status = statusOf(err);
      options.logger?.error({ err: { type: err instanceof Error ? err.name : typeof err, status }, route: req.route?.path }, 'request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.status(status).setHeader('Cache-Control', 'no-store');
      res.json(errorBody(genericCode(status), status, undefined));
      return;
    }
    if (options.logger !== undefined) state.runtime.host.logError(err, state.exchange, req.route?.path);
    state.gate.answer(state.exchange.fail(err));
    void next; // error handlers need four parameters to be recognised by Express
  };
}
