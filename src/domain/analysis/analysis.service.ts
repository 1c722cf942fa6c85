import type { EntityManager } from '@mikro-orm/postgresql';
import { Permission } from '../../auth/policy';
import { assertPermission } from '../../auth/principal';
import { AppError, InvalidStateError, NotFoundError } from '../../errors';
import type { ImagePreparer, PreparedImage } from '../../inference/image-preparer';
import type { InferenceEngine, Priority } from '../../inference/inference-engine';
import { readsPerView, type ModelManifest } from '../../inference/model-manifest';
import type { Reading } from '../../inference/postprocess';
import {
  engineRunner,
  RadiographReader,
  type StudyRead,
  type ViewCam,
} from '../../inference/radiograph-reader';
import { renderHeatmapPng, type PreprocessingId } from '../../imaging';
import { AI_ASSISTANCE_WARNING } from '../prediction/ai-assistance';
import { decodeCam, encodeCam, type StoredCam } from '../prediction/stored-cam';
import type { Logger } from '../../logging/logger';
import { Topic } from '../shared/events';
import { contentAddressedKey, ObjectStore, sha256 } from '../../storage';
import { AuditAction, BodyPart, GateVerdict, ImageView, ModelTask, StudyStatus } from '../enums';
import { Image } from '../image/image.entity';
import type { ModelLease, ModelLeases } from '../model-version/model-serving';
import { ModelVersion } from '../model-version/model-version.entity';
import { Prediction, type PredictionInput } from '../prediction/prediction.entity';
import type { SiteOperatingPoint } from '../site/site-operating-point.entity';
import { withSiteOperatingPoint } from '../../training/site-calibration';
import type { DbNotification, EventPublisher } from '../shared/event-publisher';
import { isUuid } from '../shared/filters';
import { flushAsOneStatement } from '../shared/flush-as-one-statement';
import type { RequestContext } from '../shared/request-context';
import { Study } from '../study/study.entity';
import type { DriftRecorder } from '../drift/drift.service';
import type { DeliveryAuditSink } from '../audit/audit-batch-writer';
import { observationOf } from '../../monitoring/drift-detection/observation';
import type { DriftObservation } from '../../monitoring/drift-detection/drift-detector';
import type { AnalysisJob } from './analysis-job.entity';
import { readAnalysisInputs } from './analysis.repository';
import { chooseRoute, Route } from './model-routing';

/** A wrist study lacks its PA or lateral view. */
class WristViewsRequiredError extends AppError {
  readonly code = 'WRIST_VIEWS_REQUIRED' as const;
  override readonly httpStatus = 409;
}

/** No model version serves this task (none registered in PRODUCTION or CANARY). */
class NoModelError extends AppError {
  readonly code = 'NO_MODEL_AVAILABLE' as const;
  override readonly httpStatus = 503;
}

/** DICOM modalities that are projection radiographs. */
const RADIOGRAPH_MODALITIES = new Set(['CR', 'DX', 'DR', 'RG', 'RF', 'MG', 'PX']);

/** DICOM Body Part Examined values that belong to each study body part. */
const BODY_PARTS: Record<BodyPart, RegExp> = {
  [BodyPart.CHEST]: /^(CHEST|THORAX|LUNG|LUNGS)$/i,
  [BodyPart.WRIST]: /^(WRIST|HAND|FOREARM|ARM|UPPER ?LIMB|UPPEREXTREMITY|EXTREMITY)$/i,
};

/** Decides the gate from what the file itself says, before any model runs. */
export function headerVerdict(bodyPart: BodyPart, prepared: PreparedImage): GateVerdict | null {
  if (prepared.quality) return prepared.quality;
  if (prepared.modality && !RADIOGRAPH_MODALITIES.has(prepared.modality.toUpperCase()))
    return GateVerdict.NOT_A_RADIOGRAPH;
  if (prepared.bodyPartExamined && !BODY_PARTS[bodyPart].test(prepared.bodyPartExamined.trim()))
    return GateVerdict.WRONG_BODY_PART;
  return null;
}

/** Object-store key of the bare map stored beside the overlay heatmap `key`. */
function bareHeatmapKey(key: string): string {
  return key.replace(/\.png$/, '.bare.png');
}

/** Prepares the study's files for one model input contract (decoded once per contract). */
type Prepare = (size: number, preprocessing: PreprocessingId) => Promise<PreparedImage[]>;

