/**
 * The node-llama-cpp note backend with the tiny random GGUF in ../shared (CPU only). Its text is
 * gibberish, which the safety checks must catch: such a draft is stored as failed and cannot be approved.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BodyPart, GateVerdict, NoteAudience, Role } from '../../src/domain/enums';
import { LlamaCppNoteGenerator } from '../../src/llm/llama-cpp.note-generator';
import type { NoteRequest } from '../../src/domain/note/note-facts';
import { checkDraft } from '../../src/domain/note/note-safety';
import { generateNote, NoteResult, seedPrediction } from '../support/note-fixtures';
import { SHARED_DIR } from '../support/shared-data';
import { startTestApp, TestApp } from '../support/test-app';
import { requireOrSkip } from '../support/test-database';

const GGUF = join(SHARED_DIR, 'datasets', 'models', 'gguf', 'llama-2-tiny-random.gguf');
const ready = requireOrSkip(existsSync(GGUF), `tiny GGUF model not found at ${GGUF}`);

const request: NoteRequest = {
  facts: {
    bodyPart: BodyPart.CHEST,
    gateVerdict: GateVerdict.ACCEPTED,
    findings: [{ label: 'PNEUMONIA', probability: 0.71, threshold: 0.05 }],
    model: 'chest v1',
  },
  audience: NoteAudience.PATIENT,
  language: 'en',
};
const targets = { maxGrade: 8, minSzigriszt: 55 };

describe('LlamaCppNoteGenerator with the tiny GGUF on the CPU', () => {
  let generator: LlamaCppNoteGenerator;
  beforeAll(() => {
    if (ready)
      generator = new LlamaCppNoteGenerator({
        modelPath: GGUF,
        gpu: false,
        contextSize: 1024,
        threads: 1,
        maxTokens: 48,
      });
  });
  afterAll(async () => generator?.close());

  it('streams text chunk by chunk; the gibberish fails the safety checks', async () => {
    if (!ready) return;
    const chunks: string[] = [];
    const text = await generator.generate(request, (c) => chunks.push(c), AbortSignal.timeout(120_000));
    expect(text.trim().length).toBeGreaterThan(0);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(text);
    const report = checkDraft(text, request.facts, request.audience, request.language, targets);
    expect(report.passed).toBe(false);
    expect(report.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(
      expect.arrayContaining(['UNCERTAINTY_STATED', 'CLINICIAN_REVIEW_STATED']),
    );
  });

  it('is greedy (temperature 0), so the same request gives the same draft', async () => {
    if (!ready) return;
    const a = await generator.generate(request, () => undefined, AbortSignal.timeout(120_000));
    const b = await generator.generate(request, () => undefined, AbortSignal.timeout(120_000));
    expect(b).toBe(a);
  });

  it('stops when the signal aborts', async () => {
    if (!ready) return;
    const controller = new AbortController();
    const chunks: string[] = [];
    const run = generator.generate(
      request,
      (c) => {
        chunks.push(c);
        if (chunks.length === 2) controller.abort();
      },
      controller.signal,
    );
    // the caller's abort, not a backend failure: the note service tells the two apart by it
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(chunks.length).toBeLessThan(10);
  });

  it('refuses a path with no file at construction', () => {
    expect(
      () =>
        new LlamaCppNoteGenerator({
          modelPath: `${GGUF}.missing`,
          gpu: false,
          contextSize: 512,
          threads: 1,
          maxTokens: 8,
        }),
    ).toThrow(/NOTE_GGUF_PATH/);
  });
});

describe('generateNote with NOTE_BACKEND=llama-cpp', () => {
  let t: TestApp;
  beforeAll(async () => {
    if (!ready) return;
    t = await startTestApp({
      ANALYSIS_WORKERS: '0',
      NOTE_BACKEND: 'llama-cpp',
      NOTE_GGUF_PATH: GGUF,
      NOTE_MAX_TOKENS: '48',
      NOTE_LLAMA_CONTEXT_SIZE: '1024',
      // One thread: on a shared, busy CPU llama.cpp's default (all cores) was ~1000x slower for this model.
      NOTE_LLAMA_THREADS: '1',
      NOTE_TIMEOUT_MS: '120000',
    });
  });
  afterAll(async () => t?.stop());

  it('stores the gibberish draft as failed and refuses to approve it', async () => {
    if (!ready) return;
    const tech = await t.tokenFor(Role.TECHNICIAN);
    const radiologist = await t.tokenFor(Role.RADIOLOGIST);
    const { predictionId } = await seedPrediction(
      t,
      tech,
      request.facts.findings.map((f) => ({
        ...f,
        probability: f.probability ?? 0,
        threshold: f.threshold ?? 0,
      })),
    );
    const r = await generateNote(t, radiologist, predictionId, 'PATIENT');
    expect(r.errors).toBeUndefined();
    const note = r.data!.generateNote;
    expect(note).toMatchObject({
      backend: 'llama-cpp:llama-2-tiny-random.gguf',
      status: 'DRAFT',
      releasable: false,
    });
    expect(note.failedChecks).toEqual(
      expect.arrayContaining(['UNCERTAINTY_STATED', 'CLINICIAN_REVIEW_STATED']),
    );
    const refused = await t.gql<{ approveNote: NoteResult }>(
      radiologist,
      'mutation($id: ID!) { approveNote(id: $id) { id } }',
      {
        id: note.id,
      },
    );
    expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['NOTE_FAILED_SAFETY_CHECKS']);
  });
});
