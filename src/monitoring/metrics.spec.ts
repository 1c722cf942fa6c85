import { Gauge, Histogram } from 'prom-client';
import { Metrics } from './metrics';

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