/** How one version reads a study (see `readWith`). */
interface ReadOptions {
  /** The site operating point approved for this version at the study's site: its temperature and thresholds apply. */
  operatingPoint?: SiteOperatingPoint | null;
  /** Render and store the heatmap (default); a site evaluation needs none. */
  heatmaps?: boolean;
}

/** One study as a site evaluation sees it: the raw logits and the gate's verdict, or why it could not be read. */
export type ValidationReading = { logits: number[]; gateVerdict: GateVerdict } | { error: string };

/** The CAMs a reading stores: the study's heatmap source, and each view's own (per-view models). */
interface StoredCams {
  cam: StoredCam | null;
  /** Per-view models: each view's own verdict, probability, flag and CAM; null otherwise. */
  perView: Partial<PredictionInput>[] | null;
}

/** The prediction a reading makes (not persisted; its timings are set by the caller). */
function predictionOf(
  study: Study,
  version: ModelVersion,
  manifest: ModelManifest,
  point: SiteOperatingPoint | null,
  route: string,
  reading: Reading,
  cam: StoredCam | null,
): Prediction {
  const prediction = new Prediction();
  prediction.study = study;
  prediction.modelVersion = version;
  prediction.gateVerdict = reading.gateVerdict;
  prediction.label = reading.label;
  prediction.probabilities = reading.probabilities ?? {};
  prediction.findings = reading.findings;
  prediction.thresholds = Object.fromEntries(
    Object.entries(manifest.thresholds).map(([label, t]) => [label, t.value]),
  );
  prediction.siteOperatingPoint = point;
  prediction.siteValidated = point !== null;
  prediction.heatmapKey = null;
  prediction.cam = cam;
  prediction.route = route;
  prediction.warning = AI_ASSISTANCE_WARNING;
  prediction.explanation = reading.explanation;
  return prediction;
}

/** Options for the analysis service. */
export interface AnalysisOptions {
  shadowMode: boolean;
  heatmapSize: number;
  /** How long a synchronous analysis may wait in the engine queue. */
  deadlineMs: number;
  /**
   * The department reads a wrist study that has only a PA or only a LATERAL view (models that read views
   * one at a time only); the reading then names the missing view. Off: such a study is WRIST_VIEWS_REQUIRED.
   */
  wristSingleView?: boolean;
}

/** Outcome of one study analysis. */
export interface AnalysisOutcome {
  prediction: Prediction;
  shadow: Prediction | null;
  /**
   * True when the study had not changed since its last served reading (same images, same bytes) and no
   * re-read was asked for: that reading is returned and nothing new is recorded.
   */
  reused: boolean;
}

/** Options of {@link AnalysisService.run}. */
export interface RunOptions {
  analysisJob?: AnalysisJob;
  signal?: AbortSignal;
  /** Read the study again even when it has not changed (the new reading links to the earlier one). */
  reread?: boolean;
}

/** States an analysis moves to ANALYZED; a study in review or signed keeps its state on a re-read. */
const BEFORE_READING: readonly StudyStatus[] = [
  StudyStatus.REGISTERED,
  StudyStatus.IMAGES_ATTACHED,
  StudyStatus.ANALYZING,
  StudyStatus.ANALYZED,
  StudyStatus.FAILED,
];

/** True when a stored reading read exactly these images (ids and content hashes, in order). */
function sameInputs(prediction: Pick<Prediction, 'inputs'>, views: Image[]): boolean {
  const inputs = prediction.inputs ?? [];
  return (
    inputs.length === views.length &&
    inputs.every((input, i) => input.imageId === views[i]!.id && input.sha256 === views[i]!.sha256)
  );
}

/** A prediction whose transaction committed (shadow reads included, with route `SHADOW`). */
export interface PredictionEvent {
  /** Lower-case model task (`chest`, `wrist`). */
  task: string;
  version: string;
  /** PRODUCTION, CANARY or SHADOW. */
  route: string;
  /** Top label; null when the gate refused the image. */
  label: string | null;
  gateVerdict: GateVerdict;
  /** From the start of the analysis to the stored reading, in milliseconds. */
  totalMs: number;
}

