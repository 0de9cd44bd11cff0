/**
 * The options every framework adapter takes, read once: the engine's options or a ready `guard`,
 * the exchange's options, the context resolver and the error logger, next to the few keys the
 * adapter reads itself. The adapter's schema extends the engine's, so unknown keys are refused
 * with one suggestion from all of them and adapters never re-word core's messages.
 */
import { OptionsError } from '../errors.js';
import { ENGINE_OPTIONS, createPhiGuard, type PhiGuard, type PhiGuardOptions } from '../guard.js';
import { option, type OptionsSchema, type OptionsShape } from '../options.js';
import { EXCHANGE_OPTIONS, createExchangeHost, type ErrorLogger, type ExchangeHost, type ExchangeOptions } from './exchange.js';

/**
 * The options of an adapter (`phiguard()`, `PhiGuardModule.forRoot`): everything `createPhiGuard`
 * takes, or a ready engine in `guard`, the exchange's options, and how to read a request.
 */
export interface AdapterOptions<Resolver> extends Omit<PhiGuardOptions, 'policy' | 'audit'>, Omit<ExchangeOptions, 'logger'> {
  /** The policy (from definePolicy, or compiled). Omit when passing `guard`. */
  readonly policy?: PhiGuardOptions['policy'];
  /** Audit destination: a pino logger or an AuditSink. Omit when passing `guard`. */
  readonly audit?: PhiGuardOptions['audit'];
  /** An engine already created with createPhiGuard (shared with other adapters). */
  readonly guard?: PhiGuard;
  /**
   * Resolves who is asking and why, from the request (JWT claims, headers, session). Called on
   * PHI routes only, after the application's own authentication. Throw
   * AuthenticationRequiredError (or anything) for 401. Required.
   */
  readonly context: Resolver;
  /** Receives PHI-free lines about errors (name, code, status, request id). Default: the audit logger when it has `error` (pino). */
  readonly logger?: ErrorLogger;
}

export interface AdapterOptionsSpec<A = object> {
  /** How the adapter's options are named in messages (`phiguard`, `PhiGuardModule`). */
  readonly label: string;
  /** Rules of the keys the adapter reads itself, besides the shared ones. */
  readonly options?: OptionsShape<A>;
}

/** The engine, the request exchange host and the PHI-free error logger an adapter runs on. */
export interface AdapterHost<A = object> {
  readonly guard: PhiGuard;
  readonly host: ExchangeHost;
  readonly logger: ErrorLogger | undefined;
  /** The options, parsed. */
  readonly options: AdapterOptions<(...args: never[]) => unknown> & A;
}

/**
 * The schema of an adapter's options: the engine's (checked again, in the engine's words, when
 * it is built), the exchange's, the shared adapter keys and the adapter's own.
 */
export function adapterOptionsSchema<A>(label: string, own: OptionsShape<A>): OptionsSchema<AdapterOptions<(...args: never[]) => unknown> & A> {
  return ENGINE_OPTIONS.extend<AdapterOptions<(...args: never[]) => unknown>>(label, {
    ...ENGINE_OPTIONS.shape,
    ...EXCHANGE_OPTIONS.shape,
    // With `guard` there is no policy to give; without it the engine requires one.
    policy: option.any(),
    audit: option.any(),
    guard: option.implementing('an engine from createPhiGuard', 'authorize', 'release'),
    context: option.required(option.func('a function (req) => ({ principal, roles, purposeOfUse }), to know who is asking and why')),
    logger: EXCHANGE_OPTIONS.shape.logger,
  }).extend<A>(label, own) as OptionsSchema<AdapterOptions<(...args: never[]) => unknown> & A>;
}

/** Validates an adapter's options and builds (or adopts, with `guard`) the engine and the exchange host. */
export function createAdapterHost<A = object>(options: unknown, spec: AdapterOptionsSpec<A>): AdapterHost<A> {
  const o = adapterOptionsSchema<A>(spec.label, spec.options ?? ({} as OptionsShape<A>)).parse(options);
  const engineKeys = ENGINE_OPTIONS.keys;
  const engineOptions = Object.fromEntries(Object.entries(o).filter(([k, v]) => engineKeys.includes(k) && v !== undefined));
  let guard: PhiGuard;
  if (o.guard !== undefined) {
    const extra = Object.keys(engineOptions);
    if (extra.length > 0) throw new OptionsError(`pass either \`guard\` or engine options, not both (got ${extra.join(', ')})`);
    guard = o.guard;
  } else {
    guard = createPhiGuard(engineOptions as unknown as PhiGuardOptions);
  }
  const auditLogger = o.audit as Partial<ErrorLogger> | undefined;
  const logger = o.logger ?? (typeof auditLogger?.error === 'function' ? (auditLogger as ErrorLogger) : undefined);
  const exchangeOptions = Object.fromEntries(
    [...EXCHANGE_OPTIONS.keys.filter((k) => k !== 'logger').map((k) => [k, (o as Record<string, unknown>)[k]] as const), ['logger', logger] as const].filter(([, v]) => v !== undefined),
  ) as ExchangeOptions;
  return { guard, host: createExchangeHost(guard, exchangeOptions), logger, options: o };
}
