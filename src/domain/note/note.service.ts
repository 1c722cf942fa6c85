import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import {
  InvalidStateError,
  NotFoundError,
  NoteBackendError,
  NoteFailedSafetyChecksError,
  ValidationError,
} from '../../errors';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import { AuditAction, NoteAudience, NoteSource, NoteStatus, Role } from '../enums';
import { Prediction } from '../prediction/prediction.entity';
import { RadiologistTruth, truthForPrediction } from '../read/radiologist-review';
import type { EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import type { RequestContext } from '../shared/request-context';
import { User } from '../user/user.entity';
import { ClinicalNote } from './clinical-note.entity';
import type { NoteFacts } from './note-facts';
import type { NoteGenerator } from './note-generator';
import { isNoteLanguage, NOTE_LANGUAGES, NoteLanguage } from './note-language';
import { checkDraft, SafetyReport } from './note-safety';
import type { ReadabilityTargets } from './readability';

/** Payload of NOTE_DRAFT_STREAMED: one piece of a draft being written, or its end. Draft text only, never PHI. */
export interface NoteDraftChunkEvent {
  noteId: string;
  predictionId: string;
  /**
   * 0, 1, 2... in the order written. NOTIFY may deliver out of order (even after `done`), so clients
   * sort by it; the `done` event's sequence is the number of pieces before it.
   */
  sequence: number;
  text: string;
  done: boolean;
  /** On the last event: the error code when no draft was stored, else null. */
  error: string | null;
}

/** One finished drafting attempt, for monitoring. */
export interface NoteDraftObservation {
  backend: string;
  audience: NoteAudience;
  language: string;
  /** RELEASABLE, FAILED_CHECKS, or the backend error code when no draft was stored. */
  outcome: string;
  seconds: number;
  failedChecks: string[];
}

/** Port through which the note service reports drafts (Prometheus in production). */
export interface NoteObserver {
  drafted(observation: NoteDraftObservation): void;
}

/** Settings of the note service. */
export interface NoteServiceOptions {
  timeoutMs: number;
  readability: ReadabilityTargets;
}

/** NOTIFY payloads must stay under 8 kB; longer pieces are sent in parts. */
const MAX_CHUNK_CHARS = 1000;

/** True when a stored note passed every safety check. */
function isReleasable(note: ClinicalNote): boolean {
  return (note.safetyChecks as Partial<SafetyReport>).passed === true;
}

/** What a note may state: the radiologist's findings when there are any, else the AI's, most likely first. */
function noteFacts(prediction: Prediction, truth: RadiologistTruth | null): NoteFacts {
  const model = prediction.modelVersion
    ? `${prediction.modelVersion.task.toLowerCase()} ${prediction.modelVersion.version}`
    : null;
  return truth
    ? {
        source: NoteSource.RADIOLOGIST,
        bodyPart: prediction.study.bodyPart,
        gateVerdict: prediction.gateVerdict,
        findings: truth.present.map((label) => ({ label, probability: null, threshold: null })),
        model,
      }
    : {
        source: NoteSource.AI,
        bodyPart: prediction.study.bodyPart,
        gateVerdict: prediction.gateVerdict,
        findings: [...prediction.findings]
          .sort((a, b) => b.probability - a.probability)
          .map((f) => ({ label: f.label, probability: f.probability, threshold: f.threshold })),
        model,
      };
}

/**
 * Drafts notes about predictions with the configured backend, runs the safety checks on every draft,
 * and takes drafts through radiologist approval. Only approved notes are visible to integrators.
 */
export class NoteService {
  constructor(
    private readonly generator: NoteGenerator,
    private readonly events: EventPublisher,
    private readonly options: NoteServiceOptions,
    private readonly logger: Logger,
    private readonly observer: NoteObserver = { drafted: () => undefined },
  ) {}

  /** Name of the configured backend. */
  get backend(): string {
    return this.generator.name;
  }

  /**
   * Drafts a note and stores it as a DRAFT with its safety report; resolves once the draft is stored.
   * While it is written, pieces are published on NOTE_DRAFT_STREAMED under the new note's id, ending
   * with a `done` event (after the note is stored, or with the error code when none is).
   */
  async generate(
    ctx: RequestContext,
    input: { predictionId: string; audience: NoteAudience; language: string },
  ): Promise<ClinicalNote> {
    const principal = assertPermission(ctx.principal, Permission.DRAFT_NOTES);
    if (!isNoteLanguage(input.language))
      throw new ValidationError(`language must be one of ${NOTE_LANGUAGES.join(', ')}`, {
        field: 'language',
        supported: [...NOTE_LANGUAGES],
      });
    const language = input.language;
    const prediction = await this.servedPrediction(ctx, input.predictionId);
    // The radiologist's read (signed, or a correction) wins over the AI: a finding it rules out is
    // never handed to a generator, so no note can state it.
    const truth = await truthForPrediction(ctx.em, prediction);
    const facts = noteFacts(prediction, truth);

    const note = new ClinicalNote();
    let sequence = 0;
    const publish = (text: string, done: boolean, error: string | null = null) =>
      this.events.publish(Topic.NOTE_DRAFT_STREAMED, {
        noteId: note.id,
        predictionId: prediction.id,
        sequence: sequence++,
        text,
        done,
        error,
      } satisfies NoteDraftChunkEvent);
    const onChunk = (text: string) => {
      for (let i = 0; i < text.length; i += MAX_CHUNK_CHARS)
        publish(text.slice(i, i + MAX_CHUNK_CHARS), false);
    };

    const started = performance.now();
    const observe = (outcome: string, failedChecks: string[] = []) =>
      this.observer.drafted({
        backend: this.generator.name,
        audience: input.audience,
        language,
        outcome,
        seconds: (performance.now() - started) / 1000,
        failedChecks,
      });
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    const text = await this.draft(ctx, { facts, audience: input.audience, language }, signal, {
      timeout,
      predictionId: prediction.id,
      onChunk,
      failed: (code) => {
        publish('', true, code);
        observe(code);
      },
    });

    const report = checkDraft(text, facts, input.audience, language, this.options.readability);
    this.recordDraft(ctx, note, {
      prediction,
      audience: input.audience,
      language,
      body: text,
      facts,
      report,
      userId: principal.userId,
    });
    try {
      await ctx.em.flush();
    } catch (error) {
      publish('', true, 'SERVICE_UNAVAILABLE');
      observe('SERVICE_UNAVAILABLE');
      throw error;
    }
    publish('', true);
    const failedChecks = report.checks.filter((c) => !c.passed).map((c) => c.name);
    observe(report.passed ? 'RELEASABLE' : 'FAILED_CHECKS', failedChecks);
    return note;
  }

  /** The prediction a note is drafted from: a served one (NOT_FOUND, or INVALID_STATE for a SHADOW read). */
  private async servedPrediction(ctx: RequestContext, predictionId: string): Promise<Prediction> {
    const prediction = isUuid(predictionId)
      ? await ctx.em.getRepository(Prediction).findWithStudyAndModel(predictionId)
      : null;
    if (!prediction) throw NotFoundError.of('Prediction', predictionId);
    if (prediction.route === 'SHADOW')
      throw new InvalidStateError('Notes are drafted from served predictions, not from SHADOW reads', {
        predictionId: prediction.id,
        route: prediction.route,
      });
    return prediction;
  }

  /** Fills a new DRAFT note and its audit row in the request's unit of work (flushed by the caller). */
  private recordDraft(
    ctx: RequestContext,
    note: ClinicalNote,
    d: {
      prediction: Prediction;
      audience: NoteAudience;
      language: NoteLanguage;
      body: string;
      facts: NoteFacts;
      report: SafetyReport;
      userId: string;
    },
  ): void {
    ctx.em.assign(note, {
      prediction: d.prediction,
      audience: d.audience,
      language: d.language,
      body: d.body,
      status: NoteStatus.DRAFT,
      backend: this.generator.name,
      source: d.facts.source,
      statedFindings: d.facts.findings.map((f) => f.label),
      safetyChecks: d.report as unknown as Record<string, unknown>,
      createdBy: ctx.em.getReference(User, d.userId),
    });
    ctx.em.persist(note);
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'ClinicalNote',
      entityId: note.id,
      patientId: d.prediction.study.patient.id,
    });
  }

  /**
   * Asks the generator for a draft. A failure is reported (`failed`, with its code), logged when the
   * backend failed, and thrown: a draft past the time limit as a NOTE_BACKEND timeout.
   */
  private async draft(
    ctx: RequestContext,
    request: { facts: NoteFacts; audience: NoteAudience; language: NoteLanguage },
    signal: AbortSignal,
    on: {
      timeout: AbortSignal;
      predictionId: string;
      onChunk: (text: string) => void;
      failed: (code: string) => void;
    },
  ): Promise<string> {
    try {
      return await this.generator.generate(request, on.onChunk, signal);
    } catch (error) {
      const failure =
        on.timeout.aborted && !ctx.signal?.aborted
          ? NoteBackendError.timeout(this.generator.name, this.options.timeoutMs)
          : error;
      const code =
        failure instanceof NoteBackendError
          ? failure.code
          : ctx.signal?.aborted
            ? 'CANCELLED'
            : 'NOTE_BACKEND_UNAVAILABLE';
      on.failed(code);
      if (failure instanceof NoteBackendError)
        this.logger.warn(
          { code, predictionId: on.predictionId, backend: this.generator.name },
          'note draft failed',
        );
      throw failure;
    }
  }

  /** Approves a releasable draft (radiologists); refused with NOTE_FAILED_SAFETY_CHECKS otherwise. */
  approve(ctx: RequestContext, id: string): Promise<ClinicalNote> {
    return this.review(ctx, id, NoteStatus.APPROVED);
  }

  /** Rejects a draft (radiologists): it stays stored, is never released, and cannot be approved later. */
  reject(ctx: RequestContext, id: string): Promise<ClinicalNote> {
    return this.review(ctx, id, NoteStatus.REJECTED);
  }

  private async review(ctx: RequestContext, id: string, status: NoteStatus): Promise<ClinicalNote> {
    const principal = assertPermission(ctx.principal, Permission.CORRECT_PREDICTIONS);
    const note = isUuid(id) ? await ctx.em.getRepository(ClinicalNote).findWithStudy(id) : null;
    if (!note) throw NotFoundError.of('ClinicalNote', id);
    if (status === NoteStatus.APPROVED && !isReleasable(note)) {
      const failed = ((note.safetyChecks as Partial<SafetyReport>).checks ?? [])
        .filter((c) => !c.passed)
        .map((c) => c.name);
      throw new NoteFailedSafetyChecksError('The draft failed safety checks and cannot be approved', {
        noteId: note.id,
        failedChecks: failed,
      });
    }
    const now = new Date();
    await ctx.em.transactional(async (em) => {
      const reviewed = await em
        .getRepository(ClinicalNote)
        .reviewDraft(
          note.id,
          status === NoteStatus.APPROVED
            ? { status, approvedBy: principal.userId, approvedAt: now }
            : { status },
        );
      if (!reviewed)
        throw new InvalidStateError('Only a DRAFT note can be reviewed', {
          noteId: note.id,
          status: note.status,
        });
      ctx.audit.write(em, {
        action: AuditAction.UPDATE,
        entityType: 'ClinicalNote',
        entityId: note.id,
        patientId: note.prediction.study.patient.id,
      });
    });
    await ctx.em.refresh(note);
    return note;
  }

  /**
   * One note (audited read). Integrators see released notes only (approved, or approved and later
   * invalidated, so a feed can retract what it published); others are NOT_FOUND to them.
   */
  async get(ctx: RequestContext, id: string): Promise<ClinicalNote> {
    const principal = assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    const note = isUuid(id) ? await ctx.em.getRepository(ClinicalNote).findWithStudy(id) : null;
    if (!note || (principal.role === Role.INTEGRATOR && !note.approvedAt))
      throw NotFoundError.of('ClinicalNote', id);
    ctx.audit.read('ClinicalNote', note.id, note.prediction.study.patient.id);
    return note;
  }

  /** Releases the backend. */
  close(): Promise<void> {
    return this.generator.close();
  }
}
