import 'reflect-metadata';
import { Readable } from 'node:stream';
import { Body, Controller, Delete, Get, Header, HttpCode, Injectable, Module, NotFoundException, Param, Post, Req, Res, StreamableFile, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { of, tap } from 'rxjs';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  AuthenticationRequiredError,
  OptionsError,
  PolicyError,
  createPhiGuard,
  type AccessContext,
  type AuditEvent,
} from '@phiguard/core';
import {
  AllowBreakGlass,
  AuditAs,
  MinimumNecessary,
  PHIGUARD_ENGINE,
  PHIGUARD_OPTIONS,
  PhiAccessContext,
  PhiGuardModule,
  PhiResource,
  Purpose,
  SkipPhiGuard,
} from '../src/index.js';
import { CHART, SECRET, SSN, billing, doctor, headerContext, makeApp, policy, type Harness } from './fixtures.js';

@Controller('charts')
@PhiResource('Chart')
class ChartController {
  @Get(':id')
  get(@Param('id') _id: string) {
    return { ...CHART };
  }

  @Get(':id/observable')
  observable() {
    return of({ ...CHART });
  }

  @Get(':id/text')
  text() {
    return `name ${CHART.name}`;
  }

  @Get(':id/file')
  file() {
    return new StreamableFile(Readable.from([Buffer.from(CHART.name)]));
  }

  @Get(':id/boom')
  boom() {
    throw new Error(`lookup failed for SSN ${SSN}`);
  }

  @Get(':id/missing')
  missing() {
    throw new NotFoundException(`no chart for ${CHART.name}`);
  }

  @Get(':id/export')
  @AuditAs('export')
  @AllowBreakGlass()
  exported() {
    return { ...CHART };
  }

  @Get(':id/summary')
  @MinimumNecessary({ mrn: 'send', glucose: 'send', '@direct-identifier': 'deny' })
  summary() {
    return { ...CHART };
  }

  @Get(':id/headers')
  @Header('X-Patient', `SSN ${SSN}`)
  @Header('Content-Disposition', `attachment; filename="labs SSN ${SSN}.json"`)
  headers() {
    return { ...CHART };
  }

  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') _id: string): void {}

  @Get(':id/context')
  context(@PhiAccessContext() context: AccessContext) {
    return { ...CHART, comment: `${context.principal.id}/${context.purposeOfUse}` };
  }
}

@Controller('treat')
@PhiResource('Chart')
@Purpose('TREAT')
class DefaultPurposeController {
  @Get(':id')
  get() {
    return { ...CHART };
  }
}

@Controller('reports')
@PhiResource('Report')
class ReportController {
  @Get()
  text() {
    return 'plain report';
  }
}

@Controller()
class MiscController {
  @Get('health')
  @SkipPhiGuard()
  health() {
    return { status: 'ok', name: CHART.name };
  }

  @Get('unmapped')
  unmapped() {
    return { ...CHART };
  }

  @Post('notes')
  @PhiResource('Note')
  note(@Body() body: { text: string }) {
    return body;
  }

  @Post('messages')
  @PhiResource('Message')
  message(@Body() body: { text: string }) {
    return body;
  }
}

const ALL = [ChartController, DefaultPurposeController, ReportController, MiscController];
let h: Harness | undefined;
afterEach(async () => {
  await h?.app.close();
  h = undefined;
});
const server = () => h!.app.getHttpServer();
const last = (): AuditEvent => h!.events.at(-1)!;