/** What the analysis service reports (metrics); a port, so the service never depends on a metrics library. */
export interface AnalysisObserver {
  predictionRecorded(event: PredictionEvent): void;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

const PRIORITY: Record<string, Priority> = { STAT: 'STAT', URGENT: 'URGENT', ROUTINE: 'ROUTINE' };

/** The events that announce a stored reading: PREDICTION_COMPLETED, then STUDY_CHANGED (ANALYZED). */
function completionEvents(outcome: AnalysisOutcome): [string, Record<string, unknown>][] {
  const p = outcome.prediction;
  return [
    [Topic.PREDICTION_COMPLETED, { predictionId: p.id, studyId: p.study.id, patientId: p.study.patient.id }],
    [Topic.STUDY_CHANGED, { studyId: p.study.id, patientId: p.study.patient.id, change: 'ANALYZED' }],
  ];
}

/**
 * Reads a study with the model version chosen by routing (and, in shadow mode, the canary beside it):
 * fetch the views from the object store, decode and preprocess them, read them through the engine
 * ({@link RadiographReader}: gate first, then calibration and per-view fusion), choose the CAM to keep,
 * and record the prediction with its timings in one transaction. No tensor work happens here.
 */
export class AnalysisService {
  constructor(
    private readonly rootEm: EntityManager,
    private readonly store: ObjectStore,
    private readonly engine: InferenceEngine,
    private readonly preparer: ImagePreparer,
    private readonly events: EventPublisher,
    private readonly options: AnalysisOptions,
    private readonly logger: Logger,
    /** Loads a routed version this process does not have yet and keeps it loaded while in use. */
    private readonly models: ModelLeases | null = null,
    /** Told of every committed prediction (metrics). */
    private readonly observer: AnalysisObserver | null = null,
    /** Drift monitoring (optional): receives a compact record of every accepted reading. */
    private readonly drift?: DriftRecorder,
    /**
     * The batch writer that records `analyzeStudy`'s audit row after the reading commits, so the
     * write transaction carries no audit INSERT; without it the row is written in that transaction.
     */
    private readonly audit?: DeliveryAuditSink,
  ) {}

  /**
   * Synchronous analysis for a caller (technicians, radiologists). A study that has not changed since
   * its last served reading gets that reading back unless `reread` is asked for.
   */
  async analyzeStudy(
    ctx: RequestContext,
    studyId: string,
    options: { reread?: boolean } = {},
  ): Promise<AnalysisOutcome> {
    const principal = assertPermission(ctx.principal, Permission.ANALYZE_STUDIES);
    const outcome = await this.run(ctx.em, studyId, { signal: ctx.signal, reread: options.reread });
    const entry = {
      action: AuditAction.ANALYZE,
      entityType: 'Study',
      entityId: studyId,
      patientId: outcome.prediction.study.patient.id,
    };
    if (!this.audit) ctx.audit.write(ctx.em, entry);
    // One transaction: the prediction, the study's state and the drift sample (no heatmap to wait
    // for: the raw CAM travels in the prediction row and the PNG is rendered when someone asks), sent as
    // one statement: no BEGIN and COMMIT round trips. The statement also carries the events that announce
    // the reading, so subscribers hear of it exactly when it commits.
    const published = await flushAsOneStatement(ctx.em, outcome.reused ? [] : this.notifications(outcome));
    // The audit row goes to the batch writer once the reading committed (within its flushMs).
    this.audit?.record({
      at: new Date(),
      operation: ctx.audit.operation,
      entries: [entry],
      recipients: [{ userId: principal.userId, role: principal.role, requestId: ctx.audit.requestId }],
    });
    if (outcome.reused) return outcome;
    // Subscribers, metrics and drift bookkeeping run after the caller's answer is on its way: the
    // GraphQL response is written in the microtasks that follow, before this immediate runs.
    setImmediate(() => {
      try {
        this.announce(outcome, published);
      } catch (error) {
        this.logger.error({ err: (error as Error).message, studyId }, 'announcing a prediction failed');
      }
    });
    return outcome;
  }

