import type { Worker } from 'node:worker_threads';
import { startWorkerScript } from '../../inference/worker-script';
import { detectDrift, DriftObservation, DriftThresholds, SignalResult } from './drift-detector';
import type { ReferenceProfile } from './reference-profile';

/** Port: compares a window with a reference profile (inline, or in a worker thread). */
export interface DriftDetector {
  /** `profileKey` names the profile (e.g. `CHEST/v1`) so a worker receives each profile once. */
  detect(
    profileKey: string,
    profile: ReferenceProfile,
    window: DriftObservation[],
    thresholds: DriftThresholds,
  ): Promise<SignalResult[]>;
  close(): Promise<void>;
}

/** Main thread → worker. */
export interface DetectMessage {
  id: number;
  profileKey: string;
  profile?: ReferenceProfile;
  window: DriftObservation[];
  thresholds: DriftThresholds;
}

/** Worker → main thread. */
export type DetectReply = { id: number; results: SignalResult[] } | { id: number; error: string };

/** Runs the detector on the calling thread (tests, scripts). */
export class InlineDriftDetector implements DriftDetector {
  async detect(
    _key: string,
    profile: ReferenceProfile,
    window: DriftObservation[],
    thresholds: DriftThresholds,
  ): Promise<SignalResult[]> {
    return detectDrift(profile, window, thresholds);
  }

  async close(): Promise<void> {}
}

/**
 * Runs the detector in one worker thread, started on first use, so a window's permutation test never
 * stalls the event loop. A worker that dies fails its pending windows and is replaced on the next one.
 */
export class WorkerDriftDetector implements DriftDetector {
  private worker: Worker | null = null;
  private readonly sent = new Set<string>();
  private readonly pending = new Map<
    number,
    { resolve: (r: SignalResult[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;

  detect(
    profileKey: string,
    profile: ReferenceProfile,
    window: DriftObservation[],
    thresholds: DriftThresholds,
  ): Promise<SignalResult[]> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const message: DetectMessage = {
      id,
      profileKey,
      profile: this.sent.has(profileKey) ? undefined : profile,
      window: window.map((o) => ({ ...o, embedding: Float32Array.from(o.embedding) })),
      thresholds,
    };
    this.sent.add(profileKey);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(message);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorkerScript(__dirname, 'drift-detector.worker');
    worker.unref();
    worker.on('message', (reply: DetectReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(new Error(`drift detection failed: ${reply.error}`));
      else p.resolve(reply.results);
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.sent.clear();
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`drift worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new Error('drift detector closed'));
    this.pending.clear();
    if (worker) await worker.terminate();
  }
}