describe('access decision (PhiGuardGuard)', () => {
  it('an allowed caller gets the projected value, no-store, a request id, and one read event', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7').set(billing);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'ch-1', mrn: '****2345' });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toMatch(/^[\w-]{36}$/);
    expect(h.events).toHaveLength(1);
    expect(last()).toMatchObject({
      action: 'read',
      outcome: 'success',
      actor: { id: 'u-bill', roles: ['billing'] },
      purposeOfUse: 'HPAYMT',
      resource: { type: 'Chart', id: 'ch-1' },
      disclosed: expect.arrayContaining(['mrn']),
      request: { method: 'GET', route: '/charts/:id', requestId: res.headers['x-request-id'] },
    });
  });

  it('keeps a well-formed X-Request-Id from the client and replaces a malformed one', async () => {
    h = await makeApp(ALL);
    expect((await request(server()).get('/charts/p-7').set({ ...doctor, 'x-request-id': 'abc-123' })).headers['x-request-id']).toBe('abc-123');
    expect((await request(server()).get('/charts/p-7').set({ ...doctor, 'x-request-id': 'a b<c>' })).headers['x-request-id']).not.toBe('a b<c>');
  });

  it('a denied caller gets 403 with the core reason, audited once, and the handler never runs', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7').set({ ...billing, 'x-purpose': 'TREAT' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'access_denied', status: 403, reason: 'purpose_not_permitted', requestId: res.headers['x-request-id'] } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(h.events).toHaveLength(1);
    expect(last()).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'purpose_not_permitted' });
    expect(h.errors).toEqual([]);
  });

  it('a patient asking for another patient is refused from the route parameter (not_own_record)', async () => {
    h = await makeApp(ALL);
    const patient = { 'x-user': 'u-p', 'x-roles': 'patient', 'x-purpose': 'PATRQT', 'x-patient': 'p-8' };
    const res = await request(server()).get('/charts/p-7').set(patient);
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('not_own_record');
    const own = await request(server()).get('/charts/p-7').set({ ...patient, 'x-patient': 'p-7' });
    expect(own.status).toBe(200);
    expect(own.body.ssn).toBe('***-**-6789');
  });

  it('no identity → 401 authentication_required with WWW-Authenticate, audited without an actor', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body.error).toMatchObject({ code: 'authentication_required', status: 401 });
    expect(last()).toMatchObject({ action: 'deny', reason: 'authentication_required', actor: { id: null } });
  });

  it('@Purpose supplies the purpose only when the request asserts none', async () => {
    h = await makeApp(ALL);
    const none = await request(server()).get('/treat/p-7').set({ 'x-user': 'u-doc', 'x-roles': 'doctor' });
    expect(none.status).toBe(200);
    expect(last().purposeOfUse).toBe('TREAT');
    const asserted = await request(server()).get('/treat/p-7').set({ 'x-user': 'u-doc', 'x-roles': 'doctor', 'x-purpose': 'HPAYMT' });
    expect(asserted.status).toBe(403);
    expect(asserted.body.error.reason).toBe('purpose_not_permitted');
    const without = await request(server()).get('/charts/p-7').set({ 'x-user': 'u-doc', 'x-roles': 'doctor' });
    expect(without.body.error.reason).toBe('purpose_required');
  });

  it('@AuditAs and @AllowBreakGlass reach the audit event and the context resolver', async () => {
    h = await makeApp(ALL);
    await request(server()).get('/charts/p-7/export').set(doctor).expect(200);
    expect(last().action).toBe('export');
    expect(h.routes.at(-1)).toEqual({ resource: 'Chart', action: 'export', route: '/charts/:id/export', allowBreakGlass: true });
    await request(server()).get('/charts/p-7').set(doctor).expect(200);
    expect(h.routes.at(-1)).toMatchObject({ action: 'read', allowBreakGlass: false });
  });

  it('a break-glass grant is honoured only on @AllowBreakGlass routes; elsewhere the claim is dropped', async () => {
    h = await makeApp(ALL);
    // This policy declares no break-glass, so core refuses any grant it is asked to honour.
    const allowed = await request(server()).get('/charts/p-7/export').set({ ...doctor, 'x-break-glass-grant': 'bg_1' });
    expect(allowed.status).toBe(403);
    expect(allowed.body.error.reason).toBe('break_glass_not_permitted');
    const elsewhere = await request(server()).get('/charts/p-7').set({ ...doctor, 'x-break-glass-grant': 'bg_1' });
    expect(elsewhere.status).toBe(200);
    expect(last()).toMatchObject({ action: 'read', outcome: 'success' });
    expect(last()).not.toHaveProperty('breakGlass');
  });

  it('a DELETE answered 204 without a body is audited as a delete of the route\'s patient, once, as in Express', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).delete('/charts/p-7').set(doctor);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(h.events).toHaveLength(1);
    expect(last()).toMatchObject({ action: 'delete', outcome: 'success', resource: { type: 'Chart' }, patient: { ref: expect.stringMatching(/^pt_/) }, request: { method: 'DELETE', route: '/charts/:id' } });
    expect(JSON.stringify(h.events)).not.toContain('p-7');
  });

  it('@PhiAccessContext hands the resolved context to the handler', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7/context').set(doctor);
    expect(res.body.comment).toBe('u-doc/TREAT');
  });
});