  /**
   * The heatmap PNG of a prediction (readers of predictions only; audited): the map over the film, or
   * with `overlay: false` the bare map. Rendered from the raw CAM stored with the prediction the first
   * time someone asks, then stored (content-addressed, both maps) and served from the store after that;
   * readings stored before CAMs were kept serve their stored PNGs (NOT_FOUND for a bare map they lack).
   */
  async heatmap(
    ctx: RequestContext,
    predictionId: string,
    options: { overlay?: boolean; view?: number } = {},
  ): Promise<Buffer> {
    assertPermission(ctx.principal, Permission.READ_PREDICTIONS);
    const p = isUuid(predictionId)
      ? await ctx.em.getRepository(Prediction).findWithStudy(predictionId)
      : null;
    if (!p) throw NotFoundError.of('Prediction', predictionId);
    // A view's own map (models that read each view on its own), else the study's (its deciding view).
    const input = options.view === undefined ? null : p.inputs?.[options.view];
    if (options.view !== undefined && !input?.heatmapKey && !input?.cam)
      throw NotFoundError.of('Heatmap', `${predictionId} view ${options.view}`);
    if (options.view === undefined && !p.heatmapKey && !p.cam)
      throw NotFoundError.of('Heatmap', predictionId);
    ctx.audit.read('Prediction', p.id, p.study.patient.id);
    const key = input
      ? (input.heatmapKey ?? (await this.renderOnce(ctx.em, p, options.view!)))
      : (p.heatmapKey ?? (await this.renderOnce(ctx.em, p)));
    if (options.overlay === false) {
      const bare = bareHeatmapKey(key);
      if (!(await this.store.stat(bare))) throw NotFoundError.of('Heatmap', predictionId);
      return this.store.get(bare);
    }
    return this.store.get(key);
  }

  /** Heatmap renders in progress, by prediction (and view): concurrent first requests share one render. */
  private readonly rendering = new Map<string, Promise<string>>();

  private renderOnce(em: EntityManager, p: Prediction, view?: number): Promise<string> {
    const id = view === undefined ? p.id : `${p.id}#${view}`;
    let render = this.rendering.get(id);
    if (!render) {
      render = this.renderHeatmap(em, p, view).finally(() => this.rendering.delete(id));
      this.rendering.set(id, render);
    }
    return render;
  }

  /**
   * Renders a prediction's heatmap from its stored CAM over the film it read (prepared again at the
   * model's input contract, through the decode pool), stores the overlay and the bare map, and records
   * the overlay's key on the prediction (or on its input `view`); both are stored before the key is, so
   * a key always resolves.
   */
  private async renderHeatmap(em: EntityManager, p: Prediction, view?: number): Promise<string> {
    const cam = view === undefined ? p.cam! : p.inputs[view]!.cam!;
    const image = await em.getRepository(Image).findOne({ id: cam.imageId });
    if (!image) throw NotFoundError.of('Heatmap', p.id);
    const input = await this.prepareView(image, cam.size, cam.preprocessing, (v) =>
      this.store.get(v.objectKey),
    );
    const style = { size: this.options.heatmapSize, aspect: cam.aspect, label: cam.label };
    const film = { width: input.size, height: input.size, data: input.tensor };
    const grid = decodeCam(cam);
    const [png, bare] = await Promise.all([
      renderHeatmapPng(film, grid, { ...style, overlay: true }),
      renderHeatmapPng(film, grid, { ...style, overlay: false }),
    ]);
    const key = contentAddressedKey('heatmaps', sha256(png), 'png');
    await Promise.all([
      this.store.put(bareHeatmapKey(key), bare, { contentType: 'image/png' }),
      this.store.put(key, png, { contentType: 'image/png' }),
    ]);
    if (view === undefined) {
      await em.getRepository(Prediction).recordHeatmapKey(p.id, key);
      p.heatmapKey = key;
    } else {
      await em.getRepository(Prediction).recordViewHeatmapKey(p.id, view, key);
      p.inputs[view]!.heatmapKey = key;
    }
    return key;
  }

