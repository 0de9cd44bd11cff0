// The ~2 KB lab-results document of patient 1001 and the example's policy, from the built example,
// and the example's route behind phiguard alone, as the in-process and HTTP benchmarks measure it.
import http from 'node:http';
import { Duplex } from 'node:stream';
import express from 'express';
import { phiguard } from '../../packages/express/dist/index.js';
import { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, findPatient, labResultsView, operators, policy, signToken } from '../../examples/express-lab-results/dist/app.js';

export { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, operators, policy, signToken };

/** Fixed date so every run projects the same document. */
export const AS_OF = new Date('2026-06-01T00:00:00Z');
export const document = () => labResultsView(findPatient('1001'), AS_OF);

/** Roles measured, with the purpose each asserts. */
export const CALLERS = [
  { role: 'billing', purpose: 'HPAYMT' },
  { role: 'ordering-provider', purpose: 'TREAT' },
  { role: 'researcher', purpose: 'HRESCH' },
];

/**
 * The example's route behind phiguard with a synchronous context resolver (claims already
 * verified upstream, as behind an authenticating gateway): phiguard's own cost, without jose.
 * The policy marks fields `encrypt: true` and scopes nurses to the care team; the document is in
 * the clear, so `cipher` is never called.
 */
export function phiguardApp({ role, purpose, audit, cipher }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    phiguard({
      policy,
      operators,
      secret: DEV_PHIGUARD_SECRET,
      audit,
      context: () => ({ principal: { id: `bench-${role}` }, roles: [role], purposeOfUse: purpose }),
      cipher,
      relationship: () => ({ careTeam: true }),
    }),
  );
  app.use(express.json({ limit: '100kb' }));
  app.get('/patients/:id/results', (req, res) => void res.json(labResultsView(findPatient(req.params.id))));
  return app;
}

/** A socket that discards what is written: requests served without the network. */
class NullSocket extends Duplex {
  remoteAddress = '127.0.0.1';
  _read() {}
  _write(_chunk, _encoding, done) {
    done();
  }
  _writev(_chunks, done) {
    done();
  }
}

/**
 * GET /patients/1001/results through `app` on real IncomingMessage / ServerResponse objects;
 * resolves when the response finishes with 200.
 */
export function inject(app, headers = {}) {
  return new Promise((resolve, reject) => {
    const socket = new NullSocket();
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/patients/1001/results';
    req.headers = { host: 'bench', ...headers };
    req.push(null);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    // From a turn of the event loop of its own, as a server starts a request from a socket's
    // callback: without it, a run of requests chained by promises never lets timers, immediates
    // or file-system callbacks run, and a sink's background work (a file write, a batch) waits
    // until the run ends.
    setImmediate(app, req, res);
  });
}

/** Serves `n` injected requests with `inflight` of them in flight at a time. */
export async function injectMany(app, n, inflight) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < n) {
        next++;
        await inject(app);
      }
    }),
  );
}
