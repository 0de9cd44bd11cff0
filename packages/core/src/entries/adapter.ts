/**
 * @phiguard/core/adapter: for authors of framework adapters and tools built on the engine
 * (`@phiguard/express`, `@phiguard/nestjs`, `@phiguard/kms`, `@phiguard/cli`). The request
 * exchange, the response gate, the HTTP error mapping, field paths and the helpers an adapter
 * shares with the engine. Application code does not need this entry.
 * @packageDocumentation
 */
export { ENGINE_OPTIONS, ENGINE_OPTION_KEYS } from '../guard.js';
export { EXCHANGE_OPTIONS, EXCHANGE_OPTION_KEYS, canonicalId, createExchangeHost, requestFacts } from '../exchange/exchange.js';
export { adapterOptionsSchema, createAdapterHost } from '../exchange/adapter-options.js';
export type { AdapterHost, AdapterOptions, AdapterOptionsSpec } from '../exchange/adapter-options.js';
// The options convention: a schema per factory, composed by adapters.
export { checkKeys, kindOf, option, optionIssue, optionsSchema } from '../options.js';
export type { OptionRule, OptionsSchema, OptionsShape } from '../options.js';
export type { Claim, ErrorLogger, Exchange, ExchangeHost, ExchangeOptions, Maybe, Released, RequestFacts, RouteKind, Step } from '../exchange/exchange.js';
export { codeOf, errorBody, errorHeaders, genericCode, isAnswer, statusOf } from '../exchange/http.js';
export type { Answer, ErrorBody } from '../exchange/http.js';
export { guardResponse } from '../exchange/response.js';
export {
  admitRequest,
  breakGlassFacts,
  checkResourceName,
  classifyRoute,
  isGatedResponse,
  isRawValue,
  narrowingCache,
  nodeRequestFacts,
  refusal,
  releaseReturned,
  requestEntries,
  requestInfoOf,
  resourceNamed,
  routeInfoOf,
  runUnclaimed,
} from '../exchange/entry.js';
export type { EntryStart, NarrowingCache, NarrowingSite, NodeRequest, RequestEntries, RequestEntry, RouteInfo } from '../exchange/entry.js';
export type { GateHooks, GatedResponse, ResponseGate } from '../exchange/response.js';
export { actionForMethod } from '../audit/event.js';
export { NARROWING_OPERATORS, checkNarrowingRules, compileNarrowing } from '../policy/narrow.js';
export type { HandlerNarrowing, NarrowingRules } from '../policy/narrow.js';
// The index comes with a compiled resource (`resource.index`); adapters read it, never build one.
export type { DeclaredField, FieldIndex, IndexNode } from '../policy/field-index.js';
export type { InboundInspection } from '../inbound.js';
export type { PreparedVerifier } from '../delivery/signing.js';
export { didYouMean } from '../suggest.js';
export { ANY_KEY, ELEMENT, parsePath } from '../policy/path.js';
export { isOrmWrapperPath, unclassifiedPaths } from '../policy/unclassified.js';
export { BREAK_GLASS_DISABLED, BREAK_GLASS_ENDPOINTS, BREAK_GLASS_HEADERS, answerBreakGlass, breakGlassRefusal } from '../exchange/break-glass.js';
export type { BreakGlassEndpoint, BreakGlassFacts, BreakGlassReply } from '../exchange/break-glass.js';
