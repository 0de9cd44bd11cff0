import express, { type Express } from 'express';
import { pino, type Logger } from 'pino';
import {
  createFieldCipher,
  createPhiGuard,
  type AuditEvent,
  type AuditSink,
  type Clock,
  type KeyCacheOptions,
  type Keyring,
  type Scanner,
  systemClock,
} from '@phiguard/core';
import {
  accountingOfDisclosures,
  createChainSink,
  createPinoAuditSink,
  createTeeSink,
  type ChainedAuditSink,
  type DisclosureStore,
  type DurableAuditSink,
  type TeeAuditSink,
} from '@phiguard/core/audit';
import { createSafeHarbor } from '@phiguard/core/deid';
import { buildNotification, createPickupLinks } from '@phiguard/core/delivery';
import { createMemoryStateStore, type StateStore } from '@phiguard/core/state';
import { createDenyList, createRecipientRegistry } from '@phiguard/core/governance';
import { GOVERNANCE_ROLES, Refusal, disclosureOf, governanceRoutes } from './governance.js';
import { createHash } from 'node:crypto';
import { abnormalResultsReport } from './reports.js';
import { RESULT_COLUMNS, resultRows } from './exports.js';
import { breakGlassRoutes, getAccessContext, nonPhi, phiguard, sendExport } from '@phiguard/express';
import { jwtContext } from './auth.js';
import { keyringFrom } from './keyring.js';
import { operators, policy } from './policy.js';
import { createPostStore, createRepository, type Deleted } from './repository.js';
import { PATIENTS, careTeamOf } from './data.js';

export { policy } from './policy.js';
export { signToken, secretsFrom, jwtContext, DEV_JWT_SECRET, DEV_PHIGUARD_SECRET } from './auth.js';
export { operators } from './policy.js';
export { findPatient } from './data.js';
export { labResultsView } from './view.js';
export { keyringFrom } from './keyring.js';

export interface AppOptions {
  /** Verifies the HS256 bearer tokens (JWT_SECRET). */
  readonly jwtSecret: string | Uint8Array;
  /** 32+ bytes keying research tokens and audit patient references (PHIGUARD_SECRET). */
  readonly phiguardSecret: string | Uint8Array;
  /** Where audit events (and PHI-free error lines) go. Default: pino to stdout. */
  readonly logger?: Logger;
  /** Wraps the data keys of the encrypted fields. Default: from the environment (keyring.ts), local in development. */
  readonly keyring?: Keyring;
  /** Data-key cache limits (how long a key is used, and for how many values). */
  readonly keyCache?: KeyCacheOptions;
  /** Shared state for break-glass grants. Default: in memory (one instance). */
  readonly state?: StateStore;
  /** The DLP scanner for request bodies (tests pass one with the kit's canary detectors). */
  readonly scanner?: Scanner;
  /** Key of the audit hash chain (32+ bytes; PHIGUARD_AUDIT_KEY in server.ts). Default: a development key. */
  readonly auditKey?: Uint8Array;
  /** A durable audit store written beside the log (server.ts: PostgreSQL, sync or buffered). */
  readonly auditStore?: AuditSink;
  /**
   * A sink that chains and commits events itself (server.ts: `createDurableSink`, the default mode).
   * It replaces the example's own chain; the log lines then carry no chain link (the
   * write-ahead files and the store do).
   */
  readonly durableAudit?: DurableAuditSink;
  /** Public base URL of pickup links. Default `https://results.example.org`. */
  readonly publicUrl?: string;
  /** The time every phiguard component reads (tests advance one instead of sleeping). Default: the wall clock. */
  readonly clock?: Clock;
  /** Check the shared deny list (incident containment) on every PHI request. Default true. */
  readonly containment?: boolean;
}

/** The app and what a graceful shutdown must drain. */
export type LabResultsApp = Express & { readonly locals: { readonly audit: ChainedAuditSink | TeeAuditSink } };

/** Public, so development trails verify with it; set PHIGUARD_AUDIT_KEY anywhere else. */
export const DEV_AUDIT_KEY = createHash('sha256').update('phiguard-example-DEVELOPMENT-ONLY-audit-chain-key').digest();

/**
 * The lab-results API. The handlers below know nothing about roles: they return the whole view,
 * and phiguard decides, per caller and purpose of use, what of it leaves the process.
 */
