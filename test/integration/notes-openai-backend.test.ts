/**
 * The OpenAI-compatible note backend against a real local HTTP server that speaks the same protocol
 * (SSE streaming and plain JSON): happy paths, timeouts, 5xx, malformed and truncated streams, and a
 * draft that names a condition the findings do not contain (caught by the safety checks, so it cannot
 * be approved).
 */
import { BodyPart, GateVerdict, NoteAudience, Role } from '../../src/domain/enums';
import type { NoteRequest } from '../../src/domain/note/note-facts';
import { OpenAiNoteGenerator } from '../../src/llm/openai.note-generator';
import { NoteBackendError } from '../../src/errors';
import { connectWs, subscribe, WsConnection, WsSubscription } from '../support/graphql-ws-client';
import {
  ChunkEvent,
  DRAFT_SUBSCRIPTION,
  generateNote,
  joinChunks,
  waitForCompleteStream,
  NOTE_FIELDS,
  NoteResult,
  seedPrediction,
} from '../support/note-fixtures';
import { OpenAiCompatibleServer } from '../support/openai-compatible-server';
import { startTestApp, TestApp } from '../support/test-app';

const GROUNDED =
  'The computer program found signs that may point to pneumonia, an infection of the lung. ' +
  'The program is not always right. A radiologist is a doctor who reads X-rays. ' +
  'A radiologist must check this result.';
const HALLUCINATED =
  'The computer program found signs that may point to pneumonia. It also saw a small pleural effusion. ' +
  'The program is not always right. A radiologist must check this result.';

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

let server: OpenAiCompatibleServer;
beforeAll(async () => {
  server = new OpenAiCompatibleServer();
  await server.start();
});
afterAll(async () => server?.stop());

async function failure(promise: Promise<unknown>): Promise<NoteBackendError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NoteBackendError);
  return error as NoteBackendError;
}

