import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { match, type MatchFunction } from 'path-to-regexp';
import {
  AccessDeniedError,
  AuthenticationRequiredError,
  ENGINE_OPTION_KEYS,
  OptionsError,
  PhiGuardError,
  StepUpRequiredError,
  actionForMethod,
  scrubHeaders,
  createPhiGuard,
  denialEvent,
  didYouMean,
  type AccessContext,
  type AuditAction,
  type PhiGuard,
  type PhiGuardOptions,
  type Plan,
  type RequestInfo,
} from '@phiguard/core';
import { codeOf, errorBody, errorCode, statusOf, type ErrorBody, type ErrorLogger } from './errors.js';

/** Options of {@link phiguard}. Everything `createPhiGuard` takes, plus how to read a request. */
export interface PhiGuardExpressOptions extends Omit<PhiGuardOptions, 'policy' | 'audit'> {
  /** The policy (from definePolicy, or compiled). Omit when passing `guard`. */
  readonly policy?: PhiGuardOptions['policy'];
  /** Audit destination: a pino logger or an AuditSink. Omit when passing `guard`. */
  readonly audit?: PhiGuardOptions['audit'];
  /** An engine already created with createPhiGuard (shared with other adapters). */
  readonly guard?: PhiGuard;
  /**
   * Resolves who is asking and why, from the request (JWT claims, headers, session). Called
   * only on PHI routes. Throw AuthenticationRequiredError (or anything) for 401.
   */
  readonly context: (req: Request) => AccessContext | Promise<AccessContext>;
  /**
   * What to do with a body sent on a route that no resource claims: `'deny'` (default) answers
   * 500 `unmapped_route`, because an unmapped route may be returning PHI nobody classified.
   * `'pass'` sends such bodies unchanged.
   */
  readonly onUnmappedRoute?: 'deny' | 'pass';
  /**
   * Installs a final error handler on the app at the first request, so that errors thrown by
   * handlers reach clients and logs as codes only (Express's own handler prints `err.stack`).
   * Default true; set false and mount {@link phiguardErrorHandler} yourself to place it.
   */
  readonly installErrorHandler?: boolean;
  /** Receives PHI-free lines about errors (name, code, status, request id). Default: the audit logger when it is pino. */
  readonly logger?: ErrorLogger;
  /**
   * What error lines carry of a thrown error's message: `'omit'` (default: nothing, since
   * messages quote values) or `'redact'` (the message through the DLP scanner, identifiers
   * replaced by `[SSN]`-style markers; helpful for debugging, as good as the scanner's recall).
   */
  readonly errorMessages?: 'omit' | 'redact';
  /** Largest request body parsed for DLP on resources that declare `dlp`. Default `'100kb'`. */
  readonly bodyLimit?: string | number;
}

type Kind = 'phi' | 'non-phi' | 'unmapped';

/** @internal Per-request state, on the response under a symbol. */
interface State {
  readonly runtime: Runtime;
  kind: Kind;
  resource: string | null;
  /** Route pattern of the claimed route, for audit. */
  route: string | null;
  plan: Plan | null;
  context: AccessContext | null;
  action: AuditAction;
  requestId: string;
  /** Set while phiguard itself is writing, so the guarded send/end let it through. */
  inPipeline: boolean;
  /** Set once phiguard answered in the handler's place; later writes are dropped. */
  refused: boolean;
  json: Response['json'];
  send: Response['send'];
  end: Response['end'];
  write: Response['write'];
}

interface Runtime {
  readonly guard: PhiGuard;
  readonly resolve: PhiGuardExpressOptions['context'];
  readonly routes: readonly { readonly method: string; readonly route: string; readonly resource: string; readonly match: MatchFunction<object> }[];
  readonly onUnmappedRoute: 'deny' | 'pass';
  readonly installErrorHandler: boolean;
  readonly logger: ErrorLogger | undefined;
  readonly warned: Set<string>;
  readonly errorMessages: 'omit' | 'redact';
  readonly parsers: { readonly json: RequestHandler; readonly text: RequestHandler };
}