export function createApp(options: AppOptions): LabResultsApp {
  const app = express();
  app.disable('x-powered-by');

  // SSNs and clinical comments are stored encrypted; their data keys are wrapped by the keyring.
  const { clock } = options;
  const cipher = createFieldCipher({ keyring: options.keyring ?? keyringFrom(process.env), cache: options.keyCache, clock });
  // Audit: one pino JSON line per event, hash-chained (phiguard audit verify), and the recent
  // events kept in memory for the accounting of disclosures.
  const trail: AuditEvent[] = [];
  // The releases outside the organization (events with a disclosure record): what the privacy
  // office's accounting reads when there is no durable store, as the NestJS example's release trail.
  const released: AuditEvent[] = [];
  const remember: AuditSink = {
    write(event) {
      trail.push(event);
      if (trail.length > 10_000) trail.shift();
      if (event.disclosure !== undefined) {
        released.push(event);
        if (released.length > 10_000) released.shift();
      }
    },
  };
  const log = createPinoAuditSink(options.logger ?? pino());
  // Durable first: when it refuses an event (503), nothing else records a disclosure that did not happen.
  const audit = options.durableAudit
    ? createTeeSink(options.durableAudit, log, remember)
    : createChainSink(createTeeSink(log, remember, ...(options.auditStore ? [options.auditStore] : [])), { key: options.auditKey ?? DEV_AUDIT_KEY });
  app.locals.audit = audit;
  // Shared by break-glass grants and pickup-link nonces (Redis in production: every instance).
  const state = options.state ?? createMemoryStateStore({ clock });
  // Governance: the business-associate registry and the deny list live in the shared state too,
  // so a recipient registered or a user disabled on one instance counts on every one.
  const recipients = createRecipientRegistry({ store: state, secret: options.phiguardSecret, audit, managerRoles: [GOVERNANCE_ROLES.privacy], clock: clock ?? systemClock });
  const denyList = createDenyList({ store: state, audit, roles: [GOVERNANCE_ROLES.security], clock: clock ?? systemClock });
  const guard = createPhiGuard({
    policy,
    operators,
    secret: options.phiguardSecret,
    audit,
    cipher,
    relationship: careTeamOf,
    // Break-glass grants are shared by every instance through this store (Redis in production).
    state,
    scanner: options.scanner,
    clock,
    // Incident containment: users and clients disabled on any instance are refused on every one.
    ...(options.containment === false ? {} : { denyList }),
  });
  // Single-use result links, keyed apart from the other secrets (derived here for the example).
  const links = createPickupLinks({
    secret: createHash('sha256').update('phiguard example pickup links\0').update(options.phiguardSecret).digest(),
    store: state,
    ttlSeconds: 900,
    audit,
    clock,
  });
  const publicUrl = options.publicUrl ?? 'https://results.example.org';
  const repository = createRepository(guard.records!);

  // The one line. Mounted first so that it governs every request, including those a body
  // parser rejects. Audit: 45 CFR 164.312(b).
  app.use(phiguard({ guard, context: jwtContext(options.jwtSecret) }));

  app.use(express.json({ limit: '100kb' }));

  // Emergency access: POST /break-glass { patientId, reason, justification } → { grantId }; then
  // X-Break-Glass-Grant: <grantId> on the patient's requests. Reviews for the auditor role.
  app.use('/break-glass', breakGlassRoutes());

  // The privacy and security offices: recipients, the accounting of disclosures (read from the
  // durable audit store when it can answer, otherwise this instance's trail), containment.
  // Only releases with a disclosure record count there: an export without a recipient is a use
  // inside the organization (the NestJS example writes only those to its release trail).
  const durable = (options.durableAudit ?? options.auditStore) as Partial<DisclosureStore> | undefined;
  const accountingSource: DisclosureStore | readonly AuditEvent[] =
    durable !== undefined && typeof durable.disclosures === 'function'
      ? { disclosures: async (query) => (await (durable as DisclosureStore).disclosures(query)).filter((e) => e.disclosure !== undefined) }
      : released;
  app.use('/governance', governanceRoutes({ guard, resolve: jwtContext(options.jwtSecret), recipients, denyList, accountingSource, audit }));

  app.get('/health', nonPhi(), (_req, res) => {
    res.json({ status: 'ok' });
  });

  // What the care team and patients post. phiguard has already applied the resources' DLP rule
  // to the body: a note quoting identifiers never gets here; a message arrives redacted.
  const posted = createPostStore();
  app.locals.posted = posted;
  for (const kind of ['notes', 'messages'] as const) {
    app.post(`/patients/:id/${kind}`, (req, res) => {
      const text = (req.body as { text?: unknown } | undefined)?.text;
      if (typeof text !== 'string' || text.length === 0 || text.length > 10_000) {
        res.status(400).json({ error: { code: 'text_required' } });
        return;
      }
      if (!PATIENTS.has(req.params.id)) {
        res.status(404).json({ error: { code: 'not_found' } });
        return;
      }
      const author = getAccessContext(res)?.principal.id;
      res.status(201).json(posted.add(kind, { patientId: req.params.id, text, ...(kind === 'notes' ? { author } : {}) }));
    });
  }

  // The ordering provider withdraws a note (policy: NoteDeletion). The answer names what went,
  // never the note's text; phiguard audits it as a delete.
  app.delete('/patients/:id/notes/:noteId', (req, res) => {
    const removed = posted.remove('notes', req.params.id, req.params.noteId);
    if (removed === undefined) {
      res.status(404).json({ error: { code: 'not_found' } });
      return;
    }
    const deletedBy = getAccessContext(res)?.principal.id ?? 'unknown';
    res.json({ id: removed.id, patientId: removed.patientId, deletedBy, deletedAt: new Date().toISOString() } satisfies Deleted);
  });

  app.get('/patients/:id/disclosures', async (req, res) => {
    const from = typeof req.query.from === 'string' ? req.query.from : undefined;
    const to = typeof req.query.to === 'string' ? req.query.to : undefined;
    res.json(await accountingOfDisclosures(trail, { patientRef: guard.policy.patientRef(req.params.id), from, to }));
  });

  // Safe Harbor for research: every identifier kind removed or generalized by core's transform,
  // free text removed (it quotes names and phones). One JSON line per patient.
  const deidentify = createSafeHarbor({ resource: 'PatientResults', policy: guard.policy, freeText: 'remove' });
  app.get('/research/extract', async (_req, res) => {
    const lines: string[] = [];
    // The caller's context: sensitive categories (HIV, genetic) are removed unless the policy
    // reveals them to this caller, exactly as on GET /patients/:id/results.
    const context = getAccessContext(res);
    for (const id of PATIENTS.keys()) {
      const view = await repository.find(id);
      if (view !== undefined) lines.push(JSON.stringify(deidentify(view, { context }).value));
    }
    res.type('application/x-ndjson').send(`${lines.join('\n')}\n`);
  });

  app.get('/reports/abnormal-results', (_req, res) => {
    res.json(abnormalResultsReport());
  });

  // Watermarked CSV for records requests: rows filtered through the policy for this caller, then
  // sent with a file name that carries no identifier, and audited as an export. With `recipient`
  // (a registry id) the export leaves the organization: the registry admits the recipient (403
  // `recipient_unknown` / `agreement_missing`, audited) and the export event carries the
  // disclosure record (basis, purpose statement, digest of the bytes sent) the accounting reads.
  app.get('/patients/:id/results.csv', async (req, res) => {
    const record = PATIENTS.get(req.params.id);
    const context = getAccessContext(res);
    if (record === undefined || context === null) {
      res.status(404).json({ error: { code: 'not_found' } });
      return;
    }
    const patientRef = guard.policy.patientRef(record.patient.id);
    let disclosure;
    try {
      // A refused recipient (AccessDeniedError) is answered and audited by phiguard's pipeline.
      disclosure = await disclosureOf(recipients, context, req.query, patientRef);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      res.status(err.status).json({ error: { code: err.code, ...err.extra } });
      return;
    }
    // HIV and genetic rows are filtered by the policy's sensitive categories, as in the JSON view.
    const { value } = guard.policy.protect<Record<string, unknown>[]>(resultRows(record), context, 'ResultsExport');
    const mrn = record.patient.identifier.find((i) => i.system.endsWith('/mrn'))?.value ?? '';
    await sendExport(res, {
      format: 'csv',
      // What a records clerk would type; sendExport strips the identifiers from it.
      filename: `results MRN ${mrn} DOB ${record.patient.birthDate}.csv`,
      rows: value,
      columns: RESULT_COLUMNS,
      meta: {
        purpose: context.purposeOfUse ?? 'unknown',
        recipient: disclosure?.recipient.id ?? 'requester',
        user: context.principal.id,
        requestId: String(res.getHeader('x-request-id') ?? ''),
      },
      audit,
      resource: 'ResultsExport',
      context,
      patientRef,
      ...(disclosure === undefined ? {} : { disclosure }),
    });
  });

  // Pull, not push: the provider issues a link; the notification carries generic text and the
  // link; the patient signs in and opens it once.
  app.post('/patients/:id/result-links', async (req, res) => {
    const record = PATIENTS.get(req.params.id);
    if (record === undefined) {
      res.status(404).json({ error: { code: 'not_found' } });
      return;
    }
    const { token, expiresAt } = await links.issue({
      resource: 'PatientResults',
      resourceId: record.patient.id,
      audience: `patient:${record.patient.id}`,
      requireAuth: true,
      patientRef: guard.policy.patientRef(record.patient.id),
      context: getAccessContext(res) ?? undefined,
    });
    const url = `${publicUrl}/pickup/${token}`;
    const notification = buildNotification({ channel: 'sms', template: 'result-ready', link: url, organization: 'Example Lab', expiresInMinutes: 15 });
    res.status(201).json({ url, expiresAt: new Date(expiresAt).toISOString(), notification: { text: notification.text } });
  });

  app.get('/pickup/:token', async (req, res) => {
    const context = getAccessContext(res);
    // Redeemed once, by the patient it was issued for, on any instance sharing the state store.
    const held = await links.hold(req.params.token, { audience: `patient:${String(context?.principal.patientId)}`, context });
    // Spent only once the results were served: a refusal (a second factor to add first) leaves it usable.
    res.once('close', () => void (res.writableFinished && res.statusCode < 400 ? held.commit() : held.abandon()).catch(() => undefined));
    res.json(await repository.find(held.resourceId));
  });

  app.get('/patients/:id/results', async (req, res) => {
    const view = await repository.find(req.params.id);
    if (view === undefined) {
      res.status(404).json({ error: { code: 'not_found' } });
      return;
    }
    res.json(view);
  });

  return app as LabResultsApp;
}