  /**
   * Runs one study and persists the prediction(s) in `em` without flushing, so the caller commits them
   * with its audit event and counters in one transaction; announce after the commit.
   */
  async run(em: EntityManager, studyId: string, options: RunOptions = {}): Promise<AnalysisOutcome> {
    if (!isUuid(studyId)) throw NotFoundError.of('Study', studyId);
    const readStarted = performance.now();
    // One statement reads the study, its images, its last reading, the routing and the site's points.
    const inputs = await readAnalysisInputs(em, studyId);
    if (!inputs) throw NotFoundError.of('Study', studyId);
    const { study, images, latest } = inputs;
    if (images.length === 0) throw new InvalidStateError('The study has no images to analyse', { studyId });
    const task = study.bodyPart === BodyPart.CHEST ? ModelTask.CHEST : ModelTask.WRIST;
    const views = this.selectViews(study, images);
    if (latest && !options.reread && sameInputs(latest, views))
      return { prediction: latest.entity(), shadow: null, reused: true };
    const route = chooseRoute(inputs.versions, study.id, this.options.shadowMode, inputs.heldBy);
    if (!route) throw new NoModelError('No model version is in production for this task', { task });
    const leases: ModelLease[] = [];
    try {
      if (this.models) {
        leases.push(await this.models.acquire(route.primary));
        if (route.shadow) {
          const shadowLease = await this.models.acquire(route.shadow).catch((error: Error) => {
            this.logger.warn(
              { studyId: study.id, version: route.shadow?.version, err: error.message },
              'shadow version could not be loaded',
            );
            return null;
          });
          if (shadowLease) leases.push(shadowLease);
          else route.shadow = null;
        }
      }
      return await this.runRoute(
        em,
        study,
        views,
        route,
        options,
        latest ? em.getReference(Prediction, latest.id) : null,
        readStarted,
        inputs.operatingPoints,
      );
    } finally {
      for (const lease of leases) lease.release();
    }
  }

  private async runRoute(
    em: EntityManager,
    study: Study,
    views: Image[],
    route: Route,
    options: RunOptions,
    previous: Prediction | null,
    readStarted: number,
    operatingPoints: ReadonlyMap<string, SiteOperatingPoint>,
  ): Promise<AnalysisOutcome> {
    const started = Date.now();
    const prepare = await this.preparerOf(views);
    // Each version reads at the operating point approved for it at the study's site, if any.
    const primaryPoint = operatingPoints.get(route.primary.id) ?? null;
    const shadowPoint = route.shadow ? (operatingPoints.get(route.shadow.id) ?? null) : null;
    // The database reads before the model runs: study, images and last reading, route, operating point.
    const readMs = round(performance.now() - readStarted);
    const primaryRead = await this.readWith(
      study,
      views,
      route.primary,
      prepare,
      route.route,
      started,
      options.signal,
      { operatingPoint: primaryPoint },
    );
    const readShadow = (shadowVersion: ModelVersion) =>
      this.readWith(study, views, shadowVersion, prepare, 'SHADOW', Date.now(), options.signal, {
        operatingPoint: shadowPoint,
      });
    const shadowRead = route.shadow
      ? await readShadow(route.shadow).catch((error: Error) => {
          // The shadow never affects the answer, but its failure must be visible.
          this.logger.warn(
            { studyId: study.id, version: route.shadow?.version, err: error.message },
            'shadow read failed',
          );
          return null;
        })
      : null;
    primaryRead.prediction.timings = { readMs, ...primaryRead.prediction.timings };
    const primary = primaryRead.prediction;
    const shadow = shadowRead?.prediction ?? null;
    primary.analysisJob = options.analysisJob ?? null;
    primary.rereadOf = previous;
    if (shadow) shadow.analysisJob = options.analysisJob ?? null;
    const inputs = views.map((v) => ({ imageId: v.id, sha256: v.sha256, view: v.view }));
    for (const read of [primaryRead, shadowRead])
      if (read) read.prediction.inputs = inputs.map((input, i) => ({ ...input, ...read.perView?.[i] }));
    em.persist(primary);
    if (shadow) em.persist(shadow);
    for (const read of [primaryRead, shadowRead])
      if (read?.observation) this.drift?.record(em, read.prediction, read.observation);
    if (BEFORE_READING.includes(study.status)) study.status = StudyStatus.ANALYZED;
    return { prediction: primary, shadow, reused: false };
  }

  /**
   * Publishes PREDICTION_COMPLETED and STUDY_CHANGED (unless `published`: the write that stored the
   * reading carried them) and reports the committed prediction(s) to the observer; call after the
   * transaction that stored them committed.
   */
  announce(outcome: AnalysisOutcome, published = false): void {
    for (const stored of [outcome.prediction, outcome.shadow]) {
      if (!stored) continue;
      this.observer?.predictionRecorded({
        task: stored.modelVersion?.task.toLowerCase() ?? 'none',
        version: stored.modelVersion?.version ?? 'none',
        route: stored.route,
        label: stored.label ?? null,
        gateVerdict: stored.gateVerdict,
        totalMs: stored.timings.totalMs ?? 0,
      });
    }
    const p = outcome.prediction;
    this.drift?.recorded([p, outcome.shadow].flatMap((x) => (x?.modelVersion ? [x.modelVersion.id] : [])));
    if (!published)
      for (const [topic, payload] of completionEvents(outcome)) this.events.publish(topic, payload);
  }

