import { AppError, ValidationError } from '../../errors';
import { ModelStage, ModelStageChangeKind, ModelTask } from '../enums';

/** A rollout operation an admin asks for. */
export type RolloutAction =
  | { kind: 'START_CANARY'; modelVersionId: string; trafficShare: number }
  | { kind: 'SET_CANARY_SHARE'; modelVersionId: string; trafficShare: number }
  | { kind: 'PROMOTE'; modelVersionId: string }
  | { kind: 'ARCHIVE'; modelVersionId: string }
  | { kind: 'ROLLBACK'; task: ModelTask };

/** The legal stage moves of the version an action names (a rollback also restores its predecessor). */
const TRANSITIONS: Readonly<Record<RolloutAction['kind'], { from: ModelStage[]; to: ModelStage }>> = {
  START_CANARY: { from: [ModelStage.STAGING], to: ModelStage.CANARY },
  SET_CANARY_SHARE: { from: [ModelStage.CANARY], to: ModelStage.CANARY },
  PROMOTE: { from: [ModelStage.CANARY], to: ModelStage.PRODUCTION },
  ARCHIVE: { from: [ModelStage.STAGING, ModelStage.CANARY], to: ModelStage.ARCHIVED },
  ROLLBACK: { from: [ModelStage.PRODUCTION], to: ModelStage.ARCHIVED },
};

/** What planning needs to know of one version of the task. */
export interface VersionState {
  id: string;
  task: ModelTask;
  stage: ModelStage;
  trafficShare: number;
  previousProductionId: string | null;
}

/** One row change of a rollout. */
export interface StageChange {
  id: string;
  kind: ModelStageChangeKind;
  from: ModelStage;
  to: ModelStage;
  trafficShare: number;
  /** The version now records who promoted it and when (moves into CANARY or PRODUCTION). */
  promoted: boolean;
  /** Set on a promotion to PRODUCTION: the version it replaced (the rollback target). */
  previousProductionId?: string | null;
}

/** Why a rollout operation was refused. */
export type TransitionRefusal =
  'STAGE_NOT_ALLOWED' | 'CANARY_ALREADY_RUNNING' | 'NO_PRODUCTION_VERSION' | 'NO_ROLLBACK_TARGET';

/** The requested rollout is not a legal transition from the registry's current state. */
export class IllegalModelTransitionError extends AppError {
  readonly code = 'ILLEGAL_MODEL_TRANSITION' as const;
  override readonly httpStatus = 409;

  constructor(
    message: string,
    readonly reason: TransitionRefusal,
    details: Record<string, string | null> = {},
  ) {
    super(message, { reason, ...details });
  }
}

function checkShare(share: number): void {
  if (!Number.isFinite(share) || share <= 0 || share > 1)
    throw new ValidationError('trafficShare must be greater than 0 and at most 1', {
      field: 'trafficShare',
    });
}

/** A rollback: the production version is archived and the archived version it replaced restored. */
function planRollback(
  task: ModelTask,
  versions: readonly VersionState[],
  production: VersionState | null,
): StageChange[] {
  if (!production)
    throw new IllegalModelTransitionError(
      'The task has no production version to roll back',
      'NO_PRODUCTION_VERSION',
      {
        task: task,
      },
    );
  const target = versions.find((v) => v.id === production.previousProductionId);
  if (!target || target.stage !== ModelStage.ARCHIVED)
    throw new IllegalModelTransitionError(
      'The production version replaced no archived version to restore',
      'NO_ROLLBACK_TARGET',
      { task: task, modelVersionId: production.id },
    );
  return [
    {
      id: production.id,
      kind: ModelStageChangeKind.ROLLED_BACK,
      from: ModelStage.PRODUCTION,
      to: ModelStage.ARCHIVED,
      trafficShare: 0,
      promoted: false,
    },
    {
      id: target.id,
      kind: ModelStageChangeKind.RESTORED,
      from: ModelStage.ARCHIVED,
      to: ModelStage.PRODUCTION,
      trafficShare: 0,
      promoted: true,
    },
  ];
}

/**
 * Plans a rollout on the current versions of one task: the row changes to apply, demotions first (so
 * the at-most-one-PRODUCTION/CANARY indexes hold after every statement), or an
 * {@link IllegalModelTransitionError} naming why it is refused. Pure: no I/O.
 */
export function planRollout(action: RolloutAction, versions: readonly VersionState[]): StageChange[] {
  const production = versions.find((v) => v.stage === ModelStage.PRODUCTION) ?? null;
  if (action.kind === 'ROLLBACK') return planRollback(action.task, versions, production);

  const version = versions.find((v) => v.id === action.modelVersionId);
  if (!version) throw new Error('planRollout: the named version is not among the task versions');
  const rule = TRANSITIONS[action.kind];
  if (!rule.from.includes(version.stage))
    throw new IllegalModelTransitionError(
      `A ${version.stage} version cannot move to ${rule.to} this way`,
      'STAGE_NOT_ALLOWED',
      { modelVersionId: version.id, stage: version.stage, to: rule.to },
    );
  const move = (kind: ModelStageChangeKind, trafficShare: number, promoted: boolean): StageChange => ({
    id: version.id,
    kind,
    from: version.stage,
    to: rule.to,
    trafficShare,
    promoted,
  });

  switch (action.kind) {
    case 'START_CANARY': {
      checkShare(action.trafficShare);
      const running = versions.find((v) => v.stage === ModelStage.CANARY);
      if (running)
        throw new IllegalModelTransitionError(
          'Another version of this task is already CANARY',
          'CANARY_ALREADY_RUNNING',
          { modelVersionId: version.id, canaryId: running.id },
        );
      return [move(ModelStageChangeKind.CANARY_STARTED, action.trafficShare, true)];
    }
    case 'SET_CANARY_SHARE':
      checkShare(action.trafficShare);
      return [move(ModelStageChangeKind.CANARY_SHARE_CHANGED, action.trafficShare, false)];
    case 'ARCHIVE':
      return [move(ModelStageChangeKind.ARCHIVED, 0, false)];
    case 'PROMOTE': {
      const changes: StageChange[] = [];
      if (production)
        changes.push({
          id: production.id,
          kind: ModelStageChangeKind.REPLACED,
          from: ModelStage.PRODUCTION,
          to: ModelStage.ARCHIVED,
          trafficShare: 0,
          promoted: false,
        });
      changes.push({
        ...move(ModelStageChangeKind.PROMOTED, 0, true),
        previousProductionId: production?.id ?? null,
      });
      return changes;
    }
  }
}
