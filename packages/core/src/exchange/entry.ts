/**
 * What every adapter does around the exchange, once: the per-request entry (begin the exchange,
 * set its headers, hold a Node response behind the gate, keep the state until the gate's `done`
 * drops it), the checks of names an adapter was given (a resource, a handler's narrowing), the
 * facts of a break-glass request, the answer to a refusal the adapter makes itself, and the
 * release of a value a handler returned. Adapters translate their framework to these calls.
 */
import { ServerResponse } from 'node:http';
import type { AccessContext, RequestInfo } from '../context.js';
import type { AuditAction } from '../audit/event.js';
import { OptionsError } from '../errors.js';
import type { CompiledPolicy, CompiledResource } from '../policy/compile.js';
import { compileNarrowing, type HandlerNarrowing, type NarrowingRules } from '../policy/narrow.js';
import { didYouMean } from '../suggest.js';
import type { BreakGlassFacts } from './break-glass.js';
import { requestFacts, requestInfoFrom, type Claim, type Exchange, type ExchangeHost, type Maybe, type RequestFacts, type Step } from './exchange.js';
import { errorBody, errorHeaders, isAnswer, type Answer } from './http.js';
import { guardResponse, type GatedResponse, type ResponseGate } from './response.js';

/** What phiguard keeps for a request: its exchange with the engine and the response gate. */
export interface RequestEntry {
  readonly exchange: Exchange;
  /** Null when the request was entered without a Node response (nothing to hold). */
  readonly gate: ResponseGate | null;
  readonly requestId: string;
  /** What the adapter knew of the request when it entered. */
  readonly facts: RequestFacts;
}

/** What an adapter knows about the route being served, handed to the application's context resolver. */
export interface RouteInfo {
  /** The resource the route serves (a decorator's or the policy's claim); null on the break-glass endpoints. */
  readonly resource: string | null;
  /** The audit action (the route's own, else from the HTTP method). */
  readonly action: AuditAction;
  /** Route pattern (`/patients/:id/results`), never the concrete URL. */
  readonly route: string | undefined;
  /**
   * True when the route lets emergency access apply: only then is a break-glass grant
   * (`X-Break-Glass-Grant`, or `breakGlass` set by the resolver) honoured on it.
   */
  readonly allowBreakGlass: boolean;
}

/** The route facts of an exchange's claim, for the context resolver (what the route declared when it claimed). */
export function routeInfoOf(exchange: Exchange): RouteInfo {
  return { resource: exchange.resource, action: exchange.action, route: exchange.route, allowBreakGlass: exchange.allowBreakGlass };
}

/** The parts of a Node request (node:http, Express, Nest on Express) the request facts come from. */
export interface NodeRequest {
  readonly method: string;
  readonly originalUrl?: string;
  readonly url?: string;
  readonly headers: RequestFacts['headers'];
  readonly ip?: string;
}

/** The request facts of a Node request: the URL as the app received it (`originalUrl`, before any mount point strips it). */
export function nodeRequestFacts(req: NodeRequest): RequestFacts {
  return requestFacts(req.method, req.originalUrl ?? req.url ?? '/', req.headers, req.ip);
}

/** How a request is entered. */
export interface EntryStart {
  readonly host: ExchangeHost;
  readonly facts: RequestFacts;
  /** The response: the exchange's headers are set on it, and a Node response is held by the gate. */
  readonly response?: unknown;
  /** The gate's decision for a claimed request that reached its response undecided. */
  readonly decide: () => Maybe<Step>;
}

/** Per-request entries, keyed by an object that lives as long as the request (its request or response). */
export interface RequestEntries<E extends RequestEntry> {
  get(key: object): E | undefined;
  /**
   * The request's entry, made on the first call: later calls with the same key find it (and
   * ignore `start`). `extend` adds the adapter's own fields to the entry.
   */
  enter(key: object, start: EntryStart, extend: (entry: RequestEntry) => E): E;
}

