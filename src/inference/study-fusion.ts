import { GateVerdict } from './gate-verdict';
import type { ModelManifest } from './model-manifest';
import { REFUSAL_EXPLANATIONS, type FindingResult, type Reading } from './postprocess';

/** One view of a study as a per-view model read it. */
export interface ViewReading {
  /** The view's name as the study records it (`PA`, `LATERAL`, ...). */
  view: string;
  reading: Reading;
}

/** A study answer fused from its views' readings. */
export interface StudyReading extends Reading {
  /** Every view's own reading, in the order given. */
  views: ViewReading[];
  /** Required views the study lacks, or whose film the gate refused. */
  missingViews: string[];
  /** Index in `views` of the view whose probability decided the answer; null when the study was not read. */
  decidingView: number | null;
}

/** Options of {@link fuseViews}. */
export interface FusionOptions {
  /**
   * Read a study that lacks a required view (absent or refused by the gate) from the views it has. The
   * department decides; the answer then says which view is missing. When false, such a study is not read.
   */
  allowIncomplete: boolean;
}

const list = (views: string[]) => views.join(' and ');

/**
 * Fuses the per-view readings of one study (`manifest.study.rule` = `max`): every class but the first gets
 * the highest probability any accepted view gave it, so a finding seen in one view alone is not diluted and
 * keeps that view's recall at the per-view operating point; the first class (NO_FRACTURE) is the rest.
 * Findings use the per-view thresholds. The heatmaps, embedding and logits are those of the deciding view.
 * A study whose required views are not all accepted is read only with `allowIncomplete`; otherwise, or when
 * no view was accepted, it is refused with the first refused view's verdict.
 *
 * @throws RangeError when the manifest has no `study` section, or when a required view is absent (not
 *   refused) and incomplete studies are not allowed: callers check the views a study has before reading.
 */
export function fuseViews(
  manifest: ModelManifest,
  views: ViewReading[],
  options: FusionOptions,
): StudyReading {
  const study = manifest.study;
  if (!study)
    throw new RangeError(`model ${manifest.name}@${manifest.version} does not read studies per view`);
  const accepted = views.flatMap((v, i) => (v.reading.gateVerdict === GateVerdict.ACCEPTED ? [i] : []));
  const acceptedNames = new Set(accepted.map((i) => views[i]!.view));
  const missingViews = study.requiredViews.filter((r) => !acceptedNames.has(r));
  const refused = views.find((v) => v.reading.gateVerdict !== GateVerdict.ACCEPTED);
  if (accepted.length === 0 || (missingViews.length > 0 && !options.allowIncomplete)) {
    if (!refused)
      throw new RangeError(
        `the study lacks the ${list(missingViews)} view(s) and incomplete studies are not read`,
      );
    const verdict = refused.reading.gateVerdict as Exclude<GateVerdict, GateVerdict.ACCEPTED>;
    return {
      ...refused.reading,
      gateVerdict: verdict,
      probabilities: null,
      label: null,
      findings: [],
      heatmaps: [],
      explanation: `The ${refused.view} view was refused: ${REFUSAL_EXPLANATIONS[verdict]} The study was not read.`,
      views,
      missingViews,
      decidingView: null,
    };
  }
  const classes = manifest.classes;
  const fused = classes.map((_, c) =>
    c === 0 ? 0 : Math.max(...accepted.map((i) => views[i]!.reading.evaluationProbabilities[c] ?? 0)),
  );
  fused[0] = Math.max(0, 1 - fused.slice(1).reduce((a, b) => a + b, 0));
  let deciding = accepted[0]!;
  for (const i of accepted) {
    const p = views[i]!.reading.evaluationProbabilities;
    const q = views[deciding]!.reading.evaluationProbabilities;
    if (1 - (p[0] ?? 1) > 1 - (q[0] ?? 1)) deciding = i;
  }
  const probabilities: Record<string, number> = {};
  classes.forEach((c, k) => (probabilities[c] = fused[k]!));
  let best = 0;
  for (let k = 1; k < fused.length; k++) if (fused[k]! > fused[best]!) best = k;
  const findings: FindingResult[] = [];
  for (const [label, t] of Object.entries(manifest.thresholds))
    if (probabilities[label]! >= t.value)
      findings.push({ label, probability: probabilities[label]!, threshold: t.value });
  const decided = views[deciding]!.reading;
  const read = accepted.map((i) => views[i]!.view);
  const missingNote = missingViews.length
    ? `Read from the ${list(read)} view${read.length > 1 ? 's' : ''} only: the ${list(missingViews)} view ` +
      `${views.some((v) => missingViews.includes(v.view)) ? 'was refused' : 'is missing'}. ` +
      (study.missingView?.[`${list(read)} only`] ?? study.missingView?.[read.join('+')] ?? '')
    : null;
  return {
    gateVerdict: GateVerdict.ACCEPTED,
    probabilities,
    label: classes[best]!,
    findings,
    oodDistance: Math.max(...accepted.map((i) => views[i]!.reading.oodDistance)),
    embedding: decided.embedding,
    heatmaps: decided.heatmaps,
    explanation: missingNote ? missingNote.trim() : null,
    evaluationProbabilities: fused,
    logits: decided.logits,
    views,
    missingViews,
    decidingView: deciding,
  };
}
