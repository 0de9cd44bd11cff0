import type { Answer } from '@phiguard/core/adapter';

/** An answer the exchange gave in the handler's place, carried to the exception filter. */
export class PhiGuardAnswer extends Error {
  override name = 'PhiGuardAnswer';
  constructor(readonly answer: Answer) {
    super(`phiguard answered ${answer.status} (${answer.body.error.code}).`);
  }
}

/** A refusal the adapter itself makes (a route phiguard serves that is switched off). */
export class PhiGuardRefusal extends Error {
  override name = 'PhiGuardRefusal';
  constructor(
    readonly code: 'break_glass_disabled' | 'signature_body_parsed',
    readonly status: number,
  ) {
    super(`phiguard refused the request (${code}).`);
  }
}