/** True for a response the gate can hold (node:http ServerResponse, and Express's built on it). */
export function isGatedResponse(res: unknown): res is GatedResponse {
  // A ServerResponse first: reading three methods through an Express response's prototype chain
  // costs more than the rest of entering a request.
  if (res instanceof ServerResponse) return true;
  const r = res as Partial<GatedResponse> | null | undefined;
  return typeof r?.writeHead === 'function' && typeof r.end === 'function' && typeof r.getHeaderNames === 'function';
}

/** A store of request entries; one per adapter module. */
export function requestEntries<E extends RequestEntry = RequestEntry>(): RequestEntries<E> {
  // A WeakMap rather than a property: Express re-parents responses, after which added properties are slow.
  const entries = new WeakMap<object, E>();
  return {
    get: (key) => entries.get(key),
    enter(key, start, extend) {
      const known = entries.get(key);
      if (known !== undefined) return known;
      const exchange = start.host.begin(start.facts);
      const res = start.response as { setHeader?: (name: string, value: string) => unknown } | undefined;
      if (res instanceof ServerResponse || typeof res?.setHeader === 'function') for (const k in exchange.headers) res.setHeader!(k, exchange.headers[k]!);
      // After the last byte (`done`) the key forgets the entry: its gate and exchange would otherwise
      // age with a lingering response (keep-alive, a slow socket) into the old generation.
      const gate = isGatedResponse(res) ? guardResponse(res, exchange, { decide: start.decide, done: () => entries.delete(key) }) : null;
      const entry = extend({ exchange, gate, requestId: exchange.requestId, facts: start.facts });
      entries.set(key, entry);
      return entry;
    },
  };
}

/** A resource name where a route is claimed (a decorator, a middleware), checked before any policy is at hand. */
export function checkResourceName(name: string, label: string): string {
  /* Precondition: a resource name. */
  if (typeof name !== 'string' || name.length === 0) throw new OptionsError(`${label}(name) needs a resource name from the policy`);
  return name;
}

/**
 * The compiled resource a name an adapter was given (a decorator, a middleware) refers to; an
 * unknown name is an OptionsError `label: the policy has no such resource`, with a suggestion.
 */
export function resourceNamed(policy: CompiledPolicy, name: string, label: string): CompiledResource {
  const resource = policy.resources.get(name);
  if (resource === undefined) throw new OptionsError(`${label}: the policy has no such resource${didYouMean(name, policy.resources.keys())}`);
  return resource;
}

/** Where a handler narrows a resource, for messages. */
export interface NarrowingSite {
  /** Names the resource claim (`@PhiResource("X") on C.get()`), for an unknown resource. */
  readonly resource: string;
  /** Names the rule set (`@MinimumNecessary on C.get()`), for an unknown field or operator. */
  readonly rules: string;
}

/** Handlers' narrowings, compiled once per handler (at start-up) and then found by it. */
export interface NarrowingCache {
  /** The handler's narrowing of `resource`; problems are one OptionsError naming the site and every field. */
  of(handler: object, resource: string, rules: NarrowingRules, site: NarrowingSite): HandlerNarrowing;
  /** The narrowing compiled for the handler, if any. */
  get(handler: object): HandlerNarrowing | undefined;
}

export function narrowingCache(policy: CompiledPolicy): NarrowingCache {
  const compiled = new WeakMap<object, HandlerNarrowing>();
  return {
    get: (handler) => compiled.get(handler),
    of(handler, resource, rules, site) {
      const known = compiled.get(handler);
      if (known !== undefined) return known;
      resourceNamed(policy, resource, site.resource);
      let narrowing: HandlerNarrowing;
      try {
        narrowing = compileNarrowing(policy, resource, rules, site.rules);
      } catch (err) {
        // A start-up mistake in the application's wiring: one OptionsError listing every problem.
        const problems = (err as { problems?: readonly string[] }).problems ?? [String(err)];
        throw new OptionsError(problems.join('; '));
      }
      compiled.set(handler, narrowing);
      return narrowing;
    },
  };
}

