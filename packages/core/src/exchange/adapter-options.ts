/**
 * The options every framework adapter takes, read once: the engine's options or a ready `guard`,
 * the exchange's options, the context resolver and the error logger, next to the few keys the
 * adapter reads itself. Unknown keys are refused with a suggestion from all of them, so adapters
 * never re-word core's messages.
 */
import { OptionsError } from '../errors.js';
import { ENGINE_OPTION_KEYS, createPhiGuard, type PhiGuard, type PhiGuardOptions } from '../guard.js';
import { didYouMean } from '../suggest.js';
import { EXCHANGE_OPTION_KEYS, createExchangeHost, type ErrorLogger, type ExchangeHost, type ExchangeOptions } from './exchange.js';

export interface AdapterOptionsSpec {
  /** How the adapter's options are named in messages (`phiguard`, `PhiGuardModule`). */
  readonly label: string;
  /** Keys the adapter reads itself, besides `guard`, `context`, `logger` and the exchange's. */
  readonly adapterKeys: readonly string[];
}

/** The engine, the request exchange host and the PHI-free error logger an adapter runs on. */
export interface AdapterHost {
  readonly guard: PhiGuard;
  readonly host: ExchangeHost;
  readonly logger: ErrorLogger | undefined;
}

/** Validates an adapter's options and builds (or adopts, with `guard`) the engine and the exchange host. */
export function createAdapterHost(options: unknown, spec: AdapterOptionsSpec): AdapterHost {
  if (options === null || typeof options !== 'object') throw new OptionsError(`${spec.label} options must be an object`);
  const own = ['guard', 'context', ...EXCHANGE_OPTION_KEYS, ...spec.adapterKeys];
  for (const key of Object.keys(options)) {
    if (own.includes(key) || ENGINE_OPTION_KEYS.includes(key)) continue;
    // A near miss of an adapter key is named as the adapter's option; anything else as the engine's.
    const near = didYouMean(key, own);
    throw new OptionsError(near === '' ? `unknown phiguard option "${key}"${didYouMean(key, ENGINE_OPTION_KEYS)}` : `unknown ${spec.label} option "${key}"${near}`);
  }
  const o = options as Record<string, unknown> & { guard?: PhiGuard; audit?: unknown; logger?: ErrorLogger };
  /* Precondition: a context resolver; without it nobody can be authorized. */
  if (typeof o.context !== 'function') {
    throw new OptionsError(`${spec.label} needs \`context: (req) => ({ principal, roles, purposeOfUse })\` to know who is asking and why.`);
  }
  const engineOptions = Object.fromEntries(Object.entries(o).filter(([k, v]) => ENGINE_OPTION_KEYS.includes(k) && v !== undefined));
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
    [...EXCHANGE_OPTION_KEYS.filter((k) => k !== 'logger').map((k) => [k, o[k]] as const), ['logger', logger] as const].filter(([, v]) => v !== undefined),
  ) as ExchangeOptions;
  return { guard, host: createExchangeHost(guard, exchangeOptions), logger };
}
