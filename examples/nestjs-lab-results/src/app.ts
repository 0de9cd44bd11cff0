import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { createFieldCipher, createPhiGuard, type AuditEvent, type PhiGuard } from '@phiguard/core';
import { createPinoAuditSink, createTeeSink } from '@phiguard/core/audit';
import { PHIGUARD_ENGINE, PhiGuardModule, breakGlassController } from '@phiguard/nestjs';
import type { AppOptions as ExpressAppOptions } from '../../express-lab-results/src/app.js';
import { jwtContext } from '../../express-lab-results/src/auth.js';
import { keyringFrom } from '../../express-lab-results/src/keyring.js';
import { operators, policy } from '../../express-lab-results/src/policy.js';
import { createPostStore, createRepository, type ResultsRepository } from '../../express-lab-results/src/repository.js';
import { careTeamOf } from '../../express-lab-results/src/data.js';
import { HealthController, POSTS, PostsController, RESULTS, ResultsController } from './results.controller.js';
import { ROI, RoiController } from './roi/controller.js';
import { ExportsController } from './exports.controller.js';
import { roiPolicy } from './roi/policy.js';
import { ROI_ERROR_CODES, ReleaseOfInformation } from './roi/service.js';
import { createGovernance, type GovernanceOptions } from './roi/governance.js';
import { GOVERNANCE, GovernanceController } from './roi/governance.controller.js';

// The same policy, data, view, tokens and storage as the Express example: both serve identical data.
export { policy, operators } from '../../express-lab-results/src/policy.js';
export { signToken, secretsFrom, jwtContext, DEV_JWT_SECRET, DEV_PHIGUARD_SECRET } from '../../express-lab-results/src/auth.js';
export { findPatient } from '../../express-lab-results/src/data.js';
export { labResultsView } from '../../express-lab-results/src/view.js';

/** The Express example's options that this app honours, with the same meaning. */
export type AppOptions = Pick<ExpressAppOptions, 'jwtSecret' | 'phiguardSecret' | 'logger' | 'keyring' | 'keyCache' | 'state' | 'scanner' | 'auditStore'> & {
  /** Disclosure governance: clock, release copies, break-glass approval, containment (roi/governance.ts). */
  readonly governance?: GovernanceOptions;
};

/** The application module: phiguard configured once, the controllers claim their resources. */
@Module({})
export class LabResultsModule {
  static register(options: AppOptions): DynamicModule {
    const audit = options.logger ?? pino();
    // SSNs and clinical comments are stored encrypted; their data keys are wrapped by the keyring.
    const cipher = createFieldCipher({ keyring: options.keyring ?? keyringFrom(process.env), cache: options.keyCache });
    // Releases of information are decided by their own matrix (roi/policy.ts), audited to the same
    // log, to the durable store when there is one, and to a trail the accounting reads otherwise.
    const trail: AuditEvent[] = [];
    const releaseAudit = createTeeSink(createPinoAuditSink(audit), { write: (e: AuditEvent) => void (trail.push(e), trail.length > 10_000 && trail.shift()) }, ...(options.auditStore ? [options.auditStore] : []));
    const releases = createPhiGuard({ policy: roiPolicy, secret: options.phiguardSecret, audit: releaseAudit, cipher });
    // Recipients, authorizations, holds and the deny list live in the shared state (Redis in production).
    const governance = createGovernance({ releases, state: options.state, secret: options.phiguardSecret, cipher, auditStore: options.auditStore, trail, governance: options.governance });
    const approval = options.governance?.breakGlassApproval;
    return {
      module: LabResultsModule,
      imports: [
        // Audit: 45 CFR 164.312(b).
        PhiGuardModule.forRoot({
          policy: approval === undefined ? policy : { ...policy, breakGlass: { ...policy.breakGlass!, approval } },
          operators,
          secret: options.phiguardSecret,
          audit,
          cipher,
          relationship: careTeamOf,
          // Break-glass grants are shared by every instance through this store (Redis in production).
          state: options.state,
          scanner: options.scanner,
          // Incident containment: users and clients disabled on any instance are refused on every one.
          ...(options.governance?.containment === false ? {} : { denyList: governance.denyList }),
          context: jwtContext(options.jwtSecret),
          // The release desk's own refusal codes: constants, safe to show to the desk's client.
          errorCodes: ROI_ERROR_CODES,
        }),
      ],
      // Emergency access: POST /break-glass { patientId, reason, justification } → { grantId }; then
      // X-Break-Glass-Grant: <grantId> on the patient's requests. Reviews for the auditor role.
      controllers: [HealthController, ResultsController, PostsController, ExportsController, breakGlassController('break-glass'), RoiController, GovernanceController],
      providers: [
        { provide: RESULTS, useFactory: (engine: PhiGuard) => createRepository(engine.records!), inject: [PHIGUARD_ENGINE] },
        { provide: POSTS, useFactory: createPostStore },
        { provide: ROI, useFactory: (results: ResultsRepository) => new ReleaseOfInformation(releases, results, governance), inject: [RESULTS] },
        { provide: GOVERNANCE, useValue: governance },
      ],
    };
  }
}

/** Creates and initializes the Nest application (not listening yet). */
export async function createApp(options: AppOptions): Promise<INestApplication> {
  // Nest's own logger prints only warnings and errors; the audit trail goes to `logger`.
  const app = await NestFactory.create(LabResultsModule.register(options), { logger: ['error', 'warn'] });
  (app.getHttpAdapter().getInstance() as { disable(name: string): void }).disable('x-powered-by');
  await app.init();
  return app;
}