/** The request for audit, from the entry's facts: the route pattern, never the URL; the trace id and query names as every event has them. */
export function requestInfoOf(entry: RequestEntry, route: string | undefined): RequestInfo {
  return requestInfoFrom(entry.facts, entry.requestId, route);
}

/** The facts of a break-glass request for {@link answerBreakGlass}. */
export function breakGlassFacts(entry: RequestEntry, route: string | undefined, resolve: BreakGlassFacts['resolve'], params: BreakGlassFacts['params'], body: unknown): BreakGlassFacts {
  return { resolve, request: requestInfoOf(entry, route), params, body };
}

/** A refusal the adapter makes itself (a route it serves that is switched off): a code, never a message. */
export function refusal(entry: RequestEntry | undefined, status: number, code: string, reason?: string): Answer {
  return { status, headers: errorHeaders(undefined, status), body: errorBody(code, status, entry?.requestId, reason) };
}

/**
 * Classifies the route that runs from what the adapter's declarations say of it: a route marked
 * as carrying no PHI is skipped, a claim is made, and a route with neither runs as unclaimed
 * ({@link runUnclaimed}). Returns the refusal of an unclassified write, or null.
 */
export function classifyRoute(exchange: Exchange, method: string, route: string | undefined, declared: 'non-phi' | Claim | undefined): Answer | null {
  if (declared === undefined) return runUnclaimed(exchange, method, route);
  if (declared === 'non-phi') exchange.skip();
  else exchange.claim(declared);
  return null;
}

/**
 * A route that runs with no resource claim: skipped where the policy lists it as non-PHI, else
 * recorded as unmapped. Returns the refusal of a write nobody classified (`deny` mode), before its
 * handler runs so there is no side effect to repeat; null otherwise.
 */
export function runUnclaimed(exchange: Exchange, method: string, route: string | undefined): Answer | null {
  if (exchange.host.match(method, route ?? '') === 'non-phi') exchange.skip();
  else if (route !== undefined) exchange.ranRoute(route);
  return exchange.beforeUnmapped();
}

/**
 * Decides a claimed request and applies request DLP to its body: the body the handler receives
 * (the one given when nothing was inspected), or the answer in the handler's place.
 */
export async function admitRequest(
  exchange: Exchange,
  resolve: () => Maybe<AccessContext | null | undefined>,
  contentType: string,
  body: unknown,
): Promise<{ readonly body: unknown } | Answer> {
  const refused = await exchange.admit(resolve);
  if (refused !== null) return refused;
  return exchange.needsInspection() ? exchange.inspect(contentType, body) : { body };
}

/** Text, binary data and streams (anything with `pipe`): values no plan can project field by field. */
export function isRawValue(value: unknown): boolean {
  if (typeof value === 'string' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  return value !== null && typeof value === 'object' && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/**
 * Releases what a handler returned through the caller's plan and tells the gate what passes: a
 * value is projected (then narrowed, when the handler narrows), a raw one (`raw`: text, bytes, a
 * stream) passes only where the resource allows raw bodies. Returns the body to send, or the
 * answer in its place. A handler that wrote the response itself and returned nothing passes.
 */
export async function releaseReturned(entry: RequestEntry, value: unknown, raw: boolean, narrowing: HandlerNarrowing | null): Promise<{ readonly body: unknown } | Answer> {
  const { exchange, gate } = entry;
  if (value === undefined && gate?.handled === true) return { body: value };
  if (raw) {
    const step = await exchange.releaseRaw();
    if (step !== null) return step;
    gate?.openRaw();
    return { body: value };
  }
  const released = await exchange.release(value);
  if (isAnswer(released)) return released;
  const body = narrowing === null ? released.body : narrowing.after(released.body);
  gate?.vouch(body, released.headers);
  return { body };
}
