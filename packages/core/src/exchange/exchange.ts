/**
 * The request exchange: the one place where phiguard decides what happens to a request and its
 * response. An adapter hands it plain facts (method, path, headers, the route that ran, the
 * resolved context, the handler's value or bytes) and gets plain answers back (proceed, or a
 * status, headers and body to send). Every audit, error-code, step-up and break-glass decision is
 * made here, once, so the Express and NestJS adapters cannot drift.
 *
 *   begin ─► claim / skip ─► admit (context, grant, decision) ─► inspect (request DLP)
 *         ─► release / releaseRaw (projection, audit)  |  fail / answerError (error answers)
 */
import { randomUUID } from 'node:crypto';
import { match, type MatchFunction, type ParamData } from 'path-to-regexp';
import { AccessDeniedError, AuthenticationRequiredError, OptionsError, PhiGuardError } from '../errors.js';
import { actionForMethod, denialEvent, disclosureEvent, queryOf, type AuditAction } from '../audit/event.js';
import type { AccessContext, RequestInfo } from '../context.js';
import type { PurposeOfUse } from '../purpose.js';
import type { CompiledResource } from '../policy/compile.js';
import type { Plan } from '../policy/plan.js';
import type { PhiGuard } from '../guard.js';
import { didYouMean } from '../suggest.js';
import { option, optionsSchema, type OptionsSchema } from '../options.js';
import { canonicalId } from '../ids.js';

export { canonicalId };
import { JSON_TYPE, type Answer, codeOf, errorBody, errorHeaders, reasonOf, statusOf } from './http.js';

/** PHI-free operational lines (error name, code, status, request id). pino fits. */
export interface ErrorLogger {
  error(obj: object, msg?: string): void;
}

/** Options of {@link createExchangeHost}: how an application wants requests handled, adapter-neutral. */
export interface ExchangeOptions {
  /**
   * A body sent on a route no resource claims: `'deny'` (default) answers 500 `unmapped_route`,
   * because nobody classified what it carries; `'pass'` sends it unchanged.
   */
  readonly onUnmappedRoute?: 'deny' | 'pass';
  /** Routes that carry no PHI, as `'METHOD /path'` (`'GET /health'`, `'* /metrics'`): matched exactly, never as a prefix. */
  readonly nonPhi?: readonly string[];
  /**
   * Application error codes (`patient_not_found`) that may reach clients. Any other code an error
   * or error body carries is replaced by the generic code of its status: codes can quote values.
   */
  readonly errorCodes?: readonly string[];
  /** Receives PHI-free lines about errors. */
  readonly logger?: ErrorLogger;
  /**
   * What error lines carry of a thrown error's message: `'omit'` (default) or `'redact'` (through
   * the DLP scanner; as good as its recall).
   */
  readonly errorMessages?: 'omit' | 'redact';
}

/** The options of {@link createExchangeHost}, named as phiguard's; adapters extend them. */
export const EXCHANGE_OPTIONS: OptionsSchema<ExchangeOptions> = optionsSchema<ExchangeOptions>('phiguard', {
  onUnmappedRoute: option.oneOf(['deny', 'pass']),
  nonPhi: option.array('a list of routes such as "GET /health"'),
  errorCodes: option.array('a list of token-shaped codes (`patient_not_found`)', (l) => l.every((c) => typeof c === 'string' && /^[a-z][a-z0-9_.-]{0,63}$/i.test(c))),
  logger: option.implementing('a logger with error(obj, msg) (pino)', 'error'),
  errorMessages: option.oneOf(['omit', 'redact']),
});

/** The option names {@link ExchangeOptions} has. */
export const EXCHANGE_OPTION_KEYS: readonly string[] = EXCHANGE_OPTIONS.keys;

/** What an adapter knows about a request before any route runs. */
export interface RequestFacts {
  readonly method: string;
  /** The URL path as received, without the query string. */
  readonly path: string;
  /** The query string as received (after `?`), if any: only its parameter names are kept. */
  readonly query?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly ip?: string;
}

