import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import {
  PREPROCESSING_SPEC,
  PREPROCESSING_SPEC_V2,
  PREPROCESSING_SPEC_V3,
  PREPROCESSING_SPEC_V3_NOEQ,
  PREPROCESSING_SPECS,
  TISSUE_CROP,
  type PreprocessingId,
} from '../imaging';

/**
 * Schema of `models/<task>/<version>/model.json`, the config that sits beside each `model.onnx`
 * (Triton-style model repository). Written by `src/training/python/train.py`; read and validated by
 * the inference engine before a model is loaded. Unknown extra keys are kept (`passthrough`) so the
 * trainer can add diagnostics without breaking older servers; the keys the server relies on are strict.
 */

/** The body-part probe's output: its logit is high when the film shows another body part. */
export const NOT_TARGET_OUTPUT = 'not_target_logit';

/** The standing notice every model output carries. */
export const AI_NOTICE = 'AI assistance; requires clinician review';

/** A point estimate with its percentile-bootstrap 95% confidence interval (null when undefined). */
const metricWithCiSchema = z
  .object({
    value: z.number().nullable().describe('point estimate on the full set'),
    ci95: z.tuple([z.number(), z.number()]).nullable().describe('2.5th and 97.5th bootstrap percentiles'),
    n: z.number().int().nonnegative().describe('number of films in the set'),
  })
  .passthrough();

/** One named preprocessing step of the shared spec (e.g. `resize` with its parameters). */
const preprocessingStepSchema = z.object({
  name: z.enum([
    'decodeGrayscale',
    'cropToTissue',
    'resize',
    'equalizeHistogram',
    'instanceNormalize',
    'toTensor',
  ]),
  params: z.record(z.unknown()),
});

/** The steps each input contract names, in order. */
const STEPS_OF: Record<PreprocessingId, string[]> = {
  [PREPROCESSING_SPEC]: ['decodeGrayscale', 'resize', 'instanceNormalize', 'toTensor'],
  [PREPROCESSING_SPEC_V2]: [
    'decodeGrayscale',
    'resize',
    'equalizeHistogram',
    'instanceNormalize',
    'toTensor',
  ],
  [PREPROCESSING_SPEC_V3]: [
    'decodeGrayscale',
    'cropToTissue',
    'resize',
    'equalizeHistogram',
    'instanceNormalize',
    'toTensor',
  ],
  [PREPROCESSING_SPEC_V3_NOEQ]: [
    'decodeGrayscale',
    'cropToTissue',
    'resize',
    'instanceNormalize',
    'toTensor',
  ],
};

/**
 * How a model that reads each view on its own answers for a study (wrist v2): the views' P(class) fused by
 * `rule`, the views a complete study has, and what a reader must be told when one is missing.
 */
const studyFusionSchema = z
  .object({
    rule: z
      .literal('max')
      .describe('a study is flagged when any of its views reaches the per-view threshold'),
    requiredViews: z.array(z.string().min(1)).min(1),
    missingView: z
      .record(z.string())
      .optional()
      .describe('view read alone → what the missing views may hide'),
  })
  .passthrough();

/** Operating point for one condition, chosen on calibrated probabilities. */
const thresholdSchema = z
  .object({
    value: z.number().min(0).max(1).describe('flag the condition when softmax(logits / T)[class] >= value'),
    targetRecall: z.number().gt(0).lt(1),
    method: z.string().min(1),
    nCalibrationPositives: z.number().int().nonnegative(),
    guarantee: z.string().min(1).describe('the finite-sample guarantee, or "none (n too small)"'),
    calibrationSpecificity: z.number().nullable().optional(),
    testRecall: z.number().nullable().optional(),
    testSpecificity: z.number().nullable().optional(),
  })
  .passthrough();

/**
 * The input gate: NOT_A_RADIOGRAPH when `ood_distance` exceeds its threshold; WRONG_BODY_PART when the
 * model has a `not_<task>_logit` output (a probe: this radiograph is of another body part) and it
 * exceeds `notTargetLogitThreshold`.
 */
const gateSchema = z
  .object({
    signal: z.literal('ood_distance'),
    method: z.string().min(1),
    oodDistanceThreshold: z.number().positive(),
    notTargetLogitThreshold: z.number().optional(),
    aurocNotRadiograph: z.number().min(0).max(1).nullable(),
    aurocWrongBodyPart: z.number().min(0).max(1).nullable(),
    keptValidation: z.number().min(0).max(1).nullable().optional(),
  })
  .passthrough();

/**
 * A lower-precision graph of the same version (`variants.int8`): served instead of model.onnx when
 * `ENGINE_PRECISION=int8` and `accepted` (its readings stayed within the acceptance tolerance of
 * model.onnx's; `npm run evaluate -- --variant int8` measures and writes this entry). It keeps the
 * version's operating points; its gate thresholds are its own (taken by the version's rule on its own
 * validation distances).
 */
const variantSchema = z
  .object({
    /** A file beside model.json (a plain name: no folder, no `..`). */
    file: z.string().regex(/^[\w.-]+\.onnx$/, 'a file name beside model.json, ending in .onnx'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    accepted: z.boolean(),
    gate: z.object({
      oodDistanceThreshold: z.number().positive(),
      notTargetLogitThreshold: z.number().optional(),
    }),
  })
  .passthrough();

/** Graph precisions a version may have besides fp32 (model.onnx). */
export const PRECISIONS = ['fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

const outputSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.union([z.literal('N'), z.number().int().positive()])).min(1),
});

