import { Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, BadRequestException, Param, Post } from '@nestjs/common';
import type { AccessContext } from '@phiguard/core';
import { AllowBreakGlass, PhiAccessContext, PhiResource, SkipPhiGuard } from '@phiguard/nestjs';
import { PATIENTS } from '../../express-lab-results/src/data.js';
import type { Deleted, PostStore, ResultsRepository } from '../../express-lab-results/src/repository.js';

/** Injection tokens of the example's storage. */
export const RESULTS = 'lab-results:repository';
export const POSTS = 'lab-results:posts';

/**
 * The lab-results API. The handler knows nothing about roles: it returns the whole view, and
 * phiguard decides, per caller and purpose of use, what of it leaves the process. The one
 * decorator that adopts phiguard is `@PhiResource('PatientResults')`; `@AllowBreakGlass()` lets
 * emergency grants apply here.
 */
@Controller('patients')
@PhiResource('PatientResults')
@AllowBreakGlass() // a validated X-Break-Glass-Grant may open one patient's results in an emergency
export class ResultsController {
  constructor(@Inject(RESULTS) private readonly results: ResultsRepository) {}

  @Get(':id/results')
  async find(@Param('id') id: string) {
    const view = await this.results.find(id);
    if (view === undefined) throw new NotFoundException({ error: { code: 'not_found' } });
    return view;
  }
}

/**
 * What the care team and patients post. phiguard has already applied the resources' DLP rule to
 * the body: a note quoting identifiers never gets here (422); a message arrives redacted.
 */
@Controller('patients')
export class PostsController {
  constructor(@Inject(POSTS) private readonly posts: PostStore) {}

  @Post(':id/notes')
  @PhiResource('ClinicalNote')
  @HttpCode(201)
  note(@Param('id') id: string, @Body() body: unknown, @PhiAccessContext() context: AccessContext) {
    const text = textOf(body);
    return this.posts.add('notes', { patientId: this.patient(id), text, author: context.principal.id });
  }

  /** The ordering provider withdraws a note (policy: NoteDeletion); audited as a delete. */
  @Delete(':id/notes/:noteId')
  @PhiResource('NoteDeletion')
  deleteNote(@Param('id') id: string, @Param('noteId') noteId: string, @PhiAccessContext() context: AccessContext): Deleted {
    const removed = this.posts.remove('notes', id, noteId);
    if (removed === undefined) throw new NotFoundException({ error: { code: 'not_found' } });
    return { id: removed.id, patientId: removed.patientId, deletedBy: context.principal.id, deletedAt: new Date().toISOString() };
  }

  @Post(':id/messages')
  @PhiResource('PatientMessage')
  @HttpCode(201)
  message(@Param('id') id: string, @Body() body: unknown) {
    const text = textOf(body);
    return this.posts.add('messages', { patientId: this.patient(id), text });
  }

  private patient(id: string): string {
    if (!PATIENTS.has(id)) throw new NotFoundException({ error: { code: 'not_found' } });
    return id;
  }
}

function textOf(body: unknown): string {
  const text = (body as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string' || text.length === 0 || text.length > 10_000) throw new BadRequestException({ error: { code: 'text_required' } });
  return text;
}

/** Liveness: no PHI, not audited. */
@Controller('health')
@SkipPhiGuard()
export class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}
