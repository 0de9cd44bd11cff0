import { OptionsError, type AccessContext, type CompiledResource, type PhiGuard } from '@phiguard/core';
import {
  compileNarrowing,
  createAdapterHost,
  requestFacts,
  guardResponse,
  didYouMean,
  type HandlerNarrowing,
  type Exchange,
  type ExchangeHost,
  type GatedResponse,
  type Maybe,
  type ResponseGate,
  type Step,
} from '@phiguard/core/adapter';
import { type AuditAction } from '@phiguard/core/audit';
import type { MinimumNecessaryRules } from './decorators.js';
import { type ContextResolver, type ErrorLogger, type PhiGuardModuleOptions } from './options.js';

/** @internal How the module's options are named in messages. */
export const LABEL = 'PhiGuardModule';

/** How a route was classified for this request. */
export type { RouteKind } from '@phiguard/core/adapter';

/** What phiguard keeps for a request: its exchange with the engine and the response gate. */
export interface PhiRequestState {
  readonly exchange: Exchange;
  readonly gate: ResponseGate | null;
  readonly requestId: string;
}

const states = new WeakMap<object, PhiRequestState>();

/** The state phiguard keeps for a request (null before the guard ran, or on non-HTTP contexts). */
export function phiRequestState(req: object): PhiRequestState | null {
  return states.get(req) ?? null;
}

/** The access context resolved for a request on a PHI route (null elsewhere). */
export function getAccessContext(req: object): AccessContext | null {
  return states.get(req)?.exchange.context ?? null;
}

/** The parts of an Express request the adapter reads. */
export interface HttpRequest {
  method: string;
  originalUrl?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, unknown>;
  body?: unknown;
  ip?: string;
  route?: { path?: string };
}

/**
 * @internal Starts (once per request) the exchange and, where the response is a Node response,
 * the gate that holds its body until the exchange released it.
 */
export function enterRequest(runtime: PhiGuardRuntime, req: HttpRequest, res: unknown, decide: () => Maybe<Step>): PhiRequestState {
  const known = states.get(req);
  if (known !== undefined) return known;
  const exchange = runtime.host.begin(requestFacts(req.method, req.originalUrl ?? req.url ?? '/', req.headers, req.ip));
  const r = res as Partial<GatedResponse> | undefined;
  for (const [k, v] of Object.entries(exchange.headers)) r?.setHeader?.(k, v);
  const gated = r !== undefined && typeof r.writeHead === 'function' && typeof r.end === 'function' && typeof r.getHeaderNames === 'function';
  const gate = gated ? guardResponse(r as GatedResponse, exchange, { decide, done: () => states.delete(req) }) : null;
  const state: PhiRequestState = { exchange, gate, requestId: exchange.requestId };
  states.set(req, state);
  return state;
}

/** A handler's `@MinimumNecessary` narrowing, compiled by core against its resource. */
export type Narrowing = HandlerNarrowing;

/**
 * The per-application runtime: the engine, the context resolver and the handler narrowings. One
 * per `PhiGuardModule.forRoot`, created at bootstrap so misconfiguration fails the start-up.
 */
export class PhiGuardRuntime {
  readonly engine: PhiGuard;
  readonly host: ExchangeHost;
  readonly resolve: ContextResolver;
  readonly logger: ErrorLogger | undefined;
  private readonly narrowings = new WeakMap<object, Narrowing>();

  constructor(options: PhiGuardModuleOptions) {
    // Core reads the shared options (engine or `guard`, exchange, logger) and refuses unknown keys.
    ({ guard: this.engine, host: this.host, logger: this.logger } = createAdapterHost(options, { label: LABEL }));
    this.resolve = options.context;
  }

  /** Checks a resource name at bootstrap. */
  resourceOf(name: string, where: string): CompiledResource {
    const resource = this.engine.policy.resources.get(name);
    if (resource === undefined) {
      const names = [...this.engine.policy.resources.keys()];
      throw new OptionsError(`@PhiResource("${name}") on ${where}: the policy has no such resource${didYouMean(name, names)}`);
    }
    return resource;
  }

  /** Compiles a `@MinimumNecessary` rule set (at bootstrap, once per handler); problems name the handler and the field. */
  narrowingFor(handler: object, resourceName: string, rules: MinimumNecessaryRules, where: string): Narrowing {
    const known = this.narrowings.get(handler);
    if (known !== undefined) return known;
    this.resourceOf(resourceName, where);
    let narrowing: Narrowing;
    try {
      narrowing = compileNarrowing(this.engine.policy, resourceName, rules, `@MinimumNecessary on ${where}`);
    } catch (err) {
      const problems = (err as { problems?: readonly string[] }).problems ?? [String(err)];
      throw new OptionsError(problems.join('; '));
    }
    this.narrowings.set(handler, narrowing);
    return narrowing;
  }
}