/** Validated contents of a `model.json`. */
export const modelManifestSchema = z
  .object({
    name: z.string().min(1),
    task: z.enum(['chest', 'wrist']),
    version: z.string().min(1),
    createdAt: z.string().datetime(),
    notice: z.literal(AI_NOTICE),
    classes: z.array(z.string().min(1)).min(2),
    input: z
      .object({
        names: z.array(z.string().min(1)).min(1),
        size: z.number().int().positive(),
        channels: z.literal(1),
        layout: z.literal('NCHW'),
        dtype: z.literal('float32').optional(),
      })
      .passthrough(),
    preprocessing: z
      .object({
        id: z.enum(PREPROCESSING_SPECS),
        steps: z.array(preprocessingStepSchema),
      })
      .superRefine((p, ctx) => {
        const want = STEPS_OF[p.id];
        const got = p.steps.map((s) => s.name);
        if (want.join() !== got.join())
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['steps'],
            message: `${p.id} has the steps ${want.join(', ')}; got ${got.join(', ')}`,
          });
        // The crop's constants live in the server (tissue-crop.ts): a model trained with others is refused.
        const crop = p.steps.find((s) => s.name === 'cropToTissue');
        for (const [key, value] of Object.entries(TISSUE_CROP))
          if (crop && crop.params[key] !== value)
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              path: ['steps', p.steps.indexOf(crop), 'params', key],
              message: `this server crops with ${key} = ${value}; the model was trained with ${String(crop.params[key])}`,
            });
      }),
    outputs: z.array(outputSchema).min(1),
    temperature: z.number().positive(),
    calibration: z.record(z.unknown()).optional(),
    thresholds: z.record(thresholdSchema),
    gate: gateSchema,
    /** Present on models that read each view on its own (one input) and answer for a study by fusing views. */
    study: studyFusionSchema.optional(),
    trainingData: z
      .object({
        manifestSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256'),
        counts: z.record(z.unknown()),
      })
      .passthrough(),
    training: z
      .object({
        epochs: z.number().int().nonnegative(),
        seconds: z.number().nonnegative(),
        params: z.number().int().positive(),
        torchVersion: z.string().min(1),
        codeVersion: z.string().min(1),
        seed: z.number().int(),
        hyperparameters: z.record(z.unknown()),
      })
      .passthrough(),
    metrics: z
      .object({
        aurocPerClass: z.record(metricWithCiSchema),
        atThresholds: z.record(z.record(z.unknown())),
        perSource: z.record(z.record(z.unknown())),
      })
      .passthrough(),
    /** Where the version comes from: its parent, its data, and whether it beat the parent. */
    lineage: z
      .object({
        parentVersion: z.string().min(1).optional(),
        dataManifestSha256: z.string().optional(),
        promotionGate: z
          .object({
            metric: z.string(),
            parent: z.number().nullable(),
            candidate: z.number(),
            passed: z.boolean(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough()
      .optional(),
    /** Leave-one-source-out evaluation (src/training/python/loso.py): what a new hospital should expect. */
    loso: z
      .object({
        folds: z.record(z.record(z.unknown())),
        pooled: z.record(z.unknown()).optional(),
      })
      .passthrough()
      .optional(),
    /** Lower-precision graphs of this version (see {@link variantSchema}). */
    variants: z.object({ int8: variantSchema.optional() }).passthrough().optional(),
    knownLimitations: z.array(z.string().min(1)).min(1),
    modelCard: z.string().min(1),
    intendedUse: z.string().min(1),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    for (const key of Object.keys(m.thresholds)) {
      if (!m.classes.includes(key)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['thresholds', key],
          message: `not one of classes ${m.classes.join(', ')}`,
        });
      }
    }
    const names = m.outputs.map((o) => o.name);
    if ((m.gate.notTargetLogitThreshold === undefined) !== !names.includes(NOT_TARGET_OUTPUT)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['gate', 'notTargetLogitThreshold'],
        message: `gate.notTargetLogitThreshold and the output "${NOT_TARGET_OUTPUT}" go together`,
      });
    }
    const int8 = m.variants?.int8;
    if (int8 && (int8.gate.notTargetLogitThreshold === undefined) !== !names.includes(NOT_TARGET_OUTPUT)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['variants', 'int8', 'gate', 'notTargetLogitThreshold'],
        message: `gate.notTargetLogitThreshold and the output "${NOT_TARGET_OUTPUT}" go together`,
      });
    }
    for (const required of ['logits', 'embedding', 'ood_distance']) {
      if (!names.includes(required)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['outputs'],
          message: `missing output "${required}"`,
        });
      }
    }
  });

/** A validated `model.json`. */
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** True when the model reads one view at a time and fuses a study's views itself (wrist v2), not a pair. */
export function readsPerView(manifest: ModelManifest): boolean {
  return manifest.input.names.length === 1 && manifest.study !== undefined;
}

/** Thrown when a `model.json` is missing, is not JSON, or does not match {@link modelManifestSchema}. */
class ModelManifestError extends Error {
  /** Absolute path of the offending file. */
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'ModelManifestError';
    this.file = file;
  }
}

/**
 * Read and validate `<dir>/model.json`.
 *
 * @param dir - a model version folder, e.g. `models/chest/v1`
 * @returns the validated manifest
 * @throws {@link ModelManifestError} naming the file when it cannot be read, parsed or validated
 */
export async function loadModelManifest(dir: string): Promise<ModelManifest> {
  const file = path.resolve(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelManifestError(file, `cannot read model manifest (${(err as Error).message})`, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelManifestError(file, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = modelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelManifestError(file, `invalid model manifest: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}
