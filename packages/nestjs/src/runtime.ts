import { randomBytes } from 'node:crypto';
import {
  OptionsError,
  PURPOSES_OF_USE,
  compilePolicy,
  createExchangeHost,
  createPhiGuard,
  guardResponse,
  didYouMean,
  type AccessContext,
  type AuditAction,
  type CompiledPolicy,
  type CompiledResource,
  type Exchange,
  type ExchangeHost,
  type GatedResponse,
  type Maybe,
  type ResponseGate,
  type Step,
  type FieldSpec,
  type PhiGuard,
  type PhiGuardOptions,
  type Plan,
  type PolicyDefinition,
} from '@phiguard/core';
import type { MinimumNecessaryRules } from './decorators.js';
import { ADAPTER_OPTION_KEYS, type ContextResolver, type ErrorLogger, type PhiGuardModuleOptions } from './options.js';

/** How a route was classified for this request. */
export type { RouteKind } from '@phiguard/core';

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
  const exchange = runtime.host.begin({ method: req.method, path: (req.originalUrl ?? req.url ?? '/').split('?')[0] ?? '/', headers: req.headers, ip: req.ip });
  const r = res as Partial<GatedResponse> | undefined;
  for (const [k, v] of Object.entries(exchange.headers)) r?.setHeader?.(k, v);
  const gated = r !== undefined && typeof r.writeHead === 'function' && typeof r.end === 'function' && typeof r.getHeaderNames === 'function';
  const gate = gated ? guardResponse(r as GatedResponse, exchange, { decide }) : null;
  const state: PhiRequestState = { exchange, gate, requestId: exchange.requestId };
  states.set(req, state);
  return state;
}

/**
 * A handler's `@MinimumNecessary` rule set, compiled against its resource. `before` projects the
 * handler's value to what the rule set allows, keeping the resource's id and subject paths (the
 * engine reads them for audit references, the patient check and encryption contexts); `strip`
 * lists those of the two the rule set withholds, removed after the central projection.
 */
export interface Narrowing {
  readonly before: CompiledPolicy;
  readonly strip: readonly (readonly string[])[];
  readonly resource: string;
}

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
    if (options === null || typeof options !== 'object') throw new OptionsError('PhiGuardModule options must be an object');
    /* Precondition: a context resolver; without it nobody can be authorized. */
    if (typeof options.context !== 'function') {
      throw new OptionsError('PhiGuardModule needs `context: (req) => ({ principal, roles, purposeOfUse })` to know who is asking and why.');
    }
    const { guard, context, onUnmappedRoute, logger, nonPhi, errorCodes, errorMessages, ...engineOptions } = options;
    if (guard !== undefined) {
      const extra = Object.entries(engineOptions).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (extra.length > 0) {
        throw new OptionsError(`pass either \`guard\` or engine options, not both (got ${extra.join(', ')}${didYouMean(extra[0]!, ADAPTER_OPTION_KEYS)})`);
      }
      this.engine = guard;
    } else {
      // Core validates its own options (unknown keys with a suggestion, policy problems by field).
      try {
        this.engine = createPhiGuard(engineOptions as PhiGuardOptions);
      } catch (err) {
        const key = err instanceof OptionsError ? /^unknown phiguard option "([^"]+)"/.exec(err.message)?.[1] : undefined;
        const hint = key === undefined ? '' : didYouMean(key, ADAPTER_OPTION_KEYS);
        if (hint !== '') throw new OptionsError(`unknown PhiGuardModule option "${key}"${hint}`);
        throw err;
      }
    }
    this.resolve = context;
    const auditLogger = options.audit as Partial<ErrorLogger> | undefined;
    this.logger = logger ?? (typeof auditLogger?.error === 'function' ? (auditLogger as ErrorLogger) : undefined);
    const exchangeOptions = Object.fromEntries(
      Object.entries({ onUnmappedRoute, nonPhi, errorCodes, errorMessages, logger: this.logger }).filter(([, v]) => v !== undefined),
    );
    this.host = createExchangeHost(this.engine, exchangeOptions);
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

  /** Compiles a `@MinimumNecessary` rule set (at bootstrap); problems name the handler and the field. */
  narrowingFor(handler: object, resourceName: string, rules: MinimumNecessaryRules, where: string): Narrowing {
    const known = this.narrowings.get(handler);
    if (known !== undefined) return known;
    const resource = this.resourceOf(resourceName, where);
    const fields: Record<string, FieldSpec> = {};
    // Values were already decrypted or are ciphertext copied as is: nothing to decrypt here.
    for (const [path, spec] of resource.fields) fields[path] = { class: spec.class };
    const keep: Record<string, 'send'> = {};
    const strip: (readonly string[])[] = [];
    for (const segments of [resource.idPath, resource.subjectPath]) {
      if (segments === null) continue;
      const path = segments.join('.');
      const spec = resource.fields.get(path);
      if (spec === undefined) continue;
      keep[path] = 'send';
      const r = rules as Record<string, string | undefined>;
      const op = r[path] ?? r[`@${spec.class}`] ?? r['*'] ?? (spec.class === 'non-phi' ? 'send' : 'deny');
      if (op !== 'send') strip.push(segments);
    }
    const subject = resource.subjectPath?.join('.');
    const byPurpose = Object.fromEntries(PURPOSES_OF_USE.map((p) => [p, { ...rules, ...keep }]));
    const definition = {
      roles: [...this.engine.policy.roles],
      resources: {
        [resourceName]: {
          fields,
          ...(subject === undefined ? {} : { subject }),
          disclose: Object.fromEntries([...this.engine.policy.roles].map((r) => [r, byPurpose])),
        },
      },
    } as unknown as PolicyDefinition;
    let before: CompiledPolicy;
    try {
      before = compilePolicy(definition, { mode: 'production', secret: randomBytes(32) });
    } catch (err) {
      const problems = (err as { problems?: readonly string[] }).problems ?? [String(err)];
      throw new OptionsError(`@MinimumNecessary on ${where}: ${problems.join('; ')}`);
    }
    const narrowing: Narrowing = { before, strip, resource: resourceName };
    this.narrowings.set(handler, narrowing);
    return narrowing;
  }
}

/** The first narrowing pass (send/deny only) under the caller's roles and purpose. */
export function narrow(narrowing: Narrowing, value: unknown, context: AccessContext): unknown {
  return narrowing.before.protect(value, context, narrowing.resource).value;
}

/** The second pass: removes the id and subject paths the handler withholds (copies, never mutates). */
export function strip(narrowing: Narrowing, value: unknown): unknown {
  let out = value;
  for (const segments of narrowing.strip) out = without(out, segments);
  return out;
}

function without(value: unknown, segments: readonly string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || segments.length === 0) return value;
  const [head, ...rest] = segments as [string, ...string[]];
  if (!Object.hasOwn(value, head)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[head];
  else copy[head] = without(copy[head], rest);
  return copy;
}