/**
 * Per-request state, keyed by the response. A WeakMap rather than a property: Express re-parents
 * every response (`Object.setPrototypeOf`), after which each property added to it costs
 * microseconds.
 */
const states = new WeakMap<object, State>();
/** Response prototypes whose json/send/end/write phiguard has wrapped, with the originals. */
const wrapped = new WeakMap<object, Originals>();

interface Originals {
  readonly json: Response['json'];
  readonly send: Response['send'];
  readonly end: Response['end'];
  readonly write: Response['write'];
}
const installedOn = new WeakSet<object>();

const OPTION_KEYS = [
  ...ENGINE_OPTION_KEYS,
  'guard', 'context', 'onUnmappedRoute', 'installErrorHandler', 'logger', 'errorMessages', 'bodyLimit',
];
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

function stateOf(res: Response): State | undefined {
  return states.get(res);
}

/**
 * The one line: `app.use(phiguard({ policy, context, audit }))`.
 *
 * On routes a resource claims (in the policy's `routes`, or with {@link phiResource}) it
 * resolves the access context, refuses denied callers before the handler runs (403), and
 * projects every `res.json` / `res.send` body through the caller's plan, with an audit event
 * per response. Bodies it cannot vouch for (raw bodies, unmapped routes) are refused, and
 * error bodies are reduced to codes, so PHI does not leave by a side door.
 */
export function phiguard(options: PhiGuardExpressOptions): RequestHandler {
  /* Precondition: phiguard was called, not passed bare to app.use. */
  if (arguments.length === 3 && typeof arguments[2] === 'function') {
    throw new OptionsError('phiguard must be called: use app.use(phiguard({ policy, context, audit })), not app.use(phiguard).');
  }
  if (options === null || typeof options !== 'object') throw new OptionsError('phiguard(options): options must be an object');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new OptionsError(`unknown phiguard option "${key}"${didYouMean(key, OPTION_KEYS)}`);
  }
  /* Precondition: a context resolver; without it nobody can be authorized. */
  if (typeof options.context !== 'function') {
    throw new OptionsError('phiguard needs `context: (req) => ({ principal, roles, purposeOfUse })` to know who is asking and why.');
  }
  const {
    guard: given,
    context,
    onUnmappedRoute = 'deny',
    installErrorHandler = true,
    logger,
    errorMessages = 'omit',
    bodyLimit = '100kb',
    ...engineOptions
  } = options;
  if (errorMessages !== 'omit' && errorMessages !== 'redact') throw new OptionsError('errorMessages must be "omit" or "redact"');
  if (onUnmappedRoute !== 'deny' && onUnmappedRoute !== 'pass') throw new OptionsError('onUnmappedRoute must be "deny" or "pass"');
  let guard: PhiGuard;
  if (given !== undefined) {
    if (engineOptions.policy !== undefined || engineOptions.audit !== undefined) {
      throw new OptionsError('pass either `guard` or `policy` and `audit`, not both');
    }
    guard = given;
  } else {
    guard = createPhiGuard(engineOptions as PhiGuardOptions);
  }

  const routes = [];
  for (const resource of guard.policy.resources.values()) {
    for (const r of resource.routes) {
      routes.push({ method: r.method, route: r.path, resource: resource.name, match: match(r.path, { decode: false }) });
    }
  }
  const auditLogger = options.audit as Partial<ErrorLogger> | undefined;
  const runtime: Runtime = {
    guard,
    resolve: context,
    routes,
    onUnmappedRoute,
    installErrorHandler,
    logger: logger ?? (typeof auditLogger?.error === 'function' ? (auditLogger as ErrorLogger) : undefined),
    warned: new Set(),
    errorMessages,
    // Bodies of DLP routes are parsed here, before the handler, so they are scanned whatever the app mounts later.
    parsers: {
      json: express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] }),
      text: express.text({ limit: bodyLimit, type: 'text/*' }),
    },
  };

  return function phiguardMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (stateOf(res) !== undefined) return next(); // mounted twice: the first instance governs
    if (runtime.installErrorHandler && !installedOn.has(req.app)) {
      installedOn.add(req.app);
      req.app.use(phiguardErrorHandler());
    }
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const originals = wrapResponse(res);
    const state: State = {
      runtime,
      kind: runtime.onUnmappedRoute === 'pass' ? 'non-phi' : 'unmapped',
      resource: null,
      route: null,
      plan: null,
      context: null,
      action: actionForMethod(req.method),
      requestId,
      inPipeline: false,
      refused: false,
      json: originals.json,
      send: originals.send,
      end: originals.end,
      write: originals.write,
    };
    states.set(res, state);
    const path = req.baseUrl + req.path;
    for (const r of runtime.routes) {
      if (r.method !== 'ALL' && r.method !== req.method && !(r.method === 'GET' && req.method === 'HEAD')) continue;
      const matched = r.match(path);
      if (matched === false) continue;
      return enter(req, res, next, state, r.resource, r.route, matched.params as Record<string, unknown>);
    }
    next();
  };
}