describe('response pipeline (PhiGuardInterceptor)', () => {
  it('projects the last value of an Observable', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7/observable').set(billing);
    expect(res.body).toEqual({ id: 'ch-1', mrn: '****2345' });
    expect(h.events).toHaveLength(1);
  });

  it('refuses raw strings and StreamableFile on a PHI resource (500 raw_body_denied, audited), without the content', async () => {
    h = await makeApp(ALL);
    for (const path of ['/charts/p-7/text', '/charts/p-7/file']) {
      const res = await request(server()).get(path).set(doctor);
      expect(res.status, path).toBe(500);
      expect(res.body.error.code).toBe('raw_body_denied');
      expect(res.text).not.toContain('Zebulon');
      expect(last()).toMatchObject({ outcome: 'error', reason: 'raw_body_denied' });
    }
  });

  it("sends raw bodies where the resource declares rawBody: 'allow', audited as (raw body)", async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/reports').set(doctor);
    expect(res.status).toBe(200);
    expect(res.text).toBe('plain report');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(last()).toMatchObject({ action: 'read', outcome: 'success', disclosed: ['(raw body)'], resource: { type: 'Report' } });
  });

  it('waits for an asynchronous audit sink before sending, and fails closed (503) when it rejects', async () => {
    const written: AuditEvent[] = [];
    let fail = false;
    h = await makeApp(ALL, {}, {
      write: async (e) => {
        await new Promise((r) => setTimeout(r, 20));
        if (fail) throw new Error('disk full');
        written.push(e);
      },
    });
    const ok = await request(server()).get('/charts/p-7').set(doctor);
    expect(ok.status).toBe(200);
    expect(written).toHaveLength(1);
    fail = true;
    const res = await request(server()).get('/charts/p-7').set(doctor);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('audit_unavailable');
    expect(res.text).not.toContain('Zebulon');
  });

  it('@MinimumNecessary narrows below the central policy, keeping its masks, and the audit names only what left', async () => {
    h = await makeApp(ALL);
    const doc = await request(server()).get('/charts/p-7/summary').set(doctor);
    expect(doc.body).toEqual({ id: 'ch-1', mrn: 'MRN00012345', glucose: 182 });
    const bill = await request(server()).get('/charts/p-7/summary').set(billing);
    // Billing's central rule denies glucose: the handler cannot give it back; the MRN stays masked.
    expect(bill.body).toEqual({ id: 'ch-1', mrn: '****2345' });
    expect(last().disclosed).not.toContain('name');
    expect(last().disclosed).not.toContain('ssn');
  });
});

describe('response headers on PHI routes', () => {
  it('redacts identifiers in headers the application set, and rebuilds a Content-Disposition file name', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7/headers').set(doctor);
    expect(res.status).toBe(200);
    expect(res.headers['x-patient']).toBe('SSN [SSN]');
    expect(res.headers['content-disposition']).toBe('attachment; filename="labs SSN SSN.json"');
    expect(JSON.stringify(res.headers)).not.toContain(SSN);
  });
});