  /** The reading's events as notifications for its write to carry; none where the publisher has no such form. */
  private notifications(outcome: AnalysisOutcome): DbNotification[] {
    const events = completionEvents(outcome).map(([topic, payload]) =>
      this.events.notification?.(topic, payload),
    );
    return events.every((n) => n) ? (events as DbNotification[]) : [];
  }

  /**
   * Reads studies with one model version for a site evaluation, at its shipped operating point: each
   * study's raw logits and gate verdict (nothing stored, no heatmap), or the code of the error that kept
   * it from being read (a study with no film, a wrist study without its views). Returns the version's
   * shipped manifest beside them.
   */
  async readForValidation(
    version: ModelVersion,
    studyIds: string[],
    signal?: AbortSignal,
  ): Promise<{ manifest: ModelManifest; readings: Map<string, ValidationReading> }> {
    const lease = this.models ? await this.models.acquire(version) : null;
    try {
      const manifest = this.engine.manifest(version.task.toLowerCase(), version.version);
      const readings = new Map<string, ValidationReading>();
      const readOne = async (studyId: string): Promise<ValidationReading> => {
        const em = this.rootEm.fork();
        try {
          const [study, images] = await Promise.all([
            em.getRepository(Study).findOne({ id: studyId }),
            em.getRepository(Image).findOfStudy(studyId),
          ]);
          if (!study) return { error: 'NOT_FOUND' };
          if (images.length === 0) return { error: 'NO_FILMS' };
          const views = this.selectViews(study, images);
          const prepare = await this.preparerOf(views);
          const read = await this.readWith(study, views, version, prepare, 'VALIDATION', Date.now(), signal, {
            heatmaps: false,
          });
          return { logits: read.reading.logits, gateVerdict: read.reading.gateVerdict };
        } catch (error) {
          if (error instanceof AppError && error.httpStatus < 500) return { error: error.code };
          throw error;
        }
      };
      // A few at a time: the engine batches them, and the decode pool stays shared with live analyses.
      for (let i = 0; i < studyIds.length; i += 8) {
        const chunk = studyIds.slice(i, i + 8);
        const read = await Promise.all(chunk.map(readOne));
        chunk.forEach((id, k) => readings.set(id, read[k]!));
      }
      return { manifest, readings };
    } finally {
      lease?.release();
    }
  }

  /**
   * How to prepare the views for a model input contract: the input prepared at upload when the decode
   * pool still holds it (no fetch, no decode), else the file fetched (once) and decoded once per
   * contract (size and preprocessing) even when a shadow version reads too (the decode pool takes
   * ownership of the bytes it is given, so each contract gets a copy).
   */
  private async preparerOf(views: Image[]): Promise<Prepare> {
    const files = new Map<Image, Promise<Buffer>>();
    const fileOf = (v: Image) => {
      if (!files.has(v)) files.set(v, this.store.get(v.objectKey));
      return files.get(v)!;
    };
    const prepared = new Map<string, Promise<PreparedImage[]>>();
    return (size, preprocessing) => {
      const key = `${preprocessing}@${size}`;
      if (!prepared.has(key))
        prepared.set(key, Promise.all(views.map((v) => this.prepareView(v, size, preprocessing, fileOf))));
      return prepared.get(key)!;
    };
  }

  private async prepareView(
    view: Image,
    size: number,
    preprocessing: PreprocessingId,
    fileOf: (v: Image) => Promise<Buffer>,
  ): Promise<PreparedImage> {
    const held = this.preparer.prepared?.(view.sha256, size, preprocessing);
    if (held) return held;
    // A copy (Buffer.from), not a view: the decode pool transfers a buffer it is handed whole, which would
    // detach the file under the next contract's prepare (a shadow version's, or the chest cross-check's).
    return this.preparer.prepare(Buffer.from(await fileOf(view)), size, preprocessing, view.sha256);
  }

