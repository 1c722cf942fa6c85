import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { StudySnapshot, Topic } from '../shared/events';
import { NotFoundError, ValidationError } from '../../errors';
import { AuditAction, BodyPart, StudyPriority } from '../enums';
import { Patient } from '../patient/patient.entity';
import { DEFAULT_SITE_ID, Site } from '../site/site.entity';
import type { EventPublisher } from '../shared/event-publisher';
import { flushUnique } from '../shared/flush-unique';
import { compact, isUuid } from '../shared/filters';
import type { Page, PageArgs } from '../shared/pagination';
import type { RequestContext } from '../shared/request-context';
import { User } from '../user/user.entity';
import { studyChanged } from './study-snapshot';
import { Study } from './study.entity';
import type { StudyQuery } from './study.repository';

export type { StudyQuery } from './study.repository';

/** Fields to register a study. */
export interface CreateStudy {
  patientId: string;
  bodyPart: BodyPart;
  priority?: StudyPriority | null;
  accessionNumber: string;
  studyInstanceUid?: string | null;
  description?: string | null;
  /** The site it belongs to; the default site when omitted. */
  siteId?: string | null;
}

/** Studies: registration, changes, audited reads, and change events for subscribers. */
export class StudyService {
  constructor(
    private readonly pageMax: number,
    private readonly events: EventPublisher,
  ) {}

  /** Registers a study for an existing patient. */
  async create(ctx: RequestContext, input: CreateStudy): Promise<Study> {
    const principal = assertPermission(ctx.principal, Permission.WRITE_PATIENT_DATA);
    const patient = isUuid(input.patientId)
      ? await ctx.em.getRepository(Patient).findOne({ id: input.patientId })
      : null;
    if (!patient) throw NotFoundError.of('Patient', input.patientId);
    const site = input.siteId
      ? isUuid(input.siteId)
        ? await ctx.em.getRepository(Site).findOne({ id: input.siteId })
        : null
      : ctx.em.getReference(Site, DEFAULT_SITE_ID);
    if (!site) throw NotFoundError.of('Site', input.siteId!);
    const study = ctx.em.create(Study, {
      patient,
      site,
      bodyPart: input.bodyPart,
      priority: input.priority ?? StudyPriority.ROUTINE,
      accessionNumber: input.accessionNumber,
      studyInstanceUid: input.studyInstanceUid ?? null,
      description: input.description ?? null,
      createdBy: ctx.em.getReference(User, principal.userId),
    } as Study);
    ctx.audit.write(ctx.em, {
      action: AuditAction.CREATE,
      entityType: 'Study',
      entityId: study.id,
      patientId: patient.id,
    });
    await flushUnique(ctx.em, 'A study with this accession number already exists', 'accessionNumber');
    this.events.publish(Topic.STUDY_CHANGED, studyChanged(study, 'CREATED'));
    return study;
  }

  /**
   * Changes priority or description. The status follows the reading workflow (intake, analysis, and
   * the radiologist's startReview / signFinalRead / amendFinalRead), never an edit.
   */
  async update(
    ctx: RequestContext,
    id: string,
    changes: { priority?: StudyPriority | null; description?: string | null },
  ): Promise<Study> {
    assertPermission(ctx.principal, Permission.WRITE_PATIENT_DATA);
    const study = await this.find(ctx, id);
    ctx.em.assign(study, compact({ priority: changes.priority, description: changes.description }));
    ctx.audit.write(ctx.em, {
      action: AuditAction.UPDATE,
      entityType: 'Study',
      entityId: id,
      patientId: study.patient.id,
    });
    await ctx.em.flush();
    this.events.publish(Topic.STUDY_CHANGED, studyChanged(study, 'UPDATED'));
    return study;
  }

  /** Reads one study (audited). */
  async get(ctx: RequestContext, id: string): Promise<Study> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const study = await this.find(ctx, id);
    ctx.audit.read('Study', study.id, study.patient.id);
    return study;
  }

  /**
   * A study as a STUDY_CHANGED event carried it (its state at the event), delivered to the caller:
   * checked and audited like a read, without reading the database.
   */
  atEvent(ctx: RequestContext, snapshot: StudySnapshot): StudySnapshot {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    ctx.audit.read('Study', snapshot.id, snapshot.patientId);
    return snapshot;
  }

  /** Loads a study for a relation (batched, audited). */
  async load(ctx: RequestContext, id: string): Promise<Study> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    const study = await ctx.loaders.studyById.load(id);
    if (!study) throw NotFoundError.of('Study', id);
    ctx.audit.read('Study', study.id, study.patient.id);
    return study;
  }

  /** Lists studies newest first with filters (each one returned is audited). */
  async list(ctx: RequestContext, query: StudyQuery, page: PageArgs): Promise<Page<Study>> {
    assertPermission(ctx.principal, Permission.READ_PATIENT_DATA);
    if (query.patientId && !isUuid(query.patientId))
      throw new ValidationError('patientId is not a valid id', { field: 'patientId' });
    if (query.siteId && !isUuid(query.siteId))
      throw new ValidationError('siteId is not a valid id', { field: 'siteId' });
    // Filtering by what the AI or the radiologist said reveals it: the clinical content's permission.
    if (query.label || query.aiFinding || query.finalLabel || query.finalFinding)
      assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    const result = await ctx.em.getRepository(Study).findPage(query, page, this.pageMax);
    for (const s of result.items) ctx.audit.read('Study', s.id, s.patient.id);
    return result;
  }

  /** Loads a study by id or throws NOT_FOUND. */
  async find(ctx: RequestContext, id: string): Promise<Study> {
    const study = isUuid(id) ? await ctx.em.getRepository(Study).findOne({ id }) : null;
    if (!study) throw NotFoundError.of('Study', id);
    return study;
  }
}
