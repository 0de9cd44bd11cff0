import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { OptionsError, createPhiGuard, definePolicy } from '@phiguard/core';
import { createAdapterHost, option, requestFacts } from '@phiguard/core/adapter';
import { SECRET } from './helpers.js';

const policy = definePolicy({
  roles: ['clerk'],
  resources: { Chart: { id: 'id', routes: ['GET /charts/:id'], fields: { id: 'direct-identifier' }, disclose: { clerk: { TREAT: { '*': 'send' } } } } },
});
const sink = () => ({ write: () => undefined });
const context = () => ({ principal: { id: 'u' }, roles: ['clerk'], purposeOfUse: 'TREAT' as const });
const spec = { label: 'PhiGuardModule', options: { bodyLimit: option.any() } };
const messageOf = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(OptionsError);
    return (err as Error).message;
  }
  throw new Error('expected an OptionsError');
};

describe('createAdapterHost', () => {
  it.each([null, undefined, 'policy', 42])('refuses options that are not an object (%j)', (options) => {
    expect(messageOf(() => createAdapterHost(options, spec))).toMatch(/^PhiGuardModule options must be an object/);
  });

  // Each row: a misspelt key and the message naming whose option it is meant to be.
  const typos: readonly [string, RegExp][] = [
    ['bodyLimt', /^unknown PhiGuardModule option "bodyLimt"; did you mean "bodyLimit"\?/],
    ['onUnmapedRoute', /^unknown PhiGuardModule option "onUnmapedRoute"; did you mean "onUnmappedRoute"\?/],
    ['contxt', /^unknown PhiGuardModule option "contxt"; did you mean "context"\?/],
    ['secrett', /^unknown phiguard option "secrett"; did you mean "secret"\?/],
    ['zzzzzz', /^unknown phiguard option "zzzzzz"$/],
  ];
  it.each(typos)('refuses the unknown key %s before building anything', (key, message) => {
    expect(messageOf(() => createAdapterHost({ policy, audit: sink(), secret: SECRET, context, [key]: 1 }, spec))).toMatch(message);
  });

  it('needs a context resolver', () => {
    for (const bad of [undefined, 'header', {}]) {
      expect(messageOf(() => createAdapterHost({ policy, audit: sink(), secret: SECRET, context: bad }, spec))).toMatch(/`context`/);
    }
  });

  it('adopts a given guard, and refuses engine options next to it', () => {
    const guard = createPhiGuard({ policy, audit: sink(), secret: SECRET });
    expect(createAdapterHost({ guard, context, policy: undefined }, spec).guard).toBe(guard);
    expect(messageOf(() => createAdapterHost({ guard, context, policy, secret: SECRET }, spec))).toBe('pass either `guard` or engine options, not both (got policy, secret)');
  });

  it('builds the engine from its options, passes exchange options on, and reports their problems as core words them', () => {
    const built = createAdapterHost({ policy, audit: sink(), secret: SECRET, context, nonPhi: ['GET /health'], bodyLimit: '1kb' }, spec);
    expect(built.host.match('GET', '/health')).toBe('non-phi');
    expect(built.guard.policy.resources.has('Chart')).toBe(true);
    expect(messageOf(() => createAdapterHost({ policy, audit: sink(), secret: SECRET, context, onUnmappedRoute: 'allow' }, spec))).toMatch(/`onUnmappedRoute` must be "deny" or "pass"/);
    expect(messageOf(() => createAdapterHost({ audit: sink(), secret: SECRET, context }, spec))).toMatch(/policy/);
  });

  it('logs errors to the given logger, else to an audit logger that can log errors, else nowhere', () => {
    const logger = { error: () => undefined };
    const audit = pino({ level: 'info' }, { write: () => undefined });
    expect(createAdapterHost({ policy, audit: sink(), secret: SECRET, context, logger }, spec).logger).toBe(logger);
    expect(createAdapterHost({ policy, audit, secret: SECRET, context }, spec).logger).toBe(audit);
    expect(createAdapterHost({ policy, audit: sink(), secret: SECRET, context }, spec).logger).toBeUndefined();
  });
});

describe('requestFacts', () => {
  // Each row: the URL as received, the path and the query string the exchange sees.
  const urls: readonly [string, string, string | undefined][] = [
    ['/charts/7', '/charts/7', undefined],
    ['/charts/7?from=2020&to=2021', '/charts/7', 'from=2020&to=2021'],
    ['/charts/7?', '/charts/7', ''],
    ['/?a=1?b=2', '/', 'a=1?b=2'],
    ['/charts/%3F7?x', '/charts/%3F7', 'x'],
  ];
  it.each(urls)('splits %s once, at the first "?"', (url, path, query) => {
    const headers = { 'user-agent': 'ua' };
    expect(requestFacts('GET', url, headers, '10.0.0.1')).toEqual({ method: 'GET', path, query, headers, ip: '10.0.0.1' });
  });
});