  /**
   * The views a study is read from: chest, the newest PA film (else the newest AP, else the newest);
   * wrist, the newest PA and the newest LATERAL (one of them, where the department reads single views).
   * Newest, because a film attached again is a retake.
   */
  private selectViews(study: Study, images: Image[]): Image[] {
    const newest = (view: ImageView) => images.findLast((i) => i.view === view);
    if (study.bodyPart === BodyPart.CHEST) {
      const preferred = newest(ImageView.PA) ?? newest(ImageView.AP) ?? images[images.length - 1]!;
      return [preferred];
    }
    const pa = newest(ImageView.PA);
    const lateral = newest(ImageView.LATERAL);
    if (this.options.wristSingleView && (pa || lateral)) return [pa, lateral].filter((v): v is Image => !!v);
    if (!pa || !lateral) {
      throw new WristViewsRequiredError('A wrist study needs a PA and a LATERAL view', {
        studyId: study.id,
        hasPa: Boolean(pa),
        hasLateral: Boolean(lateral),
      });
    }
    return [pa, lateral];
  }

  private async readWith(
    study: Study,
    views: Image[],
    version: ModelVersion,
    prepare: Prepare,
    route: string,
    started: number,
    signal?: AbortSignal,
    options: ReadOptions = {},
  ): Promise<{
    prediction: Prediction;
    reading: Reading;
    observation: DriftObservation | null;
    perView: Partial<PredictionInput>[] | null;
  }> {
    const task = version.task.toLowerCase();
    const shipped = this.engine.manifest(task, version.version);
    const graphPrecision = this.engine.precision(task, version.version);
    // The site's approved temperature and thresholds replace the shipped ones where the reading is
    // interpreted; the engine and the input contract stay the version's own.
    const point = options.operatingPoint ?? null;
    const manifest = point ? withSiteOperatingPoint(shipped, point) : shipped;
    const perViewModel = readsPerView(manifest);
    if (!perViewModel && views.length !== manifest.input.names.length)
      throw new WristViewsRequiredError(`Model ${version.version} reads a PA and a LATERAL view together`, {
        studyId: study.id,
        views: views.map((v) => v.view),
      });
    const t0 = Date.now();
    const prepared = await prepare(manifest.input.size, manifest.preprocessing.id);
    const decodeMs = Date.now() - t0;
    const header = prepared.map((p) => headerVerdict(study.bodyPart, p));
    // The chest cross-check: it stands in for a pair model's missing body-part output (its PA view), and backs
    // up a per-view model's own (every view): wrist v2 alone lets about a fifth of chest films through, and
    // with this check 0.5% (README, wrist v2's gate table); the chest model accepts none of its wrist films.
    const crossCheck =
      study.bodyPart !== BodyPart.WRIST
        ? null
        : perViewModel
          ? await this.looksLikeChest(prepare, prepared.length)
          : manifest.gate.notTargetLogitThreshold === undefined && header.every((v) => v === null)
            ? await this.looksLikeChest(prepare, 1)
            : null;
    const reader = new RadiographReader(
      manifest,
      engineRunner(this.engine, {
        task,
        version: version.version,
        priority: PRIORITY[study.priority] ?? 'ROUTINE',
        deadline: Date.now() + this.options.deadlineMs,
        signal,
      }),
    );
    // A view refused before the model (header, quality, cross-check) is one a per-view study lacks; a
    // model that reads the views together is refused with the first such verdict.
    const read = await reader.readPrepared(
      prepared.map((p, i) => ({
        view: views[i]!.view,
        tensor: p.tensor,
        refusedBefore: header[i] ?? crossCheck?.[i] ?? null,
      })),
      { allowIncomplete: this.options.wristSingleView ?? false },
    );
    const t1 = performance.now();
    const stored = this.storedCams(manifest, read, prepared, views, options.heatmaps !== false);
    const prediction = predictionOf(study, version, manifest, point, route, read.reading, stored.cam);
    prediction.graphPrecision = graphPrecision;
    prediction.timings = {
      decodeMs,
      queueMs: read.timings.queueMs,
      inferenceMs: read.timings.inferenceMs,
      batchSize: read.timings.batchSize,
      interpretMs: round(read.interpretMs + performance.now() - t1),
      totalMs: Date.now() - started,
    };
    // The drift record describes the film the answer rests on (a fused study's deciding view).
    const shown = prepared[read.fusion?.decidingView ?? 0]!;
    return {
      prediction,
      reading: read.reading,
      observation: observationOf(read.reading, shown),
      perView: stored.perView,
    };
  }

