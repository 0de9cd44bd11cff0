'use strict';
// An existing Express API (runs unchanged on Express 4 and 5): helmet, CORS for its portal,
// compression, passport-jwt authentication, Sequelize on PostgreSQL, FHIR routes, a paginated
// list and its own error handler. phiguard is added with the README's one line.
//
// PHIGUARD_ORDER picks where that line goes:
//   after-auth (default): after the app's authentication, where req.user exists;
//   first: mounted first, with authentication per router (the README snippet's order).
// NONPHI picks how the non-PHI routes are marked: route (nonPhi() on each route), mount
// (nonPhi() on the /fhir mount of the metadata router) or policy (the `nonPhi` option's list).
const express = require('express');
const helmet = require('helmet');
const cors = require('cors');
const compression = require('compression');
const passport = require('passport');
const { ExtractJwt, Strategy: JwtStrategy } = require('passport-jwt');
const { phiguard, nonPhi } = require('@phiguard/express');
const { AuthenticationRequiredError } = require('@phiguard/core');
const { policy } = require('./policy.cjs');
const { auditSink } = require('./audit.cjs');
const { openDatabase, toFhir, searchset, searchWhere, NotFound } = require('./db.cjs');

const order = process.env.PHIGUARD_ORDER ?? 'after-auth';
const nonPhiStyle = process.env.NONPHI ?? 'route';
const instances = process.env.ORM_ROWS === 'instances'; // the page route returns model instances as they are
const wrap = (fn) => (req, res, next) => Promise.resolve(fn(req, res, next)).catch(next); // Express 4 does not catch rejections

passport.use(
  new JwtStrategy(
    { jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: process.env.JWT_SECRET, algorithms: ['HS256'] },
    (payload, done) => done(null, { sub: payload.sub, roles: payload.roles }),
  ),
);
const authenticate = passport.authenticate('jwt', { session: false });

async function main() {
  const { Patient, Op } = await openDatabase();
  const app = express();
  app.set('trust proxy', false);

  const guard = phiguard({
    policy,
    ...(nonPhiStyle === 'policy' ? { nonPhi: ['GET /health', 'GET /fhir/metadata'] } : {}),
    secret: process.env.PHIGUARD_SECRET,
    audit: auditSink,
    context: (req) => {
      if (!req.user) throw new AuthenticationRequiredError();
      return { principal: { id: req.user.sub }, roles: req.user.roles, purposeOfUse: req.get('X-Purpose-Of-Use') };
    },
  });
  if (order === 'first') app.use(guard);
  app.use(helmet());
  app.use(cors({ origin: 'https://portal.example', exposedHeaders: ['X-Request-Id'] }));
  app.use(compression());
  app.use(express.json());
  app.use(passport.initialize());

  const health = (_req, res) => res.json({ status: 'ok' });
  const capability = (_req, res) => res.json({ resourceType: 'CapabilityStatement', status: 'active', fhirVersion: '4.0.1', kind: 'instance' });
  if (nonPhiStyle !== 'policy') app.get('/health', nonPhi(), health);
  else app.get('/health', health);
  const metadata = express.Router();
  metadata.get('/metadata', nonPhiStyle === 'route' ? [nonPhi(), capability] : capability);
  if (nonPhiStyle === 'mount') app.use('/fhir', nonPhi(), metadata);
  else app.use('/fhir', metadata);

  if (order === 'first') {
    app.use('/fhir', authenticate);
    app.use('/patients', authenticate);
  } else {
    app.use(['/fhir', '/patients'], authenticate);
    app.use(guard);
  }

  app.get('/fhir/Patient/:id', wrap(async (req, res) => {
    const row = await Patient.findByPk(req.params.id, { raw: true });
    if (row === null) throw new NotFound(`Patient/${req.params.id} not found`);
    res.json(toFhir(row));
  }));
  app.get('/fhir/Patient', wrap(async (req, res) => {
    const limit = Math.min(Number(req.query._count ?? 50), 200);
    const rows = await Patient.findAll({ where: searchWhere(Op, req.query), order: [['id', 'ASC']], limit, raw: true });
    if (rows.length === 0 && typeof req.query.identifier === 'string') throw new NotFound(`no Patient with identifier ${req.query.identifier}`);
    const query = new URLSearchParams(req.query).toString();
    res.json(searchset(`${req.protocol}://${req.get('host')}`, query, rows));
  }));
  // Routes phiguard does not know: an encounter (PHI nobody classified) and a write that echoes its body.
  app.get('/fhir/Encounter/:id', (req, res) => res.json({ resourceType: 'Encounter', id: req.params.id, subject: { reference: 'Patient/p0001' }, status: 'finished' }));
  app.post('/fhir/Encounter', (req, res) => res.status(201).json(req.body));
  app.get('/patients', wrap(async (req, res) => {
    const page = Math.max(1, Number(req.query.page ?? 1));
    const pageSize = Math.min(Math.max(1, Number(req.query.pageSize ?? 10)), 100);
    const { rows, count } = await Patient.findAndCountAll({ order: [['id', 'ASC']], offset: (page - 1) * pageSize, limit: pageSize });
    res.json({ page, pageSize, total: count, items: instances ? rows : rows.map((r) => r.get({ plain: true })) });
  }));

  // The app's own error handler, as it was before phiguard: logs the message, answers an OperationOutcome.
  app.use((err, _req, res, _next) => {
    const status = err.status ?? err.statusCode ?? 500;
    process.stderr.write(`app error handler: ${err.name} (${status})\n`);
    res.status(status).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 404 ? 'not-found' : 'exception', diagnostics: err.message }] });
  });

  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    process.stdout.write(`listening on ${server.address().port}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(`start failed: ${err.stack}\n`);
  process.exit(1);
});
