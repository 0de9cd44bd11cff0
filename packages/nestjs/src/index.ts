/**
 * @phiguard/nestjs: `PhiGuardModule.forRoot({ policy, audit, context })` and
 * `@PhiResource('Name')` on a controller.
 * @packageDocumentation
 */
export { PHIGUARD_ENGINE, PHIGUARD_OPTIONS, PHIGUARD_RUNTIME, METADATA } from './tokens.js';
export { PhiGuardModule, InjectPhiGuard, InjectPhiGuardOptions, PhiAccessContext } from './module.js';
export { AllowBreakGlass, AuditAs, MinimumNecessary, NARROWING_OPERATORS, PhiResource, Purpose, SkipPhiGuard } from './decorators.js';
export type { MinimumNecessaryRules } from './decorators.js';
export { Phi, dtoFields, policyFromDtos } from './dto.js';
export type { PhiFieldOptions } from './dto.js';
export { PhiGuardGuard } from './guard.js';
export { PhiGuardInterceptor, isRaw } from './interceptor.js';
export { PhiGuardExceptionFilter } from './filter.js';
export { PhiGuardExplorer } from './explorer.js';
export { breakGlassController } from './break-glass.js';
export { PhiGuardAnswer, PhiGuardRefusal } from './errors.js';
export { PhiGuardRuntime, getAccessContext, phiRequestState } from './runtime.js';
export type { Narrowing, PhiRequestState } from './runtime.js';
// Core's types the module's API names: error bodies, the error logger, how a route was classified.
export type { ErrorBody, ErrorLogger, RouteKind } from '@phiguard/core/adapter';
export type { ContextResolver, PhiGuardModuleAsyncOptions, PhiGuardModuleOptions, PhiGuardOptionsFactory, PhiRouteInfo } from './options.js';
export { SignatureGuard } from './signature.js';
export type { SignatureGuardOptions, VerifiedSignature } from './signature.js';