describe('OpenAiNoteGenerator over HTTP', () => {
  const generator = (stream: boolean, baseUrl = server.baseUrl) =>
    new OpenAiNoteGenerator({ baseUrl, model: 'llama-test', apiKey: 'sk-local', stream, maxTokens: 200 });
  const signal = () => AbortSignal.timeout(5000);

  it('streams a completion over SSE, piece by piece, and sends the findings, rules and key', async () => {
    server.mode = { kind: 'reply', text: GROUNDED };
    const pieces: string[] = [];
    const text = await generator(true).generate(request, (c) => pieces.push(c), signal());
    expect(text).toBe(GROUNDED);
    expect(pieces.length).toBe(GROUNDED.match(/\S+\s*/g)!.length);
    expect(pieces.join('')).toBe(GROUNDED);
    const sent = server.requests.at(-1)!;
    expect(sent.authorization).toBe('Bearer sk-local');
    expect(sent.body).toMatchObject({ model: 'llama-test', stream: true, temperature: 0, max_tokens: 200 });
    expect(sent.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(sent.body.messages[0].content).toMatch(/Do not name any other condition/);
    expect(sent.body.messages[1].content).toContain('"condition":"pneumonia"');
  });

  it('reads a non-streamed JSON completion', async () => {
    server.mode = { kind: 'reply', text: GROUNDED };
    const pieces: string[] = [];
    expect(await generator(false).generate(request, (c) => pieces.push(c), signal())).toBe(GROUNDED);
    expect(pieces).toEqual([GROUNDED]);
    expect(server.requests.at(-1)!.body.stream).toBe(false);
  });

  it.each([true, false])(
    'reports a 5xx as NOTE_BACKEND_UNAVAILABLE with the status (stream %s)',
    async (stream) => {
      server.mode = { kind: 'status', status: 503 };
      const error = await failure(generator(stream).generate(request, () => undefined, signal()));
      expect(error.code).toBe('NOTE_BACKEND_UNAVAILABLE');
      expect(error.details.status).toBe(503);
    },
  );

  it.each([true, false])('reports a malformed body as NOTE_BACKEND_MALFORMED (stream %s)', async (stream) => {
    server.mode = { kind: 'malformed' };
    expect((await failure(generator(stream).generate(request, () => undefined, signal()))).code).toBe(
      'NOTE_BACKEND_MALFORMED',
    );
  });

  it('reports a stream that ends without [DONE] as NOTE_BACKEND_MALFORMED', async () => {
    server.mode = { kind: 'truncated', text: GROUNDED };
    const pieces: string[] = [];
    const error = await failure(generator(true).generate(request, (c) => pieces.push(c), signal()));
    expect(error.code).toBe('NOTE_BACKEND_MALFORMED');
    expect(pieces.length).toBe(3);
  });

  it('reports an error event inside the stream as NOTE_BACKEND_UNAVAILABLE', async () => {
    server.mode = { kind: 'stream-error' };
    expect((await failure(generator(true).generate(request, () => undefined, signal()))).code).toBe(
      'NOTE_BACKEND_UNAVAILABLE',
    );
  });

  it('reports a refused connection as NOTE_BACKEND_UNAVAILABLE', async () => {
    const closed = new OpenAiCompatibleServer();
    await closed.start();
    const url = closed.baseUrl;
    await closed.stop();
    expect((await failure(generator(true, url).generate(request, () => undefined, signal()))).code).toBe(
      'NOTE_BACKEND_UNAVAILABLE',
    );
  });

  it('stops waiting when the signal aborts (a backend that stalls mid-stream)', async () => {
    server.mode = { kind: 'hang' };
    const started = Date.now();
    await expect(
      generator(true).generate(request, () => undefined, AbortSignal.timeout(300)),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('generateNote with NOTE_BACKEND=openai', () => {
  let t: TestApp;
  let tech: string;
  let radiologist: string;
  let predictionId: string;
  let ws: WsConnection;
  let sub: WsSubscription<ChunkEvent>;
  const TIMEOUT_MS = 1500;

  beforeAll(async () => {
    t = await startTestApp({
      ANALYSIS_WORKERS: '0',
      NOTE_BACKEND: 'openai',
      NOTE_OPENAI_BASE_URL: server.baseUrl,
      NOTE_OPENAI_MODEL: 'llama-test',
      NOTE_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    tech = await t.tokenFor(Role.TECHNICIAN);
    radiologist = await t.tokenFor(Role.RADIOLOGIST);
    ({ predictionId } = await seedPrediction(t, tech, [
      { label: 'PNEUMONIA', probability: 0.71, threshold: 0.05 },
    ]));
    ws = connectWs(t.app.url, { authorization: `Bearer ${radiologist}` });
    await ws.connected;
    sub = subscribe<ChunkEvent>(ws.client, DRAFT_SUBSCRIPTION, { p: predictionId });
  });
  afterAll(async () => {
    sub?.stop();
    await ws?.dispose();
    await t?.stop();
  });

  const codes = (errors?: { extensions?: { code?: string } }[]) =>
    (errors ?? []).map((e) => e.extensions?.code);
  const noteCount = async () =>
    Number(
      (await t.app.orm.em.fork().getConnection().execute('select count(*)::int as n from clinical_note'))[0]
        .n,
    );
  const approve = (id: string) =>
    t.gql<{ approveNote: NoteResult }>(
      radiologist,
      `mutation($id: ID!) { approveNote(id: $id) { ${NOTE_FIELDS} } }`,
      { id },
    );

  it('stores a grounded draft streamed from the server, releasable and approvable', async () => {
    server.mode = { kind: 'reply', text: GROUNDED };
    let note: NoteResult | null = null;
    for (let attempt = 0; attempt < 20 && !note; attempt++) {
      const r = await generateNote(t, radiologist, predictionId, 'PATIENT');
      expect(r.errors).toBeUndefined();
      const candidate = r.data!.generateNote;
      await sub
        .waitForEvent((e) => e.noteDraftStreamed.noteId === candidate.id && e.noteDraftStreamed.done, 500)
        .then(
          () => (note = candidate),
          () => undefined,
        );
    }
    expect(note).not.toBeNull();
    await waitForCompleteStream(sub, note!.id);
    expect(joinChunks(sub.events, note!.id)).toEqual({
      text: GROUNDED,
      done: true,
      complete: true,
      error: null,
    });
    expect(note).toMatchObject({
      body: GROUNDED,
      backend: 'openai:llama-test',
      releasable: true,
      status: 'DRAFT',
    });
    const approved = await approve(note!.id);
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.approveNote.status).toBe('APPROVED');
  });

  it('splits a delta over the 8,000-byte NOTIFY limit into pieces that all arrive (regression: one payload would be dropped)', async () => {
    const long = `${GROUNDED} `.repeat(42).trim();
    expect(Buffer.byteLength(long)).toBeGreaterThan(8000);
    server.mode = { kind: 'reply', text: long, whole: true };
    const r = await generateNote(t, radiologist, predictionId, 'CLINICIAN');
    expect(r.errors).toBeUndefined();
    const id = r.data!.generateNote.id;
    await waitForCompleteStream(sub, id);
    const pieces = sub.events.filter((e) => e.noteDraftStreamed.noteId === id && !e.noteDraftStreamed.done);
    expect(pieces.length).toBe(Math.ceil(long.length / 1000));
    expect(pieces.every((e) => e.noteDraftStreamed.text.length <= 1000)).toBe(true);
    expect(joinChunks(sub.events, id).text).toBe(long);
  });

  it('marks a draft naming a condition outside the findings as failed, and refuses to approve it', async () => {
    server.mode = { kind: 'reply', text: HALLUCINATED };
    const r = await generateNote(t, radiologist, predictionId, 'PATIENT');
    expect(r.errors).toBeUndefined();
    const note = r.data!.generateNote;
    expect(note).toMatchObject({ status: 'DRAFT', releasable: false, failedChecks: ['GROUNDED_CONDITIONS'] });
    expect(note.safetyChecks.ungroundedConditions).toEqual(['EFFUSION']);

    const refused = await approve(note.id);
    expect(codes(refused.errors)).toEqual(['NOTE_FAILED_SAFETY_CHECKS']);
    expect(refused.errors![0].extensions!.details).toMatchObject({
      noteId: note.id,
      failedChecks: ['GROUNDED_CONDITIONS'],
    });
    const after = await t.gql<{ clinicalNote: { status: string } }>(
      radiologist,
      `query($id: ID!) { clinicalNote(id: $id) { status } }`,
      {
        id: note.id,
      },
    );
    expect(after.data!.clinicalNote.status).toBe('DRAFT');
    const audits = (await t.app.orm.em
      .fork()
      .getConnection()
      .execute(
        `select action from audit_event where entity_type = 'ClinicalNote' and entity_id = ? and action <> 'READ'`,
        [note.id],
      )) as { action: string }[];
    expect(audits.map((a) => a.action)).toEqual(['CREATE']);
  });

  it('answers NOTE_BACKEND_TIMEOUT when the server stalls, stores nothing and ends the stream with the code', async () => {
    server.mode = { kind: 'hang' };
    const before = await noteCount();
    const r = await generateNote(t, radiologist, predictionId, 'CLINICIAN');
    expect(codes(r.errors)).toEqual(['NOTE_BACKEND_TIMEOUT']);
    expect(r.errors![0].extensions!.details).toMatchObject({ timeoutMs: TIMEOUT_MS });
    expect(await noteCount()).toBe(before);
    const end = await sub.waitForEvent((e) => e.noteDraftStreamed.error === 'NOTE_BACKEND_TIMEOUT', 5000);
    expect(end.noteDraftStreamed.done).toBe(true);
    await waitForCompleteStream(sub, end.noteDraftStreamed.noteId);
    expect(joinChunks(sub.events, end.noteDraftStreamed.noteId).text).toBe('The ');
  });

  it('cancels the backend request when the API client goes away, storing nothing', async () => {
    server.mode = { kind: 'hang' };
    const before = await noteCount();
    const requests = server.requests.length;
    const aborted = server.nextAbort();
    const client = new AbortController();
    const call = fetch(`${t.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${radiologist}` },
      body: JSON.stringify({
        query: 'mutation($p: ID!) { generateNote(predictionId: $p, audience: PATIENT) { id } }',
        variables: { p: predictionId },
      }),
      signal: client.signal,
    }).catch((error: { name?: string }) => error);
    const end = sub.waitForEvent((e) => e.noteDraftStreamed.error === 'CANCELLED', 5000);
    await sub.waitForEvent(
      (e) =>
        !e.noteDraftStreamed.done && e.noteDraftStreamed.text === 'The ' && server.requests.length > requests,
      5000,
    );
    client.abort();
    await aborted;
    expect(((await call) as { name?: string }).name).toBe('AbortError');
    expect((await end).noteDraftStreamed.done).toBe(true);
    expect(await noteCount()).toBe(before);
  });

  it.each([
    [{ kind: 'status', status: 500 } as const, 'NOTE_BACKEND_UNAVAILABLE'],
    [{ kind: 'malformed' } as const, 'NOTE_BACKEND_MALFORMED'],
    [{ kind: 'truncated', text: GROUNDED } as const, 'NOTE_BACKEND_MALFORMED'],
  ])('answers %j with %s and stores nothing', async (mode, code) => {
    server.mode = mode;
    const before = await noteCount();
    expect(codes((await generateNote(t, radiologist, predictionId, 'PATIENT')).errors)).toEqual([code]);
    expect(await noteCount()).toBe(before);
  });

  it('counts drafts by outcome and failed safety checks in /metrics', async () => {
    const text = await (await fetch(`${t.app.url}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    expect(
      value(
        /^care_companion_note_drafts_total\{backend="openai:llama-test",audience="PATIENT",language="en",outcome="RELEASABLE"\} (\d+)/m,
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(
        /^care_companion_note_drafts_total\{backend="openai:llama-test",audience="PATIENT",language="en",outcome="FAILED_CHECKS"\} (\d+)/m,
      ),
    ).toBe(1);
    expect(
      value(
        /^care_companion_note_drafts_total\{backend="openai:llama-test",audience="CLINICIAN",language="en",outcome="NOTE_BACKEND_TIMEOUT"\} (\d+)/m,
      ),
    ).toBe(1);
    expect(
      value(
        /^care_companion_note_safety_check_failures_total\{backend="openai:llama-test",check="GROUNDED_CONDITIONS"\} (\d+)/m,
      ),
    ).toBe(1);
    expect(text).toMatch(
      /^care_companion_note_draft_duration_seconds_count\{backend="openai:llama-test"\} \d+/m,
    );
  });

  it('sends the model only findings: no patient name or MRN in any prompt', async () => {
    const patient = (
      await t.app.orm.em
        .fork()
        .getConnection()
        .execute(
          `select p.mrn, p.given_name, p.family_name from prediction pr join study s on s.id = pr.study_id join patient p on p.id = s.patient_id where pr.id = ?`,
          [predictionId],
        )
    )[0] as { mrn: string; given_name: string; family_name: string };
    const prompts = JSON.stringify(server.requests.map((r) => r.body.messages));
    for (const value of Object.values(patient)) expect(prompts).not.toContain(value);
  });
});
