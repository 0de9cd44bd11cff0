import { type AccessContext, type CompiledResource, type PhiGuard } from '@phiguard/core';
import {
  createAdapterHost,
  narrowingCache,
  nodeRequestFacts,
  requestEntries,
  resourceNamed,
  type EntryStart,
  type ErrorLogger,
  type ExchangeHost,
  type HandlerNarrowing,
  type NarrowingCache,
  type NodeRequest,
  type RequestEntry,
} from '@phiguard/core/adapter';
import type { MinimumNecessaryRules } from './decorators.js';
import { type ContextResolver, type PhiGuardModuleOptions } from './options.js';

/** @internal How the module's options are named in messages. */
export const LABEL = 'PhiGuardModule';

/** What phiguard keeps for a request: its exchange with the engine and the response gate (core's request entry). */
export type PhiRequestState = RequestEntry;

// Keyed by the request: Nest hands the same request object to guards, interceptors and filters.
const states = requestEntries();

/** The state phiguard keeps for a request (null before the guard ran, or on non-HTTP contexts). */
export function phiRequestState(req: object): PhiRequestState | null {
  return states.get(req) ?? null;
}

/** The access context resolved for a request on a PHI route (null elsewhere). */
export function getAccessContext(req: object): AccessContext | null {
  return states.get(req)?.exchange.context ?? null;
}

/** The parts of an Express request the adapter reads: core's Node request, with what the route matched. */
export interface HttpRequest extends NodeRequest {
  params?: Record<string, unknown>;
  body?: unknown;
  route?: { path?: string };
}

/** @internal Enters the request (once): core begins its exchange and gates a Node response. */
export function enterRequest(runtime: PhiGuardRuntime, req: HttpRequest, res: unknown, decide: EntryStart['decide']): PhiRequestState {
  return states.enter(req, { host: runtime.host, facts: nodeRequestFacts(req), response: res, decide }, (entry) => entry);
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
  /** Handlers' `@MinimumNecessary` narrowings, compiled at bootstrap. */
  readonly narrowings: NarrowingCache;

  constructor(options: PhiGuardModuleOptions) {
    // Core reads the shared options (engine or `guard`, exchange, logger) and refuses unknown keys.
    ({ guard: this.engine, host: this.host, logger: this.logger } = createAdapterHost(options, { label: LABEL }));
    this.resolve = options.context;
    this.narrowings = narrowingCache(this.engine.policy);
  }

  /** Checks a resource name at bootstrap. */
  resourceOf(name: string, where: string): CompiledResource {
    return resourceNamed(this.engine.policy, name, `@PhiResource("${name}") on ${where}`);
  }

  /** Compiles a `@MinimumNecessary` rule set (at bootstrap, once per handler); problems name the handler and the field. */
  narrowingFor(handler: object, resource: string, rules: MinimumNecessaryRules, where: string): Narrowing {
    return this.narrowings.of(handler, resource, rules, { resource: `@PhiResource("${resource}") on ${where}`, rules: `@MinimumNecessary on ${where}` });
  }
}
