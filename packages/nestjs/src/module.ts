import { Inject, Module, createParamDecorator, type DynamicModule, type ExecutionContext, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { adapterOptionsSchema, option, optionIssue, optionsSchema } from '@phiguard/core/adapter';
import { PhiGuardExplorer } from './explorer.js';
import { PhiGuardExceptionFilter } from './filter.js';
import { PhiGuardGuard } from './guard.js';
import { PhiGuardInterceptor } from './interceptor.js';
import type { PhiGuardModuleAsyncOptions, PhiGuardModuleOptions, PhiGuardOptionsFactory } from './options.js';
import { LABEL, PhiGuardRuntime, getAccessContext } from './runtime.js';
import { PHIGUARD_ENGINE, PHIGUARD_OPTIONS, PHIGUARD_RUNTIME } from './tokens.js';

const shared: Provider[] = [
  // Built while the application is created: a bad option fails the bootstrap, naming the field.
  { provide: PHIGUARD_RUNTIME, useFactory: (options: PhiGuardModuleOptions) => new PhiGuardRuntime(options), inject: [PHIGUARD_OPTIONS] },
  { provide: PHIGUARD_ENGINE, useFactory: (runtime: PhiGuardRuntime) => runtime.engine, inject: [PHIGUARD_RUNTIME] },
  PhiGuardExplorer,
  // App-wide: every route is decided (PHI), skipped (@SkipPhiGuard) or treated as unmapped.
  { provide: APP_GUARD, useClass: PhiGuardGuard },
  { provide: APP_INTERCEPTOR, useClass: PhiGuardInterceptor },
  { provide: APP_FILTER, useClass: PhiGuardExceptionFilter },
];
const exported = [PHIGUARD_OPTIONS, PHIGUARD_ENGINE, PHIGUARD_RUNTIME];
// Checked when the module is declared; the runtime checks them again, with the engine's own checks, at bootstrap.
const ROOT_OPTIONS = adapterOptionsSchema(LABEL, { global: option.boolean() });
const ASYNC_OPTIONS = optionsSchema<PhiGuardModuleAsyncOptions>(`${LABEL}.forRootAsync`, {
  imports: option.array(),
  inject: option.array(),
  useFactory: option.func('a function returning the module options'),
  useClass: option.custom('a class implementing createPhiGuardOptions()', ['function']),
  useExisting: option.any('a provider token'),
  global: option.boolean(),
});

/**
 * phiguard for NestJS. Import once in the root module:
 * `PhiGuardModule.forRoot({ policy, audit, secret, context })`, then claim controllers with
 * `@PhiResource('Name')`. Registers the guard, interceptor and exception filter app-wide.
 */
@Module({})
export class PhiGuardModule {
  /** Configures the module with options known up front. */
  static forRoot(options: PhiGuardModuleOptions & { readonly global?: boolean }): DynamicModule {
    const { global = false, ...rest } = ROOT_OPTIONS.parse(options);
    return PhiGuardModule.dynamic(global, [], [{ provide: PHIGUARD_OPTIONS, useValue: rest }]);
  }

  /**
   * Configures the module from other providers (ConfigService, a secrets manager…):
   * `forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config) => ({ … }) })`.
   */
  static forRootAsync(options: PhiGuardModuleAsyncOptions): DynamicModule {
    ASYNC_OPTIONS.parse(options);
    if ((['useFactory', 'useClass', 'useExisting'] as const).filter((k) => options[k] !== undefined).length !== 1) {
      throw optionIssue(ASYNC_OPTIONS.label, '', 'an object with exactly one of useFactory (with inject), useClass or useExisting', options);
    }
    const create = (factory: PhiGuardOptionsFactory) => factory.createPhiGuardOptions();
    const providers: Provider[] =
      options.useFactory !== undefined
        ? [{ provide: PHIGUARD_OPTIONS, useFactory: options.useFactory, inject: [...(options.inject ?? [])] }]
        : options.useClass !== undefined
          ? [{ provide: options.useClass, useClass: options.useClass }, { provide: PHIGUARD_OPTIONS, useFactory: create, inject: [options.useClass] }]
          : [{ provide: PHIGUARD_OPTIONS, useFactory: create, inject: [options.useExisting] }];
    return PhiGuardModule.dynamic(options.global ?? false, options.imports ?? [], providers);
  }

  /** The module with the options' providers and what every configuration shares. */
  private static dynamic(global: boolean, imports: readonly any[], providers: Provider[]): DynamicModule {
    return { module: PhiGuardModule, global, imports: [DiscoveryModule, ...imports], providers: [...providers, ...shared], exports: exported };
  }
}

/** Injects the module options: `constructor(@InjectPhiGuardOptions() options: PhiGuardModuleOptions)`. */
export const InjectPhiGuardOptions = (): ParameterDecorator => Inject(PHIGUARD_OPTIONS);
/** Injects the engine (`PhiGuard` from @phiguard/core). */
export const InjectPhiGuard = (): ParameterDecorator => Inject(PHIGUARD_ENGINE);

/** Handler parameter: the access context phiguard resolved (null off PHI routes). */
export const PhiAccessContext = createParamDecorator((_data: unknown, ctx: ExecutionContext) => getAccessContext(ctx.switchToHttp().getRequest<object>()));
