// An existing NestJS API (runs unchanged on Nest 10, 11 and 12): helmet, CORS for its portal,
// compression, passport-jwt authentication, Sequelize on PostgreSQL, FHIR routes, a paginated
// list and its own exception filter. phiguard is added as the README shows: the module in the
// root module's imports and @PhiResource on the routes.
//
// NEST_AUTH picks how the app authenticates:
//   middleware (default): passport as Nest middleware, before every guard;
//   guard: @UseGuards(AuthGuard('jwt')) on the controllers (@nestjs/passport).
import 'reflect-metadata';
import {
  Catch,
  Controller,
  Get,
  HttpException,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Query,
  Req,
  UseGuards,
  type ArgumentsHost,
  type ExceptionFilter,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import compression from 'compression';
import helmet from 'helmet';
import passport from 'passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthenticationRequiredError } from '@phiguard/core';
import { PhiGuardModule, PhiResource, SkipPhiGuard } from '@phiguard/nestjs';

const { policy } = require('./policy.cjs');
const { auditSink } = require('./audit.cjs');
const { openDatabase, toFhir, searchset, searchWhere } = require('./db.cjs');

const DB = 'DB';
const byGuard = process.env.NEST_AUTH === 'guard';
const instances = process.env.ORM_ROWS === 'instances'; // the page route returns model instances as they are
const jwtOptions = { jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: process.env.JWT_SECRET!, algorithms: ['HS256'] };
const validate = (payload: { sub: string; roles: string[] }) => ({ sub: payload.sub, roles: payload.roles });

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super(jwtOptions);
  }
  validate(payload: { sub: string; roles: string[] }) {
    return validate(payload);
  }
}
const Authenticated = (): ClassDecorator => (byGuard ? UseGuards(AuthGuard('jwt')) : () => undefined);

interface Db {
  Patient: any;
  Op: any;
}

@Controller('fhir/Patient')
@Authenticated()
export class PatientController {
  constructor(@Inject(DB) private readonly db: Db) {}

  @Get()
  @PhiResource('PatientBundle')
  async search(@Query() query: Record<string, string>, @Req() req: any) {
    const limit = Math.min(Number(query._count ?? 50), 200);
    const rows = await this.db.Patient.findAll({ where: searchWhere(this.db.Op, query), order: [['id', 'ASC']], limit, raw: true });
    if (rows.length === 0 && typeof query.identifier === 'string') throw new NotFoundException(`no Patient with identifier ${query.identifier}`);
    return searchset(`${req.protocol}://${req.get('host')}`, new URLSearchParams(query).toString(), rows);
  }

  @Get(':id')
  @PhiResource('Patient')
  async read(@Param('id') id: string) {
    const row = await this.db.Patient.findByPk(id, { raw: true });
    if (row === null) throw new NotFoundException(`Patient/${id} not found`);
    return toFhir(row);
  }
}

@Controller('patients')
@Authenticated()
@PhiResource('PatientPage')
export class PageController {
  constructor(@Inject(DB) private readonly db: Db) {}

  @Get()
  async list(@Query('page') pageParam?: string, @Query('pageSize') sizeParam?: string) {
    const page = Math.max(1, Number(pageParam ?? 1));
    const pageSize = Math.min(Math.max(1, Number(sizeParam ?? 10)), 100);
    const { rows, count } = await this.db.Patient.findAndCountAll({ order: [['id', 'ASC']], offset: (page - 1) * pageSize, limit: pageSize });
    return { page, pageSize, total: count, items: instances ? rows : rows.map((r: any) => r.get({ plain: true })) };
  }
}

@Controller()
@SkipPhiGuard()
export class OpsController {
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('fhir/metadata')
  metadata() {
    return { resourceType: 'CapabilityStatement', status: 'active', fhirVersion: '4.0.1', kind: 'instance' };
  }
}

/** The app's own filter, as it was before phiguard: logs the error's name, answers an OperationOutcome. */
@Catch(HttpException)
export class OperationOutcomeFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost) {
    const status = exception.getStatus();
    process.stderr.write(`app error handler: ${exception.name} (${status})\n`);
    host
      .switchToHttp()
      .getResponse()
      .status(status)
      .json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 404 ? 'not-found' : 'exception', diagnostics: exception.message }] });
  }
}

@Module({
  imports: [
    PhiGuardModule.forRoot({
      policy,
      secret: process.env.PHIGUARD_SECRET,
      audit: auditSink,
      context: (req: any) => {
        if (!req.user) throw new AuthenticationRequiredError();
        return { principal: { id: req.user.sub }, roles: req.user.roles, purposeOfUse: req.get('X-Purpose-Of-Use') };
      },
    }),
  ],
  controllers: [PatientController, PageController, OpsController],
  providers: [{ provide: DB, useFactory: openDatabase }, ...(byGuard ? [JwtStrategy] : [])],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    if (byGuard) return;
    passport.use(new Strategy(jwtOptions, (payload: any, done: any) => done(null, validate(payload))));
    consumer.apply(passport.authenticate('jwt', { session: false })).forRoutes(PatientController, PageController);
  }
}

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.use(helmet());
  app.enableCors({ origin: 'https://portal.example', exposedHeaders: ['X-Request-Id'] });
  app.use(compression());
  app.useGlobalFilters(new OperationOutcomeFilter());
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  process.stdout.write(`listening on ${app.getHttpServer().address().port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((err) => {
  process.stderr.write(`start failed: ${err.stack}\n`);
  process.exit(1);
});
