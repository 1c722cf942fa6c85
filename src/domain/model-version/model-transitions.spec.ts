import { ModelStage, ModelStageChangeKind, ModelTask } from '../enums';
import { IllegalModelTransitionError, planRollout, VersionState } from './model-transitions';

const v = (id: string, stage: ModelStage, extra: Partial<VersionState> = {}): VersionState => ({
  id,
  task: ModelTask.CHEST,
  stage,
  trafficShare: stage === ModelStage.CANARY ? 0.1 : 0,
  previousProductionId: null,
  ...extra,
});

function refusal(fn: () => unknown): { code: string; reason: string } | { code: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof IllegalModelTransitionError) return { code: error.code, reason: error.reason };
    return { code: (error as { code: string }).code };
  }
  throw new Error('expected a refusal');
}

describe('planRollout: canaries', () => {
  const prod = v('p', ModelStage.PRODUCTION);
  const staging = v('s', ModelStage.STAGING);
  const canary = v('c', ModelStage.CANARY);

  it('starts a canary from STAGING with its share', () => {
    expect(
      planRollout({ kind: 'START_CANARY', modelVersionId: 's', trafficShare: 0.25 }, [prod, staging]),
    ).toEqual([
      {
        id: 's',
        kind: ModelStageChangeKind.CANARY_STARTED,
        from: ModelStage.STAGING,
        to: ModelStage.CANARY,
        trafficShare: 0.25,
        promoted: true,
      },
    ]);
  });

  it('refuses a second canary for the task', () => {
    expect(
      refusal(() =>
        planRollout({ kind: 'START_CANARY', modelVersionId: 's', trafficShare: 0.5 }, [
          prod,
          staging,
          canary,
        ]),
      ),
    ).toEqual({ code: 'ILLEGAL_MODEL_TRANSITION', reason: 'CANARY_ALREADY_RUNNING' });
  });

  it.each([0, -0.1, 1.5, Number.NaN])('refuses a traffic share of %p as bad input', (share) => {
    expect(
      refusal(() =>
        planRollout({ kind: 'START_CANARY', modelVersionId: 's', trafficShare: share }, [staging]),
      ),
    ).toEqual({ code: 'BAD_USER_INPUT' });
    expect(
      refusal(() =>
        planRollout({ kind: 'SET_CANARY_SHARE', modelVersionId: 'c', trafficShare: share }, [canary]),
      ),
    ).toEqual({ code: 'BAD_USER_INPUT' });
  });
});

describe('planRollout: promotion and archiving', () => {
  const prod = v('p', ModelStage.PRODUCTION);
  const canary = v('c', ModelStage.CANARY);

  it('promotes the canary and archives the production version first, recording it as the rollback target', () => {
    expect(planRollout({ kind: 'PROMOTE', modelVersionId: 'c' }, [prod, canary])).toEqual([
      expect.objectContaining({
        id: 'p',
        from: ModelStage.PRODUCTION,
        to: ModelStage.ARCHIVED,
        kind: ModelStageChangeKind.REPLACED,
      }),
      expect.objectContaining({
        id: 'c',
        from: ModelStage.CANARY,
        to: ModelStage.PRODUCTION,
        kind: ModelStageChangeKind.PROMOTED,
        trafficShare: 0,
        promoted: true,
        previousProductionId: 'p',
      }),
    ]);
  });

  it.each([
    ['START_CANARY', ModelStage.CANARY],
    ['START_CANARY', ModelStage.PRODUCTION],
    ['START_CANARY', ModelStage.ARCHIVED],
    ['SET_CANARY_SHARE', ModelStage.STAGING],
    ['SET_CANARY_SHARE', ModelStage.PRODUCTION],
    ['PROMOTE', ModelStage.STAGING],
    ['PROMOTE', ModelStage.PRODUCTION],
    ['PROMOTE', ModelStage.ARCHIVED],
    ['ARCHIVE', ModelStage.PRODUCTION],
    ['ARCHIVE', ModelStage.ARCHIVED],
  ] as const)('refuses %s on a %s version', (kind, stage) => {
    const action =
      kind === 'START_CANARY' || kind === 'SET_CANARY_SHARE'
        ? { kind, modelVersionId: 'x', trafficShare: 0.5 }
        : { kind, modelVersionId: 'x' };
    expect(refusal(() => planRollout(action, [v('x', stage)]))).toEqual({
      code: 'ILLEGAL_MODEL_TRANSITION',
      reason: 'STAGE_NOT_ALLOWED',
    });
  });

  it('archives a canary (stops it)', () => {
    expect(planRollout({ kind: 'ARCHIVE', modelVersionId: 'c' }, [prod, canary])).toEqual([
      expect.objectContaining({ id: 'c', from: ModelStage.CANARY, to: ModelStage.ARCHIVED, trafficShare: 0 }),
    ]);
  });
});

describe('planRollout: rollback', () => {
  const prod = v('p', ModelStage.PRODUCTION);
  const staging = v('s', ModelStage.STAGING);
  const canary = v('c', ModelStage.CANARY);

  it('rolls back to the version production replaced, archiving the current one first', () => {
    const old = v('old', ModelStage.ARCHIVED);
    const current = v('new', ModelStage.PRODUCTION, { previousProductionId: 'old' });
    expect(planRollout({ kind: 'ROLLBACK', task: ModelTask.CHEST }, [old, current])).toEqual([
      expect.objectContaining({ id: 'new', to: ModelStage.ARCHIVED, kind: ModelStageChangeKind.ROLLED_BACK }),
      expect.objectContaining({
        id: 'old',
        to: ModelStage.PRODUCTION,
        kind: ModelStageChangeKind.RESTORED,
        promoted: true,
      }),
    ]);
  });

  it('refuses a rollback with no production version or nothing to restore', () => {
    expect(refusal(() => planRollout({ kind: 'ROLLBACK', task: ModelTask.CHEST }, [staging]))).toEqual({
      code: 'ILLEGAL_MODEL_TRANSITION',
      reason: 'NO_PRODUCTION_VERSION',
    });
    expect(refusal(() => planRollout({ kind: 'ROLLBACK', task: ModelTask.CHEST }, [prod, staging]))).toEqual({
      code: 'ILLEGAL_MODEL_TRANSITION',
      reason: 'NO_ROLLBACK_TARGET',
    });
    // The replaced version was brought back some other way: it is not ARCHIVED, so nothing to restore.
    const current = v('new', ModelStage.PRODUCTION, { previousProductionId: 'c' });
    expect(
      refusal(() => planRollout({ kind: 'ROLLBACK', task: ModelTask.CHEST }, [current, canary])),
    ).toEqual({
      code: 'ILLEGAL_MODEL_TRANSITION',
      reason: 'NO_ROLLBACK_TARGET',
    });
  });
});
