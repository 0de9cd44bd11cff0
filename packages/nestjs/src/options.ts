import type { AccessContext } from '@phiguard/core';
import type { AdapterOptions, RouteInfo } from '@phiguard/core/adapter';

/** What the module knows about the route being served, handed to the context resolver (core's `RouteInfo`). */
export type PhiRouteInfo = RouteInfo;

/** Resolves who is asking and why. Throw AuthenticationRequiredError (or anything) for 401. */
export type ContextResolver<Req = any> = (req: Req, route: PhiRouteInfo) => AccessContext | Promise<AccessContext>;

/**
 * Options of `PhiGuardModule.forRoot` (or returned by the `forRootAsync` factory): core's adapter
 * options (`createPhiGuard`'s, or a ready engine in `guard`, the exchange's, `logger`) with a
 * Nest `context` resolver. Routes with neither `@PhiResource` nor `@SkipPhiGuard` are unmapped.
 */
export type PhiGuardModuleOptions = AdapterOptions<ContextResolver>;

/** A provider that builds the module options (for `forRootAsync({ useClass })` or `useExisting`). */
export interface PhiGuardOptionsFactory {
  createPhiGuardOptions(): PhiGuardModuleOptions | Promise<PhiGuardModuleOptions>;
}

/**
 * `forRootAsync` arguments, in the shape of `@nestjs/throttler` and `ConfigModule`: exactly one
 * of `useFactory`, `useClass` or `useExisting`.
 */
export interface PhiGuardModuleAsyncOptions {
  /** Modules whose providers the factory injects (ConfigModule…). */
  readonly imports?: readonly any[];
  /** Tokens handed to `useFactory`, in order. */
  readonly inject?: readonly any[];
  readonly useFactory?: (...args: any[]) => PhiGuardModuleOptions | Promise<PhiGuardModuleOptions>;
  /** A class implementing {@link PhiGuardOptionsFactory}, instantiated by the module. */
  readonly useClass?: new (...args: any[]) => PhiGuardOptionsFactory;
  /** An existing provider (from `imports`) implementing {@link PhiGuardOptionsFactory}. */
  readonly useExisting?: any;
  /** Make the module's exports visible everywhere (default false). */
  readonly global?: boolean;
}