/** The request facts from a URL as received (`/charts/7?from=…`): the path and query string split once, for every adapter. */
export function requestFacts(method: string, url: string, headers: RequestFacts['headers'], ip?: string): RequestFacts {
  const q = url.indexOf('?');
  return { method, path: q === -1 ? url : url.slice(0, q), query: q === -1 ? undefined : url.slice(q + 1), headers, ip };
}

/** A route claimed for a resource. */
export interface Claim {
  readonly resource: string;
  /** The route pattern that ran (`/patients/:id/results`), for audit; never the concrete URL. */
  readonly route?: string;
  /** Route parameters as the framework decoded them. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The audit action (default from the method). */
  readonly action?: AuditAction;
  /**
   * Whether a break-glass grant may decide this route. Default: where the resource has emergency
   * (ETREAT) rules. A grant invoked elsewhere is dropped and the ordinary decision applies.
   */
  readonly allowBreakGlass?: boolean;
  /** The purpose assumed when the caller asserts none (a route default). */
  readonly defaultPurpose?: PurposeOfUse;
  /** A handler's narrowing below the policy: takes fields away, never adds. */
  readonly narrow?: (value: unknown, context: AccessContext) => unknown;
}

/** A value released under the caller's plan, ready to serialize. */
export interface Released {
  /** The projected value (`release(value)`), or null when released as text. */
  readonly body: unknown;
  /** The projected value's JSON text (`release(value, 'json')`): serialized in the same pass as the projection. */
  readonly json?: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Proceed (null) or answer in the handler's place. */
export type Step = Answer | null;

/** Returned where an asynchronous store or sink must answer first. */
export type Maybe<T> = T | Promise<T>;

/** How a route was classified for a request: claimed for a resource, carrying no PHI, or unclaimed. */
export type RouteKind = 'phi' | 'non-phi' | 'unmapped';

/** One request's exchange with the engine. */
export interface Exchange {
  readonly host: ExchangeHost;
  readonly requestId: string;
  readonly kind: RouteKind;
  readonly resource: string | null;
  readonly route: string | undefined;
  readonly action: AuditAction;
  readonly context: AccessContext | null;
  readonly plan: Plan | null;
  /** Whether a break-glass grant may decide the claimed route (the claim's word, else the resource's emergency rules). */
  readonly allowBreakGlass: boolean;
  /** True once admit() ran to a decision (allowed or refused). */
  readonly decided: boolean;
  /** True once phiguard answered in the handler's place; later writes are dropped. */
  readonly refused: boolean;
  /** Headers to set on every response (the request id). */
  readonly headers: Readonly<Record<string, string>>;
  /** Claims the request for a resource; until the decision a later claim replaces an earlier one. */
  claim(claim: Claim): void;
  /** Marks the route as carrying no PHI: bodies pass, nothing is audited. */
  skip(): void;
  /** Records the route pattern that ran, for messages and audit, when no claim names it. */
  ranRoute(route: string): void;
  /** Resolves the context, validates a grant, decides; audits a refusal. */
  admit(resolve: () => Maybe<AccessContext | null | undefined>): Maybe<Step>;
  /** Whether the request carries a body that the resource's DLP must read before the handler. */
  needsInspection(): boolean;
  /** Applies request DLP: the body the handler receives, or an answer (422, 415). */
  inspect(contentType: string, body: unknown): Maybe<{ readonly body: unknown } | Answer>;
  /** Projects, decrypts and audits a value for the caller: as a value, or (`'json'`) as its JSON text. */
  release(value: unknown, as?: 'value' | 'json'): Maybe<Released | Answer>;
  /** A raw body (bytes, text, a stream): passes (audited) where the resource allows it, else an answer. */
  releaseRaw(): Maybe<Step>;
  /** The answer for an error thrown while serving the request; audited once on PHI routes. */
  fail(err: unknown): Answer;
  /** The answer replacing an error body the application sent itself (status ≥ 400). */
  answerError(status: number, body?: unknown): Answer;
  /** The refusal of a body on a route no resource claims (`deny` mode), logged once per route. */
  refuseUnmapped(): Answer;
  /**
   * Before the handler of a route no resource claims (`deny` mode): a write (POST, PUT, PATCH,
   * DELETE) is refused now, so that its handler never runs only for its answer to be refused
   * (a client retrying would repeat the side effect). Null for reads, which are refused only
   * if they answer with a body.
   */
  beforeUnmapped(): Answer | null;
  /** Marks that phiguard answered; later writes are dropped. */
  markRefused(): void;
}

/** Per-application state shared by every exchange: the engine, the route table, options. */
export interface ExchangeHost {
  readonly guard: PhiGuard;
  readonly options: Required<Pick<ExchangeOptions, 'onUnmappedRoute' | 'errorMessages'>> & ExchangeOptions;
  /** Starts the exchange of one request. */
  begin(facts: RequestFacts): Exchange;
  /**
   * The policy route a method and route pattern (or concrete path) fall under: a resource claim,
   * `'non-phi'` for listed non-PHI routes, or null.
   */
  match(method: string, path: string): { readonly resource: string; readonly route: string; readonly params: Record<string, unknown> } | 'non-phi' | null;
  /** Logs an error line with name, code, status and request id (never the message, unless redacted). */
  logError(err: unknown, exchange: Exchange | undefined, route: string | undefined): void;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;
const ROUTE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|\*)\s+(\/\S*)$/;

interface RouteEntry {
  readonly method: string;
  readonly route: string;
  readonly resource: string | null;
  readonly match: MatchFunction<ParamData>;
  /** The pattern with parameter names erased, to compare with the pattern a framework ran. */
  readonly shape: string;
}

/** `/patients/:id/results` and `/patients/:pid/results` have one shape. */
function shapeOf(pattern: string): string {
  return pattern.replace(/:[A-Za-z_$][\w$]*/g, ':').replace(/\/+$/, '') || '/';
}

/** Creates the per-application host of exchanges. Validates eagerly. */
export function createExchangeHost(guard: PhiGuard, options: ExchangeOptions = {}): ExchangeHost {
  const { onUnmappedRoute = 'deny', errorMessages = 'omit', errorCodes = [], nonPhi = [] } = EXCHANGE_OPTIONS.parse(options);
  const allowedCodes = new Set(errorCodes);
  const entries: RouteEntry[] = [];
  for (const resource of guard.policy.resources.values()) {
    for (const r of resource.routes) entries.push(entry(r.method, r.path, resource.name));
  }
  // Non-PHI routes from the policy and from the adapter's options, one list.
  for (const r of [...(guard.policy.nonPhi ?? []), ...nonPhi]) {
    const m = typeof r === 'string' ? ROUTE.exec(r.trim()) : null;
    if (m === null) throw new OptionsError(`nonPhi: "${String(r)}" is not a route; write it as "GET /health"`);
    entries.push(entry(m[1]!, m[2]!, null));
  }
  // Two resources claiming one route would leave the choice to declaration order: a leak waiting
  // for a reordering. Refused at start-up (a non-PHI listing of a claimed route too).
  const seen = new Map<string, string | null>();
  for (const e of entries) {
    const key = `${e.method} ${e.shape}`;
    const prior = seen.get(key);
    if (prior !== undefined && prior !== e.resource) {
      throw new OptionsError(`route ${e.method} ${e.route} is claimed by ${prior ?? 'nonPhi'} and ${e.resource ?? 'nonPhi'}: give it to one resource`);
    }
    seen.set(key, e.resource);
  }
  const warned = new Set<string>();
  const shapes = new Map<string, string>();

  const host: ExchangeHost = {
    guard,
    options: { ...options, onUnmappedRoute, errorMessages },
    begin: (facts) => new RequestExchange(host, facts, allowedCodes, warned),
    match(method, path) {
      let shape = shapes.get(path);
      if (shape === undefined) {
        shape = shapeOf(path);
        // Route patterns are few and worth keeping; concrete URLs (which may name a patient) are not kept.
        if (path.includes(':') && shapes.size < 10_000) shapes.set(path, shape);
      }
      // The pattern the framework ran, when it matches one listed, decides; a concrete path otherwise.
      for (const e of entries) {
        if (!methodMatches(e.method, method)) continue;
        if (e.shape === shape) return e.resource === null ? 'non-phi' : { resource: e.resource, route: e.route, params: {} };
      }
      for (const e of entries) {
        if (!methodMatches(e.method, method)) continue;
        const m = e.match(path);
        if (m !== false) return e.resource === null ? 'non-phi' : { resource: e.resource, route: e.route, params: m.params as Record<string, unknown> };
      }
      return null;
    },
    logError(err, exchange, route) {
      const log = options.logger;
      if (log === undefined) return;
      const status = statusOf(err);
      const code = codeOf(err, status, allowedCodes);
      const message =
        errorMessages === 'redact' && err instanceof Error && typeof err.message === 'string'
          ? guard.scanner.redact(err.message.slice(0, 1000))
          : undefined;
      log.error(
        { err: { type: err instanceof Error ? err.name : typeof err, code, status, message }, requestId: exchange?.requestId, route },
        'request failed',
      );
    },
  };
  return host;
}

function entry(method: string, route: string, resource: string | null): RouteEntry {
  let matcher: MatchFunction<ParamData>;
  try {
    matcher = match(route, { decode: safeDecode });
  } catch {
    // path-to-regexp 8 syntax (Express 5): `/a{/:id}` rather than Express 4's `/a/:id?`.
    throw new OptionsError(`route ${method} ${route} (${resource ?? 'nonPhi'}) is not a path phiguard can read: write optional parts as {/:id} and wildcards as /*name`);
  }
  return { method, route, resource, match: matcher, shape: shapeOf(route) };
}

function methodMatches(declared: string, actual: string): boolean {
  return declared === 'ALL' || declared === '*' || declared === actual || (declared === 'GET' && actual === 'HEAD');
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * What an audit event records of a request: method, route pattern (never the URL), client
 * address, user agent, request id, the trace id and the query's parameter names. One reading of the request facts for the exchange and for the adapters' own endpoints.
 */
export function requestInfoFrom(facts: RequestFacts, requestId: string, route: string | undefined): RequestInfo {
  const ua = facts.headers['user-agent'];
  const userAgent = typeof ua === 'string' ? ua : undefined;
  const traceparent = facts.headers.traceparent;
  const traceId = (typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null)?.[1];
  return { method: facts.method, route, ip: facts.ip, userAgent, requestId, traceId, query: queryNames(facts.query) };
}

const hasBody = (headers: RequestFacts['headers']): boolean => {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
};

class RequestExchange implements Exchange {
  readonly requestId: string;
  readonly headers: Readonly<Record<string, string>>;
  kind: RouteKind;
  resource: string | null = null;
  route: string | undefined = undefined;
  action: AuditAction;
  context: AccessContext | null = null;
  plan: Plan | null = null;
  decided = false;
  refused = false;
  private compiled: CompiledResource | null = null;
  private claimed: Claim | null = null;
  private subject: string | undefined = undefined;
  /** Set once an event about this request's failure or refusal is on record. */
  private audited = false;

  constructor(
    readonly host: ExchangeHost,
    private readonly facts: RequestFacts,
    private readonly allowedCodes: ReadonlySet<string>,
    private readonly warned: Set<string>,
  ) {
    const incoming = facts.headers['x-request-id'];
    this.requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    this.headers = { 'X-Request-Id': this.requestId };
    this.action = actionForMethod(facts.method);
    // Preflights and Express's automatic OPTIONS answers carry allowed methods, never PHI.
    this.kind = facts.method === 'OPTIONS' || host.options.onUnmappedRoute === 'pass' ? 'non-phi' : 'unmapped';
  }

  claim(claim: Claim): void {
    // Until the decision, a later claim (the route that actually ran) replaces a first one (by URL).
    if (this.decided || this.facts.method === 'OPTIONS') return;
    const compiled = this.host.guard.policy.resources.get(claim.resource);
    if (compiled === undefined) {
      const names = [...this.host.guard.policy.resources.keys()];
      throw new OptionsError(`the policy has no resource "${claim.resource}"${didYouMean(claim.resource, names)}`);
    }
    this.claimed = claim;
    this.compiled = compiled;
    this.kind = 'phi';
    this.resource = claim.resource;
    this.route = claim.route;
    if (claim.action !== undefined) this.action = claim.action;
    const raw = compiled.subjectParam === null ? undefined : claim.params?.[compiled.subjectParam];
    this.subject = canonicalId(raw);
  }

  skip(): void {
    if (this.claimed === null) this.kind = 'non-phi';
  }

  ranRoute(route: string): void {
    if (this.claimed === null) this.route = route;
  }

  markRefused(): void {
    this.refused = true;
  }

  private requestInfo(): RequestInfo {
    return requestInfoFrom(this.facts, this.requestId, this.route);
  }

  admit(resolve: () => Maybe<AccessContext | null | undefined>): Maybe<Step> {
    if (this.kind !== 'phi' || this.decided) return this.refused ? this.fail(new OptionsError('refused')) : null;
    this.decided = true;
    let resolved: Maybe<AccessContext | null | undefined>;
    try {
      resolved = resolve();
    } catch (err) {
      return this.unauthenticated(err);
    }
    if (isPromise(resolved)) return resolved.then((c) => this.withContext(c), (err: unknown) => this.unauthenticated(err));
    return this.withContext(resolved);
  }

  private withContext(resolved: AccessContext | null | undefined): Maybe<Step> {
    if (resolved === null || resolved === undefined || typeof resolved !== 'object') return this.unauthenticated(undefined);
    const claim = this.claimed!;
    const purpose =
      resolved.purposeOfUse === undefined || resolved.purposeOfUse === null || resolved.purposeOfUse === ''
        ? claim.defaultPurpose ?? resolved.purposeOfUse
        : resolved.purposeOfUse;
    // The resolver's own request facts (rare) override the adapter's.
    const request = resolved.request === undefined ? this.requestInfo() : { ...this.requestInfo(), ...resolved.request };
    let context: AccessContext = { ...resolved, purposeOfUse: purpose ?? null, request };
    context = this.withGrant(context);
    this.context = context;
    const { guard } = this.host;
    let completed: Maybe<AccessContext>;
    try {
      completed = guard.resolve(context, this.resource!, this.subject);
    } catch (err) {
      // The state store or relationship resolver could not answer: fail closed (503), audited.
      return this.fail(err);
    }
    if (completed !== context && isPromise(completed)) {
      return completed.then(
        (full) => this.decide(full),
        (err: unknown) => {
          // A contained user or client: resolve() recorded the denial; one event per request.
          if (err instanceof AccessDeniedError) this.audited = true;
          return this.fail(err);
        },
      );
    }
    return this.decide(completed as AccessContext);
  }

  get allowBreakGlass(): boolean {
    return this.claimed === null ? false : (this.claimed.allowBreakGlass ?? this.compiled!.emergency);
  }

  /** One rule for every adapter: a grant decides only where the route allows it. */
  private withGrant(context: AccessContext): AccessContext {
    if (!this.allowBreakGlass) {
      if (context.breakGlass === undefined) return context;
      const { breakGlass: _dropped, ...rest } = context;
      return rest;
    }
    const header = this.facts.headers['x-break-glass-grant'];
    if (context.breakGlass !== undefined || typeof header !== 'string' || header.length === 0) return context;
    return { ...context, breakGlass: { grantId: header.slice(0, 64) } };
  }

  private decide(context: AccessContext): Maybe<Step> {
    this.context = context;
    const decision = this.host.guard.authorize(context, this.resource!, this.action, this.subject);
    if (decision.effect === 'deny') {
      this.audited = true; // authorize() recorded the denial
      const answer = this.answer(403, 'access_denied', decision.reason);
      // With an asynchronous sink the refusal waits until the denial is on record.
      return decision.pending === undefined ? answer : decision.pending.then(() => answer);
    }
    this.plan = decision.plan;
    return null;
  }

  /** 401 (or the resolver's own PhiGuardError), audited with where it came from and no actor. */
  private unauthenticated(err: unknown): Maybe<Answer> {
    const e = err instanceof PhiGuardError ? err : new AuthenticationRequiredError();
    const anonymous = { principal: undefined, roles: [], request: this.requestInfo() } as unknown as AccessContext;
    this.audited = true;
    let pending: Promise<void> | undefined;
    try {
      pending = this.host.guard.write(denialEvent(this.action, anonymous, this.resource!, e.code))?.catch(() => undefined);
    } catch {
      /* refused either way */
    }
    const answer = this.answerFor(e);
    return pending === undefined ? answer : pending.then(() => answer);
  }

  needsInspection(): boolean {
    return this.kind === 'phi' && this.plan !== null && this.compiled!.dlp !== null && hasBody(this.facts.headers);
  }

  inspect(contentType: string, body: unknown): Maybe<{ readonly body: unknown } | Answer> {
    if (!this.needsInspection()) return { body };
    // A body DLP cannot read (multipart, binary, a JSON type the app parses but phiguard does not
    // know) is refused rather than let through unscanned.
    const readable = JSON_TYPE.test(contentType) ? body !== undefined : /^text\//i.test(contentType) && typeof body === 'string';
    if (!readable) {
      this.audited = true;
      return this.answer(415, 'dlp_unscannable');
    }
    let inspection;
    try {
      inspection = this.host.guard.inspect(this.context, this.resource!, this.action, body);
    } catch (err) {
      this.audited = true; // a block is recorded by the engine, with counts by type
      return this.answerFor(err);
    }
    if (inspection === null) return { body };
    const value = inspection.value;
    if (inspection.pending === undefined) return { body: value };
    return inspection.pending.then(
      () => ({ body: value }),
      (err: unknown) => {
        this.audited = true; // the audit store is down: recording the failure would fail too
        return this.answerFor(err);
      },
    );
  }

  release(value: unknown, as: 'value' | 'json' = 'value'): Maybe<Released | Answer> {
    if (this.kind === 'non-phi') return { body: value, headers: {} };
    if (this.kind === 'unmapped') return this.refuseUnmapped();
    if (this.plan === null) return this.fail(new OptionsError('release before admit'));
    const { guard } = this.host;
    const context = this.context!;
    const claim = this.claimed!;
    // Plans and a handler's narrowing read values through the one toJSON reader (policy/json.ts).
    let body = value;
    let prepared;
    try {
      if (claim.narrow !== undefined) body = claim.narrow(value, context);
      prepared = guard.prepare(this.plan, body);
    } catch (err) {
      return this.fail(err);
    }
    if (prepared === null) return this.finishRelease(body, null, as);
    return prepared.then(
      (plaintexts) => this.finishRelease(body, plaintexts, as),
      (err: unknown) => this.fail(err),
    );
  }

  private finishRelease(body: unknown, plaintexts: ReadonlyMap<string, unknown> | null, as: 'value' | 'json'): Maybe<Released | Answer> {
    let out: Released;
    let pending: Promise<void> | undefined;
    try {
      const { guard } = this.host;
      if (as === 'json') {
        const r = guard.releaseJson(this.plan!, body, this.context!, this.action, plaintexts, this.subject);
        out = { body: null, json: r.json, headers: NO_STORE };
        pending = r.pending;
      } else {
        const r = guard.release(this.plan!, body, this.context!, this.action, plaintexts, this.subject);
        out = { body: r.value === undefined ? null : r.value, headers: NO_STORE };
        pending = r.pending;
      }
    } catch (err) {
      this.audited = true; // release() audits its own failures (denial, step-up, limits)
      return this.answerFor(err);
    }
    if (pending === undefined) return out;
    return pending.then(
      () => out,
      (err: unknown) => {
        this.audited = true;
        return this.answerFor(err);
      },
    );
  }

  releaseRaw(): Maybe<Step> {
    if (this.kind === 'non-phi') return null;
    if (this.kind === 'unmapped') return this.refuseUnmapped();
    if (this.plan === null) return this.fail(new OptionsError('release before admit'));
    if (this.compiled!.rawBody !== 'allow') {
      this.host.guard.recordError(this.context, this.resource!, this.action, 'raw_body_denied');
      this.audited = true;
      return this.answer(500, 'raw_body_denied');
    }
    const raw = disclosureEvent(
      this.action,
      this.context!,
      { resource: this.resource!, purposeOfUse: this.plan.purposeOfUse, roles: this.plan.roles, disclosed: ['(raw body)'], transforms: {} },
      this.subject === undefined ? {} : { patientRef: this.host.guard.policy.patientRef(this.subject) },
    );
    // A raw body is a query only where the resource says so (an extract, a report): its shape is not read.
    const query = this.action === 'read' ? queryOf(this.compiled!, this.context!, false) : undefined;
    const event = query === undefined ? raw : { ...raw, query };
    let pending;
    try {
      pending = this.host.guard.write(event);
    } catch (err) {
      return this.answerFor(err);
    }
    if (pending === undefined) return null;
    return pending.then(
      () => null,
      (err: unknown) => this.answerFor(err),
    );
  }

  fail(err: unknown): Answer {
    const status = statusOf(err);
    const code = codeOf(err, status, this.allowedCodes);
    // Decisions (401/403/422…) are audited, not logged; anything else is an operational error.
    if (!(err instanceof PhiGuardError) || status >= 500) this.host.logError(err, this, this.route);
    // 45 CFR 164.312(b): a failure while serving PHI is on record, once. A request that failed
    // before its decision (a body the app's parser rejected) never reached PHI: logged, not audited.
    if (this.kind === 'phi' && this.decided && !this.audited) {
      this.audited = true;
      this.host.guard.recordError(this.context, this.resource!, this.action, code);
    }
    return { status, headers: { ...errorHeaders(err, status), ...this.headers }, body: errorBody(code, status, this.requestId, reasonOf(err)) };
  }

  answerError(status: number, body?: unknown): Answer {
    const code = codeOf(body, status, this.allowedCodes);
    if (this.kind === 'phi' && this.decided && !this.audited) {
      this.audited = true;
      this.host.guard.recordError(this.context, this.resource!, this.action, code);
    }
    return { status, headers: { ...errorHeaders(undefined, status), ...this.headers }, body: errorBody(code, status, this.requestId) };
  }

  beforeUnmapped(): Answer | null {
    if (this.kind !== 'unmapped') return null;
    const m = this.facts.method;
    return m === 'GET' || m === 'HEAD' || m === 'OPTIONS' ? null : this.refuseUnmapped();
  }

  refuseUnmapped(): Answer {
    const route = `${this.facts.method} ${this.route ?? '(no route)'}`;
    const log = this.host.options.logger;
    if (log !== undefined && !this.warned.has(route) && this.warned.size < 1000) {
      this.warned.add(route);
      log.error(
        { route, code: 'unmapped_route' },
        'phiguard refused a body on a route no resource claims: claim it for a resource (policy routes, phiResource(), @PhiResource) or list it as non-PHI',
      );
    }
    return this.answer(500, 'unmapped_route');
  }

  private answer(status: number, code: string, reason?: string): Answer {
    return { status, headers: { ...errorHeaders(undefined, status), ...this.headers }, body: errorBody(code, status, this.requestId, reason) };
  }

  /** The answer for an error whose audit is already settled. */
  private answerFor(err: unknown): Answer {
    const status = statusOf(err);
    if (!(err instanceof PhiGuardError) || status >= 500) this.host.logError(err, this, this.route);
    return {
      status,
      headers: { ...errorHeaders(err, status), ...this.headers },
      body: errorBody(codeOf(err, status, this.allowedCodes), status, this.requestId, reasonOf(err)),
    };
  }
}

const NO_STORE: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store' });

const MAX_QUERY_NAMES = 32;
/** The parameter names of a query string, sorted and unique, bounded; the values are dropped here. */
function queryNames(query: string | undefined): readonly string[] | undefined {
  if (query === undefined || query === '') return undefined;
  const names = new Set<string>();
  for (const name of new URLSearchParams(query).keys()) {
    if (names.size === MAX_QUERY_NAMES) break;
    if (name !== '') names.add(name.slice(0, 64));
  }
  return names.size === 0 ? undefined : [...names].sort();
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return v !== null && typeof v === 'object' && typeof (v as Promise<T>).then === 'function';
}
