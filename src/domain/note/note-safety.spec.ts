import { BodyPart, GateVerdict, NoteAudience } from '../enums';
import type { NoteFacts } from './note-facts';
import { checkDraft, conditionsMentioned, groundedConditions } from './note-safety';

const targets = { maxGrade: 8, minSzigriszt: 55 };
const pneumonia: NoteFacts = {
  bodyPart: BodyPart.CHEST,
  gateVerdict: GateVerdict.ACCEPTED,
  findings: [{ label: 'PNEUMONIA', probability: 0.7, threshold: 0.05 }],
  model: 'chest v1',
};
const failed = (r: ReturnType<typeof checkDraft>) => r.checks.filter((c) => !c.passed).map((c) => c.name);

const GOOD_EN =
  'The computer program found signs that may point to pneumonia, an infection of the lung. ' +
  'The program is not always right. A radiologist is a doctor who reads X-rays. ' +
  'A radiologist must check this result before anything is decided.';

describe('conditionsMentioned', () => {
  it('finds conditions by any synonym, in English or Spanish, with or without accents and plurals', () => {
    expect(conditionsMentioned('Small pleural EFFUSIONS are seen.')).toEqual(['EFFUSION']);
    expect(conditionsMentioned('Hay un derrame y una neumonía.')).toEqual(['PNEUMONIA', 'EFFUSION']);
    expect(conditionsMentioned('No sign of a tumour or masses.')).toEqual(['TUMOUR']);
    expect(conditionsMentioned('A collapsed lung (pneumothorax).')).toEqual(['PNEUMOTHORAX']);
    expect(conditionsMentioned('Possible TB.')).toEqual(['TUBERCULOSIS']);
  });

  it('matches whole words only', () => {
    expect(conditionsMentioned('Massachusetts tablets cancelled; más tarde.')).toEqual([]);
  });
});

describe('checkDraft: grounding, hedging and review', () => {
  it('passes a grounded, hedged, plain patient draft that asks for review', () => {
    const r = checkDraft(GOOD_EN, pneumonia, NoteAudience.PATIENT, 'en', targets);
    expect(failed(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.readability.metric).toBe('FLESCH_KINCAID_GRADE');
    expect(r.readability.score).toBeLessThanOrEqual(8);
  });

  it('fails a draft that names a condition the findings do not contain, even negated', () => {
    const r = checkDraft(
      `${GOOD_EN} There is no sign of cancer.`,
      pneumonia,
      NoteAudience.PATIENT,
      'en',
      targets,
    );
    expect(failed(r)).toEqual(['GROUNDED_CONDITIONS']);
    expect(r.ungroundedConditions).toEqual(['CANCER']);
    expect(r.passed).toBe(false);
  });

  it('allows a generic "infection" for pneumonia or tuberculosis but not for a fracture', () => {
    expect(groundedConditions(pneumonia)).toEqual(new Set(['PNEUMONIA', 'INFECTION']));
    const fracture: NoteFacts = {
      ...pneumonia,
      findings: [{ label: 'FRACTURE', probability: 0.5, threshold: 0.1 }],
    };
    expect(checkDraft(GOOD_EN, fracture, NoteAudience.PATIENT, 'en', targets).ungroundedConditions).toEqual([
      'PNEUMONIA',
      'INFECTION',
    ]);
  });

  it('fails a draft without uncertainty, or one that claims certainty', () => {
    const sure = GOOD_EN.replace('may point to', 'points to').replace('is not always right', 'works well');
    expect(failed(checkDraft(sure, pneumonia, NoteAudience.PATIENT, 'en', targets))).toEqual([
      'UNCERTAINTY_STATED',
    ]);
    const overclaim = `${GOOD_EN} You definitely have it.`;
    const r = checkDraft(overclaim, pneumonia, NoteAudience.PATIENT, 'en', targets);
    expect(failed(r)).toEqual(['UNCERTAINTY_STATED']);
    expect(r.checks.find((c) => c.name === 'UNCERTAINTY_STATED')!.detail).toContain('definitely');
  });

  it('fails a draft that does not say a clinician must review it', () => {
    const noReview =
      'The computer program found signs that may point to pneumonia, an infection of the lung. The program is not always right. Rest and drink water.';
    expect(failed(checkDraft(noReview, pneumonia, NoteAudience.PATIENT, 'en', targets))).toEqual([
      'CLINICIAN_REVIEW_STATED',
    ]);
  });
});

describe('checkDraft: readability and language', () => {
  it('enforces readability for patient notes only', () => {
    const dense =
      'Radiographic opacification may demonstrate heterogeneous consolidation predominantly involving the inferior pulmonary segments, compatible with pneumonia. ' +
      'Interpretation necessitates confirmation by the responsible radiologist before therapeutic decisions.';
    expect(failed(checkDraft(dense, pneumonia, NoteAudience.PATIENT, 'en', targets))).toEqual([
      'READABILITY',
    ]);
    const clinician = checkDraft(dense, pneumonia, NoteAudience.CLINICIAN, 'en', targets);
    expect(clinician.passed).toBe(true);
    expect(clinician.readabilityEnforced).toBe(false);
    expect(clinician.readability.passed).toBe(false);
  });

  it('fails gibberish of the kind a tiny random model writes', () => {
    const gibberish =
      'alph Anaнове Bool Pakistan Pakistan Pakistan Pakistan Pakistan Pakistan Pakistan Pakistan legalcircleY BaronうCa Fellowchy© Windows';
    const r = checkDraft(gibberish, pneumonia, NoteAudience.PATIENT, 'en', targets);
    expect(r.passed).toBe(false);
    expect(failed(r)).toEqual(
      expect.arrayContaining(['WELL_FORMED', 'UNCERTAINTY_STATED', 'CLINICIAN_REVIEW_STATED', 'READABILITY']),
    );
  });

  it('checks Spanish drafts with Spanish cues and the Szigriszt-Pazos target', () => {
    const es =
      'El programa vio señales que pueden indicar una neumonía. El programa no siempre acierta. Un radiólogo debe revisar este resultado.';
    const r = checkDraft(es, pneumonia, NoteAudience.PATIENT, 'es', targets);
    expect(failed(r)).toEqual([]);
    expect(r.readability.metric).toBe('SZIGRISZT_PAZOS');
    expect(
      checkDraft(`${es} No hay derrame pleural.`, pneumonia, NoteAudience.PATIENT, 'es', targets)
        .ungroundedConditions,
    ).toEqual(['EFFUSION']);
  });
});
