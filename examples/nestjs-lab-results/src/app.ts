import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { createFieldCipher, createPhiGuard, type PhiGuard } from '@phiguard/core';
import { PHIGUARD_ENGINE, PhiGuardModule, breakGlassController } from '@phiguard/nestjs';
import type { AppOptions as ExpressAppOptions } from '../../express-lab-results/src/app.js';
import { jwtContext } from '../../express-lab-results/src/auth.js';
import { keyringFrom } from '../../express-lab-results/src/keyring.js';
import { operators, policy } from '../../express-lab-results/src/policy.js';
import { createPostStore, createRepository, type ResultsRepository } from '../../express-lab-results/src/repository.js';
import { careTeamOf } from '../../express-lab-results/src/data.js';
import { HealthController, POSTS, PostsController, RESULTS, ResultsController } from './results.controller.js';
import { ROI, RoiController } from './roi/controller.js';
import { roiPolicy } from './roi/policy.js';
import { ROI_ERROR_CODES, ReleaseOfInformation } from './roi/service.js';

// The same policy, data, view, tokens and storage as the Express example: both serve identical data.
export { policy, operators } from '../../express-lab-results/src/policy.js';
export { signToken, secretsFrom, jwtContext, DEV_JWT_SECRET, DEV_PHIGUARD_SECRET } from '../../express-lab-results/src/auth.js';
export { findPatient } from '../../express-lab-results/src/data.js';
export { labResultsView } from '../../express-lab-results/src/view.js';

/** The Express example's options that this app honours, with the same meaning. */
export type AppOptions = Pick<ExpressAppOptions, 'jwtSecret' | 'phiguardSecret' | 'logger' | 'keyring' | 'keyCache' | 'state' | 'scanner'>;

/** The application module: phiguard configured once, the controllers claim their resources. */
@Module({})
export class LabResultsModule {
  static register(options: AppOptions): DynamicModule {
    const audit = options.logger ?? pino();
    // SSNs and clinical comments are stored encrypted; their data keys are wrapped by the keyring.
    const cipher = createFieldCipher({ keyring: options.keyring ?? keyringFrom(process.env), cache: options.keyCache });
    // Releases of information are decided by their own matrix (roi/policy.ts), audited to the same log.
    const releases = createPhiGuard({ policy: roiPolicy, secret: options.phiguardSecret, audit, cipher });
    return {
      module: LabResultsModule,
      imports: [
        // Audit: 45 CFR 164.312(b).
        PhiGuardModule.forRoot({
          policy,
          operators,
          secret: options.phiguardSecret,
          audit,
          cipher,
          relationship: careTeamOf,
          // Break-glass grants are shared by every instance through this store (Redis in production).
          state: options.state,
          scanner: options.scanner,
          context: jwtContext(options.jwtSecret),
          // The release desk's own refusal codes: constants, safe to show to the desk's client.
          errorCodes: ROI_ERROR_CODES,
        }),
      ],
      // Emergency access: POST /break-glass { patientId, reason, justification } → { grantId }; then
      // X-Break-Glass-Grant: <grantId> on the patient's requests. Reviews for the auditor role.
      controllers: [HealthController, ResultsController, PostsController, breakGlassController('break-glass'), RoiController],
      providers: [
        { provide: RESULTS, useFactory: (engine: PhiGuard) => createRepository(engine.records!), inject: [PHIGUARD_ENGINE] },
        { provide: POSTS, useFactory: createPostStore },
        { provide: ROI, useFactory: (results: ResultsRepository) => new ReleaseOfInformation(releases, results), inject: [RESULTS] },
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
