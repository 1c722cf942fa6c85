import { Gauge, Histogram, Registry } from 'prom-client';
import type { ThreadCpu } from '../shared/thread-cpu';
import { Metrics, threadCpuCounter } from './metrics';

describe('Metrics', () => {
  it('keeps answering when a registered collector fails or hangs, exporting it empty and counting it', async () => {
    const metrics = new Metrics({}, { collectTimeoutMs: 50 });
    new Gauge({
      name: 'test_failing',
      help: 'a collector whose source is down',
      registers: [metrics.registry],
      collect: () => Promise.reject(new Error('database down')),
    });
    new Histogram({
      name: 'test_hanging',
      help: 'a collector whose source never answers',
      registers: [metrics.registry],
      collect: () => new Promise(() => undefined),
    });
    const healthy = new Gauge({ name: 'test_healthy', help: 'fine', registers: [metrics.registry] });
    healthy.set(3);
    const first = await metrics.render();
    expect(first).toContain('# TYPE test_failing gauge');
    expect(first).toContain('# TYPE test_hanging histogram');
    expect(first).not.toMatch(/^test_failing /m);
    expect(first).toMatch(/^test_healthy 3$/m);
    // The counter is read in the same pass; the next scrape shows both failures of the first.
    const second = await metrics.render();
    expect(second).toMatch(/^care_companion_metrics_collect_errors_total\{source="test_failing"\} [1-9]/m);
    expect(second).toMatch(/^care_companion_metrics_collect_errors_total\{source="test_hanging"\} [1-9]/m);
  });

  it('reports engine state at scrape time: one model_loaded series per version, lanes per version', async () => {
    const metrics = new Metrics();
    let models = [
      {
        task: 'chest',
        version: 'v1',
        active: true,
        provider: 'cpu',
        precision: 'fp32' as const,
        instances: 1,
        queueDepth: 2,
        queueDepthByPriority: { STAT: 1, URGENT: 0, ROUTINE: 1 },
        inFlight: 3,
      },
    ];
    metrics.watchEngine({ health: () => models });
    const text = await metrics.render();
    expect(text).toMatch(
      /^care_companion_model_loaded\{task="chest",model_version="v1",execution_provider="cpu",precision="fp32",active="true"\} 1$/m,
    );
    expect(text).toMatch(
      /^care_companion_inference_queue_depth\{task="chest",model_version="v1",priority="STAT"\} 1$/m,
    );
    expect(text).toMatch(/^care_companion_inference_in_flight\{task="chest",model_version="v1"\} 3$/m);
    models = [];
    expect(await metrics.render()).not.toMatch(/^care_companion_model_loaded\{/m);
  });

  it('keeps free text out of label values', async () => {
    const metrics = new Metrics();
    metrics.analysis.predictionRecorded({
      task: 'chest',
      version: 'v1',
      route: 'PRODUCTION',
      label: 'weird "label"\nwith {braces}',
      gateVerdict: 'ACCEPTED' as never,
      totalMs: 10,
    });
    const text = await metrics.render();
    expect(text).toMatch(/label="weird _label__with _braces_"/);
  });
});

describe('threadCpuCounter', () => {
  it('counts each thread by its role and gives nothing back when a thread ends', async () => {
    const registry = new Registry();
    let threads: ThreadCpu[] = [
      { tid: '1', role: 'event-loop', seconds: 2 },
      { tid: '2', role: 'decode', seconds: 0.5 },
      { tid: '3', role: 'decode', seconds: 0.25 },
    ];
    threadCpuCounter([registry], () => threads);
    const read = async () =>
      Object.fromEntries(
        (await registry.getSingleMetric('care_companion_thread_cpu_seconds_total')!.get()).values.map((v) => [
          v.labels.role,
          v.value,
        ]),
      );
    expect(await read()).toEqual({ 'event-loop': 2, decode: 0.75 });
    // Thread 3 ended; a new decode thread 4 started: the role only grows.
    threads = [
      { tid: '1', role: 'event-loop', seconds: 3 },
      { tid: '2', role: 'decode', seconds: 1 },
      { tid: '4', role: 'decode', seconds: 0.1 },
    ];
    expect(await read()).toEqual({ 'event-loop': 3, decode: 1.35 });
  });

  it('exports the live process by role on this machine', async () => {
    const text = await new Metrics().render();
    if (process.platform === 'linux')
      expect(text).toMatch(/^care_companion_thread_cpu_seconds_total\{role="event-loop"\} [0-9.]+$/m);
    else expect(text).not.toMatch(/^care_companion_thread_cpu_seconds_total\{/m);
  });
});