/**
 * Claims a route for a resource, for routers that do not list routes in the policy:
 * `router.get('/:id', phiResource('LabReport'), handler)`. Needs `app.use(phiguard(…))` first.
 */
export function phiResource(resource: string): RequestHandler {
  if (typeof resource !== 'string' || resource.length === 0) throw new OptionsError('phiResource(name) needs a resource name from the policy');
  return function phiResourceMiddleware(req, res, next) {
    const state = stateOf(res);
    if (state === undefined) {
      next(new OptionsError(`phiResource("${resource}") runs without phiguard: add app.use(phiguard({ … })) before the routes.`));
      return;
    }
    if (!state.runtime.guard.policy.resources.has(resource)) {
      next(new OptionsError(`phiResource("${resource}"): the policy has no such resource`));
      return;
    }
    if (state.kind === 'phi') return next(); // already claimed by a policy route
    enter(req, res, next, state, resource, req.baseUrl + (req.route?.path ?? req.path), req.params);
  };
}

/** Marks a route as carrying no PHI: its bodies pass unchanged and are not audited. */
export function nonPhi(): RequestHandler {
  return function nonPhiMiddleware(_req, res, next) {
    const state = stateOf(res);
    if (state !== undefined && state.kind !== 'phi') state.kind = 'non-phi';
    next();
  };
}

/** @internal What the break-glass routes need of the request's phiguard state. */
export function runtimeOf(res: Response) {
  const state = stateOf(res);
  if (state === undefined) return undefined;
  if (state.kind !== 'phi') state.kind = 'non-phi'; // grant bodies carry ids and codes, not PHI
  return {
    guard: state.runtime.guard,
    resolve: state.runtime.resolve,
    json: state.runtime.parsers.json,
    requestInfo: (req: Request) => requestInfo(req, state),
    refuse: (status: number, code: string, reason?: string) => refuse(res, state, status, code, reason),
  };
}

/** The access context phiguard resolved for this request, once a PHI route was entered. */
export function getAccessContext(res: Response): AccessContext | null {
  return stateOf(res)?.context ?? null;
}

/**
 * Resolves the context and decides: calls `next()` to let the handler run, or answers 401/403
 * itself. Synchronous resolvers stay synchronous (no promise per request).
 */
function enter(req: Request, res: Response, next: NextFunction, state: State, resource: string, route: string, params: Record<string, unknown>): void {
  state.kind = 'phi';
  state.resource = resource;
  state.route = route;
  let resolved: AccessContext | Promise<AccessContext>;
  try {
    resolved = state.runtime.resolve(req);
  } catch (err) {
    return unauthenticated(req, res, state, err);
  }
  if (resolved !== null && typeof (resolved as Promise<AccessContext>).then === 'function') {
    (resolved as Promise<AccessContext>).then(
      (context) => admit(req, res, next, state, params, context),
      (err: unknown) => unauthenticated(req, res, state, err),
    );
  } else {
    admit(req, res, next, state, params, resolved as AccessContext);
  }
}