  /**
   * Cross-check for wrist studies: the first `count` views (the PA view of a pair model; every view of a
   * per-view model) are also shown to the chest model's gate, and a film it accepts as a chest radiograph
   * is refused as WRONG_BODY_PART instead of getting a fracture reading (wrist v1's gate accepts chest
   * films: its backbone started from the chest model). One verdict (or null) per view checked.
   */
  private async looksLikeChest(prepare: Prepare, count: number): Promise<(GateVerdict | null)[]> {
    const chestVersion = this.engine.activeVersion('chest');
    if (!chestVersion) return [];
    // Held so a rollout does not unload it between reading its manifest and running it (the engine
    // default is always a loaded version that is not draining, so this succeeds).
    const lease = this.models?.tryAcquire('chest', chestVersion) ?? null;
    if (this.models && !lease)
      throw new NoModelError('The chest model for the wrist cross-check is not loaded', { task: 'CHEST' });
    try {
      const chest = this.engine.manifest('chest', chestVersion);
      const views = (await prepare(chest.input.size, chest.preprocessing.id)).slice(0, count);
      const reader = new RadiographReader(
        chest,
        engineRunner(this.engine, { task: 'chest', version: chestVersion, priority: 'ROUTINE' }),
      );
      const items = await reader.readItems(views.map((v) => [v.tensor]));
      return items.map(({ reading }) =>
        reading.gateVerdict === GateVerdict.ACCEPTED ? GateVerdict.WRONG_BODY_PART : null,
      );
    } finally {
      lease?.release();
    }
  }

  /**
   * The CAMs a reading stores (none without `heatmaps`), and a per-view model's view records. A per-view
   * study that was not read (a view refused, incomplete studies not allowed) carries no finding at all:
   * its accepted views keep their gate verdicts but not their probabilities, flags or maps.
   */
  private storedCams(
    manifest: ModelManifest,
    read: StudyRead,
    prepared: PreparedImage[],
    views: Image[],
    heatmaps: boolean,
  ): StoredCams {
    const camOf = (reading: Reading, cams: ViewCam[], view: number) =>
      heatmaps ? this.camOf(reading, cams, prepared, views, view) : null;
    const { fusion } = read;
    if (!fusion) return { cam: camOf(read.reading, read.items[0]!.cams, 0), perView: null };
    const accepted = fusion.gateVerdict === GateVerdict.ACCEPTED;
    const viewCams = read.items.map((item, i) => (accepted ? camOf(item.reading, item.cams, i) : null));
    const positive = manifest.classes[manifest.classes.length - 1]!;
    const perView = read.items.map(({ reading }, i) => ({
      gateVerdict: reading.gateVerdict,
      probability: accepted ? (reading.probabilities?.[positive] ?? null) : null,
      flagged: accepted && reading.probabilities ? reading.findings.some((f) => f.label === positive) : null,
      cam: viewCams[i] ?? null,
    }));
    const cam = fusion.decidingView === null ? null : (viewCams[fusion.decidingView] ?? null);
    return { cam, perView };
  }

  /**
   * The raw CAM the heatmap of view `view` is drawn from (the most important finding, or the top
   * class), with what rendering it later needs: the image, the input contract and the film's proportions
   * (a tissue-cropped input is not the whole film: square). Null when the gate refused the reading.
   */
  private camOf(
    reading: Reading,
    cams: ViewCam[],
    prepared: PreparedImage[],
    views: Image[],
    view = 0,
  ): StoredCam | null {
    if (reading.gateVerdict !== GateVerdict.ACCEPTED) return null;
    const label = reading.findings.sort((a, b) => b.probability - a.probability)[0]?.label ?? reading.label;
    const cam = cams.find((c) => c.label === label && c.view === view);
    if (!cam || !label) return null;
    const input = prepared[view]!;
    return encodeCam(cam, {
      label,
      imageId: views[view]!.id,
      size: input.size,
      preprocessing: input.preprocessing,
      aspect: input.preprocessing.includes('tissuecrop') ? 1 : input.width / input.height,
    });
  }
}
