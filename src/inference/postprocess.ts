import { GateVerdict } from './gate-verdict';
import type { ModelManifest } from './model-manifest';

/** A condition flagged at its operating point. */
export interface FindingResult {
  label: string;
  probability: number;
  threshold: number;
}

/** A class-activation map for one class, at the model's feature resolution. */
export interface ActivationMap {
  label: string;
  width: number;
  height: number;
  data: Float32Array;
}

/** What one study reading yields before it is stored. */
export interface Reading {
  gateVerdict: GateVerdict;
  /** Calibrated probabilities, or null when the gate refused the input (never a diagnosis then). */
  probabilities: Record<string, number> | null;
  label: string | null;
  findings: FindingResult[];
  oodDistance: number;
  embedding: Float32Array;
  heatmaps: ActivationMap[];
  explanation: string | null;
  /**
   * Calibrated class probabilities even when the gate refused the input: for offline evaluation only.
   * Never stored or returned to a user for a refused input.
   */
  evaluationProbabilities: number[];
  /** The raw logits (before temperature), for offline evaluation and site calibration only. */
  logits: number[];
}

/** Softmax of logits divided by the calibration temperature. */
export function calibratedSoftmax(logits: ArrayLike<number>, temperature: number): number[] {
  const scaled = Array.from(logits, (v) => v / temperature);
  const max = Math.max(...scaled);
  const exp = scaled.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((v) => v / sum);
}

/** Gate explanations, in plain words, for refused inputs. */
export const REFUSAL_EXPLANATIONS: Record<Exclude<GateVerdict, GateVerdict.ACCEPTED>, string> = {
  [GateVerdict.NOT_A_RADIOGRAPH]:
    'This image does not look like a radiograph the model was trained on (for example a photograph, a document or another modality). No diagnosis was made.',
  [GateVerdict.WRONG_BODY_PART]:
    'This radiograph does not look like the body part the study is for. No diagnosis was made; check the study or upload the right image.',
  [GateVerdict.LOW_QUALITY]:
    'The image is too poor to read reliably (for example blank or nearly uniform). No diagnosis was made.',
};

/**
 * The model's own input gate: NOT_A_RADIOGRAPH when the embedding is too far from the training films,
 * else WRONG_BODY_PART when the model has a body-part probe and it says "another body part".
 */
export function modelGateVerdict(
  manifest: ModelManifest,
  oodDistance: number,
  notTargetLogit: number | undefined,
): GateVerdict {
  if (!(oodDistance <= manifest.gate.oodDistanceThreshold)) return GateVerdict.NOT_A_RADIOGRAPH;
  const t = manifest.gate.notTargetLogitThreshold;
  if (t !== undefined && notTargetLogit !== undefined && !(notTargetLogit <= t))
    return GateVerdict.WRONG_BODY_PART;
  return GateVerdict.ACCEPTED;
}

/**
 * Turns one item's raw outputs into a reading: input gate first; only an accepted input gets calibrated
 * probabilities and findings at the recall-first thresholds.
 */
export function interpret(
  manifest: ModelManifest,
  outputs: {
    logits: ArrayLike<number>;
    embedding: Float32Array;
    oodDistance: number;
    /** The body-part probe's logit, for models that have one. */
    notTargetLogit?: number;
    cams: { label: string; width: number; height: number; data: Float32Array }[];
  },
  gateOverride: GateVerdict | null = null,
): Reading {
  const gateVerdict = gateOverride ?? modelGateVerdict(manifest, outputs.oodDistance, outputs.notTargetLogit);
  const p = calibratedSoftmax(outputs.logits, manifest.temperature);
  if (gateVerdict !== GateVerdict.ACCEPTED) {
    return {
      gateVerdict,
      probabilities: null,
      label: null,
      findings: [],
      oodDistance: outputs.oodDistance,
      embedding: outputs.embedding,
      heatmaps: [],
      explanation: REFUSAL_EXPLANATIONS[gateVerdict],
      evaluationProbabilities: p,
      logits: Array.from(outputs.logits),
    };
  }
  const probabilities: Record<string, number> = {};
  manifest.classes.forEach((c, i) => (probabilities[c] = p[i]));
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  const findings: FindingResult[] = [];
  for (const [label, t] of Object.entries(manifest.thresholds)) {
    if (probabilities[label] >= t.value)
      findings.push({ label, probability: probabilities[label], threshold: t.value });
  }
  const flagged = new Set(findings.map((f) => f.label));
  return {
    gateVerdict,
    probabilities,
    label: manifest.classes[best],
    findings,
    oodDistance: outputs.oodDistance,
    embedding: outputs.embedding,
    heatmaps: outputs.cams.filter((c) => flagged.has(c.label) || c.label === manifest.classes[best]),
    explanation: null,
    evaluationProbabilities: p,
    logits: Array.from(outputs.logits),
  };
}
