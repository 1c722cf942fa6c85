import { TISSUE_CROP } from '../../src/imaging';
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

/** model.json's `preprocessing` section of a fixture: v1 (fill, resize, normalise) or v3 (tissue crop, equalise). */
export function fixturePreprocessing(contract: 'v1' | 'v3'): Record<string, unknown> {
  const step = (name: string, params: Record<string, unknown> = {}) => ({ name, params });
  return contract === 'v1'
    ? {
        id: 'gray-fill-bilinear-instnorm-v1',
        steps: ['decodeGrayscale', 'resize', 'instanceNormalize', 'toTensor'].map((n) => step(n)),
      }
    : {
        id: 'gray-tissuecrop-bilinear-histeq-instnorm-v3',
        steps: [
          step('decodeGrayscale'),
          step('cropToTissue', { ...TISSUE_CROP }),
          ...['resize', 'equalizeHistogram', 'instanceNormalize', 'toTensor'].map((n) => step(n)),
        ],
      };
}