describe('routes phiguard does not govern', () => {
  it('@SkipPhiGuard passes the body unchanged and writes no audit event', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/health');
    expect(res.body).toEqual({ status: 'ok', name: CHART.name });
    expect(h.events).toEqual([]);
  });

  it("an unclaimed route's body is refused (500 unmapped_route) and logged once without PHI", async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/unmapped');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('unmapped_route');
    expect(res.text).not.toContain('Zebulon');
    await request(server()).get('/unmapped');
    const lines = h.errors.filter((e) => JSON.stringify(e).includes('unmapped_route') && 'route' in (e as object) && !('err' in (e as object)));
    expect(lines).toEqual([{ route: 'GET /unmapped', code: 'unmapped_route' }]);
  });

  it("onUnmappedRoute: 'pass' sends it unchanged", async () => {
    h = await makeApp(ALL, { onUnmappedRoute: 'pass' });
    expect((await request(server()).get('/unmapped')).body).toEqual(CHART);
  });
});

describe('errors (PhiGuardExceptionFilter)', () => {
  it('a thrown error answers 500 internal_error: no message in the body or the log, audited as an error', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7/boom').set(doctor);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', status: 500, requestId: res.headers['x-request-id'] } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(h.errors).toEqual([{ err: { type: 'Error', code: 'internal_error', status: 500 }, requestId: res.headers['x-request-id'], route: '/charts/:id/boom' }]);
    expect(JSON.stringify(h.errors)).not.toContain(SSN);
    expect(last()).toMatchObject({ outcome: 'error', reason: 'internal_error', resource: { type: 'Chart' } });
  });

  it("an HttpException's message never reaches the client; a 404 on a PHI route is audited as an error, as in Express", async () => {
    h = await makeApp(ALL);
    const res = await request(server()).get('/charts/p-7/missing').set(doctor);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'not_found', status: 404 });
    expect(res.text).not.toContain('Zebulon');
    expect(h.events).toHaveLength(1);
    expect(last()).toMatchObject({ outcome: 'error', reason: 'not_found', resource: { type: 'Chart' } });
  });

  it("Nest's own errors (unknown route, malformed JSON) get the same body, without echoing the input", async () => {
    h = await makeApp(ALL);
    const missing = await request(server()).get('/nowhere/Zebulon');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: 'not_found', status: 404, requestId: missing.headers['x-request-id'] } });
    const bad = await request(server()).post('/notes').set({ ...doctor, 'content-type': 'application/json' }).send(`{"text": "SSN ${SSN}"`);
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain(SSN);
    expect(JSON.stringify(h.errors)).not.toContain(SSN);
  });
});

describe('request-body DLP', () => {
  it('block: 422 dlp_blocked before the handler, audited with counts only', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).post('/notes').set(doctor).send({ text: `call me, SSN ${SSN}` });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('dlp_blocked');
    expect(res.text).not.toContain(SSN);
    expect(JSON.stringify(h.events)).not.toContain(SSN);
    expect(last()).toMatchObject({ outcome: 'denied', dlp: { action: 'block', counts: { SSN: 1 } } });
    expect((await request(server()).post('/notes').set(doctor).send({ text: 'stable overnight' })).status).toBe(201);
  });

  it('redact: the handler receives the redacted body', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).post('/messages').set(doctor).send({ text: `my SSN is ${SSN}` });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ text: 'my SSN is [SSN]' });
  });

  it('a body DLP cannot read (not JSON) is refused with 415 dlp_unscannable', async () => {
    h = await makeApp(ALL);
    const res = await request(server()).post('/notes').set({ ...doctor, 'content-type': 'application/octet-stream' }).send(Buffer.from(SSN));
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('dlp_unscannable');
  });
});

