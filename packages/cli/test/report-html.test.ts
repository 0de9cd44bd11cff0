import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, type PolicyDefinition } from '@phiguard/core';
import { policyReportHtml } from '../src/report/html.js';
import { SECRET } from '../../core/test/helpers.js';

const report = (definition: object) => policyReportHtml(compilePolicy(definition as PolicyDefinition, { mode: 'production', secret: SECRET }));

/** The HTML of one resource's section (from its heading to the next section). */
function section(html: string, resource: string): string {
  const start = html.indexOf(`>${resource}</h2>`);
  expect(start).toBeGreaterThan(0);
  return html.slice(start, html.indexOf('</section>', start));
}

const stepUpOf = (html: string) => html.slice(html.indexOf('<h3>Step-up</h3>'), html.indexOf('</section>', html.indexOf('<h3>Step-up</h3>')));

const labs = (stepUp: boolean | undefined) => ({
  roles: ['clinician'],
  resources: {
    Labs: {
      fields: { 'results[].code': 'clinical', 'results[].value': 'clinical' },
      sensitive: [
        {
          elements: 'results[]',
          codes: 'code',
          mask: ['value'],
          categories: { hiv: { codes: ['75622-1'], reveal: { clinician: ['TREAT'] }, ...(stepUp === undefined ? {} : { stepUp }) } },
        },
      ],
      disclose: { clinician: { TREAT: { '*': 'send' } } },
    },
  },
});

describe('policy report: step-up', () => {
  it('shows no step-up rule when the policy declares none', () => {
    for (const policy of [labs(undefined), labs(false)]) {
      const html = stepUpOf(report(policy));
      expect(html).toContain('No rule requires a second factor.');
      expect(html).not.toMatch(/within \d+ seconds/);
    }
  });

  it('lists each category that declares step-up, with the policy’s methods and window', () => {
    const html = stepUpOf(report({ ...labs(true), stepUp: { maxAgeSeconds: 300 } }));
    expect(html).toMatch(/within 300 seconds/);
    expect(html).toContain('<li>Labs: <strong>hiv</strong> (<code>results[]</code>)</li>');
    expect(html).not.toContain('No rule requires');
  });
});

describe('policy report: routes', () => {
  const segment = fc.stringMatching(/^[a-z]{1,8}$/);
  const route = fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.array(fc.oneof(segment, segment.map((s) => `:${s}`)), { minLength: 1, maxLength: 4 })).map(([m, parts]) => `${m} /${parts.join('/')}`);

  it('lists in each resource’s section exactly the routes that resource claims (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(route, { minLength: 0, maxLength: 6, selector: (r) => r.replace(/:\w+/g, ':p') }), fc.integer({ min: 0, max: 6 }), (generated, split) => {
        // A literal first segment per route: overlapping patterns do not compile.
        const routes = generated.map((r, i) => r.replace(' /', ` /r${i}/`));
        const a = routes.slice(0, split);
        const b = routes.slice(split);
        const resource = (claimed: string[]) => ({ routes: claimed, fields: { code: 'clinical' }, disclose: { r: { TREAT: { code: 'send' } } } });
        const html = report({ roles: ['r'], resources: { Alpha: resource(a), Beta: resource(b) } });
        for (const [name, own, other] of [['Alpha', a, b], ['Beta', b, a]] as const) {
          const s = section(html, name);
          for (const r of own) expect(s).toContain(`<code>${r}</code>`);
          for (const r of other) if (!own.includes(r)) expect(s).not.toContain(`<code>${r}</code>`);
          if (own.length === 0) expect(s).toContain('Routes: none listed in the policy');
        }
      }),
      { seed: 2121, numRuns: 40 },
    );
  });

  it('shows a route as its method and Express path', () => {
    const html = report({ roles: ['r'], resources: { R: { routes: ['GET /a/:id'], fields: { code: 'clinical' }, disclose: { r: { TREAT: { code: 'send' } } } } } });
    expect(section(html, 'R')).toContain('Routes: <code>GET /a/:id</code>');
  });
});
