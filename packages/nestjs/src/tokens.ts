/** Injection token under which the module options ({@link PhiGuardModuleOptions}) are provided. */
export const PHIGUARD_OPTIONS = 'phiguard:options';
/** Injection token of the engine (`PhiGuard` from @phiguard/core) the module created or was given. */
export const PHIGUARD_ENGINE = 'phiguard:engine';
/** Injection token of the per-application runtime the guard, interceptor and filter share. */
export const PHIGUARD_RUNTIME = 'phiguard:runtime';

/** Namespaced metadata keys written by the decorators, read with the Nest `Reflector`. */
export const METADATA = Object.freeze({
  resource: 'phiguard:resource',
  purpose: 'phiguard:purpose',
  skip: 'phiguard:skip',
  auditAction: 'phiguard:audit-action',
  breakGlass: 'phiguard:break-glass',
  minimumNecessary: 'phiguard:minimum-necessary',
  dtoFields: 'phiguard:dto-fields',
} as const);