describe('bootstrap fails on misconfiguration, naming the field', () => {
  const boot = async (options: Record<string, unknown>, controllers: (new (...args: never[]) => unknown)[] = []) => {
    const moduleRef = await Test.createTestingModule({
      imports: [PhiGuardModule.forRoot({ policy, secret: SECRET, audit: { write: () => undefined }, context: headerContext(), ...options } as never)],
      controllers,
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } finally {
      await app.close();
    }
  };

  it('an unknown option, with a suggestion', async () => {
    await expect(boot({ onUnmappedRoutes: 'pass' })).rejects.toThrow(/unknown PhiGuardModule option "onUnmappedRoutes".*onUnmappedRoute/);
  });

  it('a missing context resolver', async () => {
    await expect(boot({ context: undefined })).rejects.toThrow(OptionsError);
    await expect(boot({ context: undefined })).rejects.toThrow(/context/);
  });

  it('an engine in `guard` together with engine options, and an unknown onUnmappedRoute value', async () => {
    const engine = createPhiGuard({ policy, secret: SECRET, audit: { write: () => undefined } });
    await expect(boot({ guard: engine, policy: undefined, secret: undefined, audit: undefined, cipher: undefined })).resolves.toBeUndefined();
    await expect(boot({ guard: engine })).rejects.toThrow(/either `guard` or engine options.*policy, secret, audit/);
    await expect(boot({ onUnmappedRoute: 'allow' })).rejects.toThrow(/`onUnmappedRoute` must be "deny" or "pass"/);
  });

  it('a missing audit destination (45 CFR 164.312(b))', async () => {
    await expect(boot({ audit: undefined })).rejects.toThrow(/audit/);
  });

  it('an invalid policy: the PolicyError names the field', async () => {
    const bad = { roles: ['doctor'], resources: { Chart: { fields: { ssn: 'identifier' }, disclose: { doctor: { TREAT: { '*': 'send' } } } } } };
    await expect(boot({ policy: bad })).rejects.toThrow(PolicyError);
    await expect(boot({ policy: bad })).rejects.toThrow(/ssn/);
  });

  it('@PhiResource naming a resource the policy lacks', async () => {
    @Controller('x')
    @PhiResource('Charts')
    class Typo {
      @Get()
      get() {
        return {};
      }
    }
    await expect(boot({}, [Typo])).rejects.toThrow(/@PhiResource\("Charts"\) on Typo.get\(\).*Chart/);
  });

  it('@MinimumNecessary naming a field the resource lacks', async () => {
    @Controller('x')
    @PhiResource('Chart')
    class Narrow {
      @Get()
      @MinimumNecessary({ glucosee: 'send' })
      get() {
        return {};
      }
    }
    await expect(boot({}, [Narrow])).rejects.toThrow(/@MinimumNecessary on Narrow.get\(\).*glucosee/);
  });

  it('@MinimumNecessary cannot widen or re-mask', () => {
    expect(() => MinimumNecessary({ mrn: 'token' as never })).toThrow(/can only narrow/);
  });

  it('a PHI handler that writes the response itself (@Res(), req.res.json, res.end after writeHead) is projected', async () => {
    @Controller('self')
    @PhiResource('Chart')
    class Writer {
      @Get('res/:id')
      viaRes(@Res() res: { json(v: unknown): void }) {
        res.json(CHART);
      }
      @Get('passthrough/:id')
      viaPassthrough(@Res({ passthrough: true }) res: { setHeader(n: string, v: string): void }) {
        res.setHeader('X-Custom', 'ok');
        return CHART;
      }
      @Get('req/:id')
      viaReq(@Req() req: { res: { json(v: unknown): void } }) {
        req.res.json(CHART);
      }
      @Get('end/:id')
      viaEnd(@Req() req: { res: { writeHead(s: number, h: object): void; end(b: string): void } }) {
        req.res.writeHead(200, { 'Content-Type': 'application/json' });
        req.res.end(JSON.stringify(CHART));
      }
    }
    h = await makeApp([Writer]);
    for (const path of ['/self/res/p-7', '/self/passthrough/p-7', '/self/req/p-7', '/self/end/p-7']) {
      const res = await request(server()).get(path).set(billing);
      expect(res.status, path).toBe(200);
      expect(res.body, path).toEqual({ id: 'ch-1', mrn: '****2345' });
      expect(res.text, path).not.toContain(SSN);
      expect(res.headers['cache-control'], path).toBe('no-store');
    }
    expect(h.events.filter((e) => e.outcome === 'success')).toHaveLength(4);
  });

  it('an unknown @Purpose code, when the class is defined', () => {
    expect(() => Purpose('TREATMENT' as never)).toThrow(/not an HL7 v3 PurposeOfUse/);
  });
});

describe('forRootAsync', () => {
  @Injectable()
  class ConfigService {
    get(key: string): string {
      return ({ PHIGUARD_SECRET: SECRET } as Record<string, string>)[key]!;
    }
  }
  @Module({ providers: [ConfigService], exports: [ConfigService] })
  class ConfigModule {}

  let app: INestApplication | undefined;
  afterEach(async () => app?.close());

  it('builds the options from injected providers and exposes the engine and options tokens', async () => {
    const events: AuditEvent[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [
        PhiGuardModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            policy,
            secret: config.get('PHIGUARD_SECRET'),
            audit: { write: (e: AuditEvent) => void events.push(e) },
            context: headerContext(),
          }),
        }),
      ],
      controllers: [ChartController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(moduleRef.get(PHIGUARD_OPTIONS).secret).toBe(SECRET);
    expect(typeof moduleRef.get(PHIGUARD_ENGINE).authorize).toBe('function');
    const res = await request(app.getHttpServer()).get('/charts/p-7').set(billing);
    expect(res.body).toEqual({ id: 'ch-1', mrn: '****2345' });
    expect(events).toHaveLength(1);
  });

  it('a factory returning bad options fails the bootstrap', async () => {
    const build = Test.createTestingModule({
      imports: [PhiGuardModule.forRootAsync({ useFactory: async () => ({ policy, audit: { write: () => undefined }, context: headerContext(), secrett: 'x' }) as never })],
    }).compile();
    await expect(build).rejects.toThrow(/unknown phiguard option "secrett".*secret/);
  });

  it('useClass and useExisting build the options from an options factory', async () => {
    @Injectable()
    class PhiGuardConfig {
      createPhiGuardOptions() {
        return { policy, secret: SECRET, audit: { write: () => undefined }, context: headerContext() };
      }
    }
    @Module({ providers: [PhiGuardConfig], exports: [PhiGuardConfig] })
    class SettingsModule {}
    for (const async of [{ useClass: PhiGuardConfig }, { imports: [SettingsModule], useExisting: PhiGuardConfig }]) {
      const moduleRef = await Test.createTestingModule({ imports: [PhiGuardModule.forRootAsync(async)], controllers: [ChartController] }).compile();
      const nest = moduleRef.createNestApplication({ logger: false });
      await nest.init();
      expect(moduleRef.get(PHIGUARD_OPTIONS).secret).toBe(SECRET);
      expect((await request(nest.getHttpServer()).get('/charts/p-7').set(billing)).body).toEqual({ id: 'ch-1', mrn: '****2345' });
      await nest.close();
    }
    expect(() => PhiGuardModule.forRootAsync({ useClass: PhiGuardConfig, useFactory: () => ({}) as never })).toThrow(/exactly one of/);
    expect(() => PhiGuardModule.forRootAsync({} as never)).toThrow(/exactly one of/);
  });

  it('global: true makes the engine injectable in other modules', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly engine: unknown) {}
    }
    @Module({ providers: [{ provide: Consumer, useFactory: (e: unknown) => new Consumer(e), inject: [PHIGUARD_ENGINE] }] })
    class Feature {}
    const moduleRef = await Test.createTestingModule({
      imports: [PhiGuardModule.forRootAsync({ global: true, useFactory: () => ({ policy, secret: SECRET, audit: { write: () => undefined }, context: headerContext() }) }), Feature],
    }).compile();
    expect(moduleRef.get(Consumer).engine).toBe(moduleRef.get(PHIGUARD_ENGINE));
    await moduleRef.close();
  });
});

