import { AI_NOTICE } from '../../src/inference/model-manifest';

/**
 * A unit-test model.json: the fields every fixture states alike (notice, provenance, training record,
 * model card) around what the test gives (name, task, classes, input, preprocessing, outputs, gate...).
 */
export function fixtureManifestJson(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    createdAt: '2026-01-01T00:00:00.000Z',
    notice: AI_NOTICE,
    temperature: 1,
    trainingData: { manifestSha256: '0'.repeat(64), counts: {} },
    training: {
      epochs: 0,
      seconds: 0,
      params: 1,
      torchVersion: 'none',
      codeVersion: 'test',
      seed: 0,
      hyperparameters: {},
    },
    metrics: { aurocPerClass: {}, atThresholds: {}, perSource: {} },
    knownLimitations: ['a unit-test fixture'],
    modelCard: 'fixture',
    intendedUse: 'unit tests',
    ...fields,
  };
}

/** A gate on the OOD distance (fires above 10) with the not-a-target probe (fires above logit 0). */
export function probeGate(): Record<string, unknown> {
  return {
    signal: 'ood_distance',
    method: 'fake',
    oodDistanceThreshold: 10,
    notTargetLogitThreshold: 0,
    aurocNotRadiograph: null,
    aurocWrongBodyPart: null,
  };
}