function admit(req: Request, res: Response, next: NextFunction, state: State, params: Record<string, unknown>, resolved: AccessContext): void {
  if (resolved === null || typeof resolved !== 'object') return unauthenticated(req, res, state, undefined);
  const resource = state.resource!;
  const context: AccessContext = { ...resolved, request: { ...requestInfo(req, state), ...resolved.request } };
  const { guard } = state.runtime;
  const param = guard.policy.resources.get(resource)!.subjectParam;
  const raw = param === null ? undefined : params[param];
  const subject = typeof raw === 'string' ? raw : undefined;
  let completed: AccessContext | Promise<AccessContext>;
  try {
    completed = guard.resolve(withGrantHeader(req, context), resource, subject);
  } catch (err) {
    return next(err);
  }
  if (completed !== context && typeof (completed as Promise<AccessContext>).then === 'function') {
    // A break-glass grant or a relationship to look up: the state store or resolver answers first.
    (completed as Promise<AccessContext>).then(
      (full) => decide(req, res, next, state, full, subject),
      (err: unknown) => {
        state.context = context;
        const status = statusOf(err);
        guard.recordError(context, resource, state.action, errorCode(err, status));
        refuse(res, state, status, errorCode(err, status));
      },
    );
    return;
  }
  decide(req, res, next, state, completed as AccessContext, subject);
}

/** The break-glass grant a request invokes, from its header, unless the resolver set one. */
function withGrantHeader(req: Request, context: AccessContext): AccessContext {
  const header = req.headers['x-break-glass-grant'];
  if (context.breakGlass !== undefined || typeof header !== 'string' || header.length === 0) return context;
  return { ...context, breakGlass: { grantId: header.slice(0, 64) } };
}

