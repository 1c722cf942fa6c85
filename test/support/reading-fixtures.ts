import { GateVerdict } from '../../src/domain/enums';
import { Prediction } from '../../src/domain/prediction/prediction.entity';
import { Study } from '../../src/domain/study/study.entity';
import { AI_ASSISTANCE_WARNING } from '../../src/domain/prediction/ai-assistance';
import { attach, createPatient, createStudy } from './clinical-fixtures';
import type { TestApp } from './test-app';

/** What a seeded AI reading says: the tests choose it, rather than depend on a model's probabilities. */
export interface SeededReading {
  label: string;
  probabilities: Record<string, number>;
  findings: { label: string; probability: number; threshold: number }[];
  thresholds: Record<string, number>;
}

/** A chest reading that flags TUBERCULOSIS (the top class too). */
export const TB_READING: SeededReading = {
  label: 'TUBERCULOSIS',
  probabilities: { NORMAL: 0.2, PNEUMONIA: 0.1, TUBERCULOSIS: 0.7 },
  findings: [{ label: 'TUBERCULOSIS', probability: 0.7, threshold: 0.2 }],
  thresholds: { PNEUMONIA: 0.05, TUBERCULOSIS: 0.2 },
};

/** A chest reading whose top class is NORMAL while PNEUMONIA reached its recall-first operating point. */
export const NORMAL_TOP_PNEUMONIA_FLAGGED: SeededReading = {
  label: 'NORMAL',
  probabilities: { NORMAL: 0.62, PNEUMONIA: 0.3, TUBERCULOSIS: 0.08 },
  findings: [{ label: 'PNEUMONIA', probability: 0.3, threshold: 0.05 }],
  thresholds: { PNEUMONIA: 0.05, TUBERCULOSIS: 0.2 },
};

/**
 * Registers a patient and a chest study with a real film attached through the API, then stores a
 * served AI reading with chosen findings in the database (as the analysis would: ACCEPTED, status
 * ANALYZED). Returns the ids.
 */
export async function seedReadStudy(
  t: TestApp,
  technicianToken: string,
  reading: SeededReading,
  film = 'chest/kermany/test/NORMAL/IM-0001-0001.jpeg',
): Promise<{ patientId: string; studyId: string; predictionId: string; imageId: string }> {
  const patientId = await createPatient(t, technicianToken);
  const studyId = await createStudy(t, technicianToken, patientId, 'CHEST');
  const imageId = await attach(t, technicianToken, studyId, film, 'PA');
  const em = t.app.orm.em.fork();
  const study = await em.findOneOrFail(Study, { id: studyId });
  const prediction = em.create(Prediction, {
    study,
    gateVerdict: GateVerdict.ACCEPTED,
    label: reading.label,
    probabilities: reading.probabilities,
    findings: reading.findings,
    thresholds: reading.thresholds,
    warning: AI_ASSISTANCE_WARNING,
    route: 'PRODUCTION',
  } as Prediction);
  study.status = 'ANALYZED' as Study['status'];
  await em.flush();
  return { patientId, studyId, predictionId: prediction.id, imageId };
}