it('core errors thrown from a resolver keep their status (a PhiGuardError other than 401)', async () => {
  h = await makeApp(ALL, {
    context: () => {
      throw new AccessDeniedError('role_unknown');
    },
  });
  const res = await request(server()).get('/charts/p-7').set(doctor);
  expect(res.status).toBe(403);
  expect(res.body.error).toMatchObject({ code: 'access_denied', reason: 'role_unknown' });
});

describe('composition with the application (auth guards, app-wide interceptors)', () => {
  it('the decision runs after a controller guard that authenticates (req.user is there)', async () => {
    @Injectable()
    class BearerGuard {
      canActivate(ctx: { switchToHttp(): { getRequest(): { headers: Record<string, string | undefined>; user?: object } } }): boolean {
        const req = ctx.switchToHttp().getRequest();
        if (req.headers.authorization === 'Bearer bill') req.user = { id: 'u-bill', roles: ['billing'] };
        return true;
      }
    }
    @Controller('authed')
    @PhiResource('Chart')
    @UseGuards(BearerGuard)
    class Authed {
      @Get(':id')
      get() {
        return { ...CHART };
      }
    }
    h = await makeApp([Authed], {
      context: (req: { user?: { id: string; roles: string[] } }) => {
        if (req.user === undefined) throw new AuthenticationRequiredError();
        return { principal: { id: req.user.id }, roles: req.user.roles, purposeOfUse: 'HPAYMT' };
      },
    });
    const ok = await request(server()).get('/authed/p-7').set('Authorization', 'Bearer bill');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: 'ch-1', mrn: '****2345' });
    expect((await request(server()).get('/authed/p-7')).status).toBe(401);
  });

  it("an app-wide response cache keyed by URL never replays one caller's view to another", async () => {
    const cache = new Map<string, unknown>();
    @Injectable()
    class UrlCache {
      intercept(ctx: { switchToHttp(): { getRequest(): { url: string } } }, next: { handle(): import('rxjs').Observable<unknown> }) {
        const key = ctx.switchToHttp().getRequest().url;
        if (cache.has(key)) return of(cache.get(key));
        return next.handle().pipe(tap((v) => cache.set(key, v)));
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        PhiGuardModule.forRoot({ policy, secret: SECRET, mode: 'production', audit: { write: () => undefined }, context: headerContext() }),
      ],
      controllers: [ChartController],
      providers: [{ provide: APP_INTERCEPTOR, useClass: UrlCache }],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const asDoctor = await request(app.getHttpServer()).get('/charts/p-7').set(doctor);
      expect(asDoctor.body.ssn).toBe(CHART.ssn);
      const asBilling = await request(app.getHttpServer()).get('/charts/p-7').set(billing);
      expect(asBilling.status).toBe(200);
      expect(asBilling.body).toEqual({ id: 'ch-1', mrn: '****2345' });
      expect(asBilling.text).not.toContain(SSN);
      const anonymous = await request(app.getHttpServer()).get('/charts/p-7');
      expect(anonymous.status).toBe(401);
      expect(anonymous.text).not.toContain(SSN);
    } finally {
      await app.close();
    }
  });
});

describe('writes on routes nobody claimed', () => {
  it('are refused before the handler runs, so a retry cannot repeat the side effect', async () => {
    let ran = 0;
    @Controller('orders')
    class Orders {
      @Post()
      create() {
        ran++;
        return { ok: true };
      }
    }
    h = await makeApp([Orders]);
    const res = await request(server()).post('/orders').set(doctor).send({ note: 'x' });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('unmapped_route');
    expect(ran).toBe(0);
  });
});