function decide(req: Request, res: Response, next: NextFunction, state: State, context: AccessContext, subject: string | undefined): void {
  state.context = context;
  const { guard } = state.runtime;
  const resource = state.resource!;
  let decision;
  try {
    decision = guard.authorize(context, resource, state.action, subject);
  } catch (err) {
    return next(err);
  }
  if (decision.effect === 'deny') {
    const { reason, pending } = decision;
    if (pending === undefined) return refuse(res, state, 403, 'access_denied', reason);
    void pending.then(() => refuse(res, state, 403, 'access_denied', reason));
    return;
  }
  state.plan = decision.plan;
  if (guard.policy.resources.get(resource)!.dlp !== null && hasBody(req)) return scanBody(req, res, next, state);
  next();
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Parses a request body (JSON or text) and applies the resource's DLP rule before the handler runs. */
function scanBody(req: Request, res: Response, next: NextFunction, state: State): void {
  const type = req.headers['content-type'] ?? '';
  const { parsers, guard } = state.runtime;
  const parser = /^application\/(?:[\w.-]+\+)?json\b/i.test(type) ? parsers.json : /^text\//i.test(type) ? parsers.text : null;
  // A body DLP cannot read (multipart, binary) is refused rather than let through unscanned.
  if (parser === null) return refuse(res, state, 415, 'dlp_unscannable');
  void parser(req, res, (err?: unknown) => {
    if (err !== undefined && err !== null) return next(err);
    let inspection;
    try {
      inspection = guard.inspect(state.context, state.resource!, state.action, req.body);
    } catch (e) {
      return refuse(res, state, statusOf(e), errorCode(e, statusOf(e)));
    }
    if (inspection === null) return next();
    req.body = inspection.value;
    if (inspection.pending === undefined) return next();
    inspection.pending.then(
      () => next(),
      (e: unknown) => refuse(res, state, statusOf(e), errorCode(e, statusOf(e))),
    );
  });
}

/** 401 (or the resolver's own PhiGuardError), audited with where it came from and no actor. */
function unauthenticated(req: Request, res: Response, state: State, err: unknown): void {
  const e = err instanceof PhiGuardError ? err : new AuthenticationRequiredError();
  const anonymous = { principal: undefined, roles: [], request: requestInfo(req, state) } as unknown as AccessContext;
  let pending: Promise<void> | undefined;
  try {
    pending = state.runtime.guard.write(denialEvent(state.action, anonymous, state.resource!, e.code))?.catch(() => undefined);
  } catch {
    /* refused either way */
  }
  const answer = () => {
    if (e.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    refuse(res, state, e.status, e.code);
  };
  // Refused either way; with an asynchronous sink, once the refusal is on record.
  if (pending === undefined) answer();
  else void pending.then(answer);
}

function requestInfo(req: Request, state: State): RequestInfo {
  const traceparent = req.headers.traceparent;
  const trace = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  return {
    method: req.method,
    route: state.route ?? undefined,
    ip: req.ip,
    userAgent: req.headers['user-agent'],
    requestId: state.requestId,
    traceId: trace?.[1],
  };
}

/** Sends phiguard's own error body through the original methods. */
function refuse(res: Response, state: State, status: number, code: string, reason?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  state.refused = true;
  res.status(status);
  sendError(res, state, errorBody(code, status, state.requestId, reason));
}

/** Sends an error body as JSON (whatever type an earlier handler set), never cached. */
function sendError(res: Response, state: State, body: ErrorBody): Response {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  return sendThrough(res, state, body);
}

function sendThrough(res: Response, state: State, body: unknown): Response {
  state.inPipeline = true;
  try {
    // A body that projects to nothing (a scalar where the resource expects an object) is sent as null.
    return state.json.call(res, body === undefined ? null : body);
  } finally {
    state.inPipeline = false;
  }
}

function guardedJson(this: Response, state: State, body: unknown): Response {
  if (state.inPipeline || state.kind === 'non-phi' || this.headersSent) return state.json.call(this, body);
  if (this.statusCode >= 400) {
    // Error bodies are reduced to a code: an app's messages may name the patient.
    return sendError(this, state, errorBody(codeOf(body, this.statusCode), this.statusCode, state.requestId));
  }
  if (state.kind === 'unmapped') return refuseUnmapped(this, state);
  this.setHeader('Cache-Control', 'no-store');
  let prepared;
  try {
    prepared = state.runtime.guard.prepare(state.plan!, body);
  } catch (err) {
    return failPrepare(this, state, err);
  }
  if (prepared === null) return releaseAndSend(this, state, body, null);
  // Encrypted fields the caller may read are decrypted first; nothing is sent until then.
  prepared.then(
    (plaintexts) => {
      if (!this.headersSent) releaseAndSend(this, state, body, plaintexts);
    },
    (err: unknown) => failPrepare(this, state, err),
  );
  return this;
}

/** A key service or ciphertext failure: audited, and the response refused (503 or 500). */
function failPrepare(res: Response, state: State, err: unknown): Response {
  const status = statusOf(err);
  const code = errorCode(err, status);
  state.runtime.guard.recordError(state.context, state.resource!, state.action, code);
  refuse(res, state, status, code);
  return res;
}

function releaseAndSend(res: Response, state: State, body: unknown, plaintexts: ReadonlyMap<string, unknown> | null): Response {
  scrubHeaders(res, state.runtime.guard.scanner);
  let release;
  // The one-pass serializer writes what res.json would; an app that customises res.json's
  // serialization (replacer, spaces, escape) keeps the object path.
  const app = res.app;
  const asText = app === undefined || (app.get('json replacer') === undefined && app.get('json spaces') === undefined && !app.get('json escape'));
  try {
    release = asText
      ? state.runtime.guard.releaseJson(state.plan!, body, state.context!, state.action, plaintexts)
      : state.runtime.guard.release(state.plan!, body, state.context!, state.action, plaintexts);
  } catch (err) {
    if (err instanceof AccessDeniedError) refuse(res, state, 403, 'access_denied', err.reason);
    else if (err instanceof StepUpRequiredError) {
      // RFC 9470: the client re-authenticates with a second factor, no older than max_age.
      res.setHeader(
        'WWW-Authenticate',
        `Bearer error="insufficient_user_authentication", error_description="A recent second factor is required", max_age=${err.maxAgeSeconds}`,
      );
      refuse(res, state, 401, err.code, err.reason);
    } else refuse(res, state, statusOf(err), errorCode(err, statusOf(err)));
    return res;
  }
  if (release.pending) {
    release.pending.then(
      () => {
        if (!res.headersSent) sendReleased(res, state, release);
      },
      (err: unknown) => refuse(res, state, statusOf(err), errorCode(err, statusOf(err))),
    );
    return res;
  }
  return sendReleased(res, state, release);
}

function sendReleased(res: Response, state: State, release: { json: string } | { value: unknown }): Response {
  if (!('json' in release)) return sendThrough(res, state, release.value);
  // As res.json does: a Content-Type the handler set is kept.
  if (!res.get('Content-Type')) res.set('Content-Type', 'application/json');
  state.inPipeline = true;
  try {
    return state.send.call(res, release.json);
  } finally {
    state.inPipeline = false;
  }
}

function guardedSend(this: Response, state: State, body?: unknown): Response {
  if (state.inPipeline || state.kind === 'non-phi' || this.headersSent) return state.send.call(this, body);
  if (body !== null && typeof body === 'object' && !ArrayBuffer.isView(body)) return this.json(body);
  return rawBody(this, state, body, () => state.send.call(this, body));
}

function guardedEnd(this: Response, state: State, chunk?: unknown, ...rest: unknown[]): Response {
  if (state.refused && !state.inPipeline) return this;
  if (state.inPipeline || state.kind === 'non-phi' || this.headersSent || typeof chunk === 'function') {
    return (state.end as (...a: unknown[]) => Response).call(this, chunk, ...rest);
  }
  return rawBody(this, state, chunk, () => (state.end as (...a: unknown[]) => Response).call(this, chunk, ...rest));
}

function guardedWrite(this: Response, state: State, chunk: unknown, ...rest: unknown[]): boolean {
  if (state.refused && !state.inPipeline) return false;
  if (state.inPipeline || state.kind === 'non-phi' || allowsRaw(state)) {
    return (state.write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  }
  // A streamed body on a PHI or unmapped route cannot be filtered: refuse it.
  if (!this.headersSent) refuse(this, state, 500, 'raw_body_denied');
  else this.destroy();
  return false;
}

/**
 * Wraps json/send/end/write once on the prototype that defines Express's `json` (shared by every
 * app of that Express copy, sub-apps included, so a response stays guarded wherever it is sent
 * from). Responses phiguard has no state for pass straight through to the originals.
 */
function wrapResponse(res: Response): Originals {
  let proto: object | null = Object.getPrototypeOf(res) as object | null;
  while (proto !== null && !Object.hasOwn(proto, 'json')) proto = Object.getPrototypeOf(proto) as object | null;
  if (proto === null) throw new OptionsError('phiguard: this response has no res.json; @phiguard/express needs Express 5.');
  const known = wrapped.get(proto);
  if (known !== undefined) return known;
  const target = proto as Response;
  const originals: Originals = { json: target.json, send: target.send, end: target.end, write: target.write };
  wrapped.set(proto, originals);
  Object.defineProperties(proto, {
    json: method(function json(this: Response, body: unknown) {
      const state = states.get(this);
      return state === undefined ? originals.json.call(this, body) : guardedJson.call(this, state, body);
    }),
    send: method(function send(this: Response, body?: unknown) {
      const state = states.get(this);
      return state === undefined ? originals.send.call(this, body) : guardedSend.call(this, state, body);
    }),
    end: method(function end(this: Response, ...args: unknown[]) {
      const state = states.get(this);
      return state === undefined
        ? (originals.end as (...a: unknown[]) => Response).apply(this, args)
        : guardedEnd.call(this, state, ...args);
    }),
    write: method(function write(this: Response, ...args: unknown[]) {
      const state = states.get(this);
      return state === undefined
        ? (originals.write as (...a: unknown[]) => boolean).apply(this, args)
        : guardedWrite.call(this, state, args[0], ...args.slice(1));
    }),
  });
  return originals;
}

function method(value: (...args: never[]) => unknown): PropertyDescriptor {
  return { value, writable: true, configurable: true, enumerable: false };
}

function allowsRaw(state: State): boolean {
  return state.kind === 'phi' && state.resource !== null && state.runtime.guard.policy.resources.get(state.resource)?.rawBody === 'allow';
}

/** Strings, Buffers and streamed bodies: phiguard cannot see inside them. */
function rawBody(res: Response, state: State, body: unknown, pass: () => Response): Response {
  const empty = body === undefined || body === null || body === '' || (ArrayBuffer.isView(body) && body.byteLength === 0);
  if (res.statusCode >= 400) {
    if (empty && res.statusCode !== 404) return pass();
    return sendError(res, state, errorBody(codeOf(undefined, res.statusCode), res.statusCode, state.requestId));
  }
  if (empty) return pass();
  if (state.kind === 'unmapped') return refuseUnmapped(res, state);
  if (!allowsRaw(state)) {
    state.runtime.guard.recordError(state.context, state.resource!, state.action, 'raw_body_denied');
    refuse(res, state, 500, 'raw_body_denied');
    return res;
  }
  res.setHeader('Cache-Control', 'no-store');
  try {
    const pending = state.runtime.guard.write(rawDisclosure(state));
    if (pending) {
      pending.then(pass, (err: unknown) => refuse(res, state, statusOf(err), errorCode(err, statusOf(err))));
      return res;
    }
  } catch (err) {
    refuse(res, state, statusOf(err), errorCode(err, statusOf(err)));
    return res;
  }
  state.inPipeline = true;
  try {
    return pass();
  } finally {
    state.inPipeline = false;
  }
}

function rawDisclosure(state: State) {
  const ctx = state.context!;
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    action: state.action,
    outcome: 'success' as const,
    actor: { id: ctx.principal?.id ?? null, roles: ctx.roles, ip: ctx.request?.ip, userAgent: ctx.request?.userAgent },
    purposeOfUse: typeof ctx.purposeOfUse === 'string' ? ctx.purposeOfUse : null,
    resource: { type: state.resource! },
    disclosed: ['(raw body)'],
    transforms: {},
    request: { method: ctx.request?.method, route: ctx.request?.route, requestId: state.requestId, traceId: ctx.request?.traceId },
  };
}

function refuseUnmapped(res: Response, state: State): Response {
  const route = res.req.baseUrl + (res.req.route?.path ?? '(no route)');
  const { runtime } = state;
  if (runtime.logger && !runtime.warned.has(route) && runtime.warned.size < 1000) {
    runtime.warned.add(route);
    runtime.logger.error(
      { route: `${res.req.method} ${route}`, code: 'unmapped_route' },
      'phiguard refused a body on a route no resource claims: add it to a resource\'s routes, use phiResource(), or mark it nonPhi()',
    );
  }
  refuse(res, state, 500, 'unmapped_route');
  return res;
}

/**
 * Final error handler: answers with a code and the request id, and logs the error's name,
 * code and status only. Messages and stacks are never sent or logged: they often quote PHI
 * (JSON parse errors quote the body; database errors quote values).
 */
export function phiguardErrorHandler(options: { logger?: ErrorLogger } = {}) {
  return function phiguardErrorMiddleware(err: unknown, req: Request, res: Response, next: NextFunction): void {
    const state = stateOf(res);
    const status = statusOf(err);
    const code = errorCode(err, status);
    const requestId = state?.requestId;
    const logger = options.logger ?? state?.runtime.logger;
    const message =
      state?.runtime.errorMessages === 'redact' && err instanceof Error && typeof err.message === 'string'
        ? state.runtime.guard.scanner.redact(err.message.slice(0, 1000))
        : undefined;
    logger?.error(
      { err: { type: err instanceof Error ? err.name : typeof err, code, status, message }, requestId, route: req.route?.path },
      'request failed',
    );
    if (state?.kind === 'phi' && state.resource !== null) state.runtime.guard.recordError(state.context, state.resource, state.action, code);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (state === undefined) {
      res.status(status).setHeader('Cache-Control', 'no-store');
      res.json(errorBody(code, status, requestId));
      return;
    }
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    refuse(res, state, status, code);
    void next; // error handlers need four parameters to be recognised by Express
  };
}
