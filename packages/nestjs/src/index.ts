/**
 * @phiguard/nestjs: NestJS integration. This release reserves the package and its injection
 * token; the module, decorators, guard and interceptor follow on the same core engine.
 * @packageDocumentation
 */

/** Injection token under which the phiguard engine options are provided. */
export const PHIGUARD_OPTIONS = 'phiguard:options';
