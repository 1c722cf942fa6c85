/**
 * Note drafting costs, measured in one run: `node -r @swc-node/register bench/notes.bench.ts`.
 *
 * 1. The embedded template backend: drafts per second (render + safety checks), English patient notes.
 * 2. The safety checks alone on a 150-word LLM-style draft (median microseconds).
 * 3. node-llama-cpp with the tiny random GGUF in ../shared on the CPU: one 32-token draft per run with
 *    `threads: 1` vs node-llama-cpp's default (`cpuMathCores`), alternating over rounds so load from
 *    other jobs hits both alike; a run is cut at 60 s. The ratio shows how much a busy, shared CPU
 *    penalises llama.cpp's all-cores default (NOTE_LLAMA_THREADS).
 * Writes bench/results/notes.json and prints a table. Nothing here is asserted.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BodyPart, GateVerdict, NoteAudience } from '../src/domain/enums';
import { LlamaCppNoteGenerator } from '../src/llm/llama-cpp.note-generator';
import type { NoteRequest } from '../src/domain/note/note-facts';
import { checkDraft } from '../src/domain/note/note-safety';
import { renderTemplateNote } from '../src/domain/note/template.note-generator';
import { median, r2 } from './bench-utils';

const ROOT = path.resolve(__dirname, '..');
const GGUF = path.resolve(
  process.env.CARE_SHARED_DIR ?? path.join(ROOT, '..', 'shared'),
  'datasets/models/gguf/llama-2-tiny-random.gguf',
);
const targets = { maxGrade: 8, minSzigriszt: 55 };
const request: NoteRequest = {
  facts: {
    bodyPart: BodyPart.CHEST,
    gateVerdict: GateVerdict.ACCEPTED,
    findings: [
      { label: 'PNEUMONIA', probability: 0.62, threshold: 0.048 },
      { label: 'TUBERCULOSIS', probability: 0.21, threshold: 0.1 },
    ],
    model: 'chest v1',
  },
  audience: NoteAudience.PATIENT,
  language: 'en',
};

function templateRate(seconds: number): number {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const text = renderTemplateNote(request).join(' ');
    if (!checkDraft(text, request.facts, request.audience, request.language, targets).passed)
      throw new Error('template draft failed its checks');
    n++;
  }
  return n / seconds;
}

function checkMicros(runs: number): number {
  const words =
    'The computer program found signs that may point to pneumonia, an infection of the lung, and to TB. '.repeat(
      8,
    ) + 'A radiologist must check this result. Your doctor will talk with you about what it means.';
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    checkDraft(words, request.facts, request.audience, request.language, targets);
    times.push((performance.now() - t0) * 1000);
  }
  return median(times);
}

async function llamaRuns(rounds: number) {
  const variants = { one: [] as number[], auto: [] as number[] };
  const make = (threads: number) =>
    new LlamaCppNoteGenerator({ modelPath: GGUF, gpu: false, contextSize: 1024, threads, maxTokens: 32 });
  const generators = { one: make(1), auto: make(0) };
  for (let round = 0; round < rounds; round++) {
    for (const key of (round % 2 ? ['auto', 'one'] : ['one', 'auto']) as ('one' | 'auto')[]) {
      const t0 = performance.now();
      try {
        await generators[key].generate(request, () => undefined, AbortSignal.timeout(60_000));
        variants[key].push(performance.now() - t0);
      } catch {
        variants[key].push(Number.POSITIVE_INFINITY);
      }
    }
  }
  await Promise.all([generators.one.close(), generators.auto.close()]);
  return { oneMs: median(variants.one), autoMs: median(variants.auto), runs: variants };
}

async function main() {
  const load = loadavg()[0];
  const template = templateRate(2);
  const check = checkMicros(500);
  const llama = existsSync(GGUF) ? await llamaRuns(4) : null;
  const result = {
    cpus: cpus().length,
    loadAverage1m: r2(load),
    templateDraftsPerSecond: Math.round(template),
    safetyCheckMedianMicros: r2(check),
    llama: llama
      ? {
          model: path.basename(GGUF),
          tokens: 32,
          threads1MedianMs: r2(llama.oneMs),
          threadsDefaultMedianMs: r2(llama.autoMs),
          defaultOverOne: r2(llama.autoMs / llama.oneMs),
          runsMs: { one: llama.runs.one.map(r2), default: llama.runs.auto.map(r2) },
        }
      : `skipped: no GGUF at ${GGUF}`,
  };
  console.table({
    'template drafts/s (render + checks)': result.templateDraftsPerSecond,
    'safety checks, 150-word draft (µs, median)': result.safetyCheckMedianMicros,
    ...(llama
      ? {
          'llama-cpp 32 tokens, threads 1 (ms, median)': r2(llama.oneMs),
          'llama-cpp 32 tokens, default threads (ms, median)': r2(llama.autoMs),
          'default / threads 1': r2(llama.autoMs / llama.oneMs),
        }
      : {}),
    'load average (1 min) at start': result.loadAverage1m,
  });
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  writeFileSync(path.join(__dirname, 'results', 'notes.json'), `${JSON.stringify(result, null, 2)}\n`);
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
