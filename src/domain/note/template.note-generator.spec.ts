import { BodyPart, GateVerdict, NoteAudience } from '../enums';
import type { NoteFacts } from './note-facts';
import { NOTE_LANGUAGES } from './note-language';
import { checkDraft, conditionsMentioned } from './note-safety';
import { TemplateNoteGenerator } from './template.note-generator';

const cases: [string, NoteFacts][] = [
  [
    'pneumonia',
    {
      bodyPart: BodyPart.CHEST,
      gateVerdict: GateVerdict.ACCEPTED,
      findings: [{ label: 'PNEUMONIA', probability: 0.62, threshold: 0.048 }],
      model: 'chest v1',
    },
  ],
  [
    'pneumonia and tuberculosis',
    {
      bodyPart: BodyPart.CHEST,
      gateVerdict: GateVerdict.ACCEPTED,
      findings: [
        { label: 'PNEUMONIA', probability: 0.5, threshold: 0.05 },
        { label: 'TUBERCULOSIS', probability: 0.3, threshold: 0.1 },
      ],
      model: 'chest v1',
    },
  ],
  [
    'tuberculosis only',
    {
      bodyPart: BodyPart.CHEST,
      gateVerdict: GateVerdict.ACCEPTED,
      findings: [{ label: 'TUBERCULOSIS', probability: 0.3, threshold: 0.1 }],
      model: 'chest v1',
    },
  ],
  [
    'fracture',
    {
      bodyPart: BodyPart.WRIST,
      gateVerdict: GateVerdict.ACCEPTED,
      findings: [{ label: 'FRACTURE', probability: 0.4, threshold: 0.12 }],
      model: 'wrist v1',
    },
  ],
  [
    'nothing flagged',
    { bodyPart: BodyPart.WRIST, gateVerdict: GateVerdict.ACCEPTED, findings: [], model: null },
  ],
  [
    'a refused image',
    { bodyPart: BodyPart.CHEST, gateVerdict: GateVerdict.NOT_A_RADIOGRAPH, findings: [], model: 'chest v1' },
  ],
];
const targets = { maxGrade: 8, minSzigriszt: 55 };

async function draft(
  generator: TemplateNoteGenerator,
  facts: NoteFacts,
  audience: NoteAudience,
  language: 'en' | 'es',
) {
  const chunks: string[] = [];
  const text = await generator.generate(
    { facts, audience, language },
    (c) => chunks.push(c),
    new AbortController().signal,
  );
  return { text, chunks };
}

describe('TemplateNoteGenerator', () => {
  const generator = new TemplateNoteGenerator();

  describe.each(cases)('for %s', (_name, facts) => {
    it.each(
      NOTE_LANGUAGES.flatMap((l) =>
        [NoteAudience.PATIENT, NoteAudience.CLINICIAN].map((a) => [a, l] as const),
      ),
    )(
      'writes a %s note in %s that passes every safety check, streamed in order',
      async (audience, language) => {
        const { text, chunks } = await draft(generator, facts, audience, language);
        expect(chunks.length).toBeGreaterThan(10);
        expect(chunks.join('')).toBe(text);
        const report = checkDraft(text, facts, audience, language, targets);
        expect(report.checks.filter((c) => !c.passed)).toEqual([]);
        if (audience === NoteAudience.PATIENT) expect(report.readability.passed).toBe(true);
      },
    );
  });

  it('is deterministic and names exactly the flagged conditions', async () => {
    const [, facts] = cases[1];
    const a = await draft(generator, facts, NoteAudience.PATIENT, 'en');
    const b = await draft(generator, facts, NoteAudience.PATIENT, 'en');
    expect(a.text).toBe(b.text);
    expect(conditionsMentioned(a.text).sort()).toEqual(['INFECTION', 'PNEUMONIA', 'TUBERCULOSIS']);
    expect(
      conditionsMentioned((await draft(generator, cases[4][1], NoteAudience.CLINICIAN, 'en')).text),
    ).toEqual([]);
  });

  it('writes Spanish in Spanish', async () => {
    const { text } = await draft(generator, cases[0][1], NoteAudience.PATIENT, 'es');
    expect(text).toContain('radiografía');
    expect(text).toContain('neumonía');
    expect(text).not.toContain('X-ray');
  });

  it('includes the probability and threshold for clinicians, not for patients', async () => {
    const clinician = (await draft(generator, cases[0][1], NoteAudience.CLINICIAN, 'en')).text;
    expect(clinician).toContain('0.620');
    expect(clinician).toContain('0.048');
    expect((await draft(generator, cases[0][1], NoteAudience.PATIENT, 'en')).text).not.toMatch(/\d/);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      generator.generate(
        { facts: cases[0][1], audience: NoteAudience.PATIENT, language: 'en' },
        () => undefined,
        controller.signal,
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
