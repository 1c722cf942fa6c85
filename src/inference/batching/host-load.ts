import { cpus } from 'node:os';

/**
 * Port: whether the host's cores are already busy with other work. The batcher asks it before it runs a
 * lone batch on the session with every intra-op thread: that session only lowers latency when the other
 * cores are idle, and on busy cores its threads wait for each other and for the threads already there.
 */
export interface HostLoad {
  busy(): boolean;
}

/** CPU time of all cores so far (ms): busy (user, nice, system, irq) and in all. */
export interface CpuTimes {
  busy: number;
  total: number;
}

/** The host's cores as `os.cpus()` reports them, summed. */
export function hostCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const used = times.user + times.nice + times.sys + times.irq;
    busy += used;
    total += used + times.idle;
  }
  return { busy, total };
}

/**
 * The whole host's CPU utilisation (every process, not only this one: PostgreSQL and the decode workers
 * count too), over the last window of at least {@link windowMs}, taken only when asked (no timer): busy
 * when it reached `threshold`. A threshold of 1 or more never reports busy.
 */
export class HostCpuLoad implements HostLoad {
  private last: CpuTimes & { at: number };
  private utilisation = 0;

  constructor(
    private readonly threshold: number,
    private readonly windowMs = 100,
    private readonly sample: () => CpuTimes = hostCpuTimes,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = { ...this.sample(), at: this.now() };
  }

  busy(): boolean {
    if (this.threshold >= 1) return false;
    const at = this.now();
    if (at - this.last.at >= this.windowMs) {
      const times = this.sample();
      const total = times.total - this.last.total;
      // The kernel's counters move in clock ticks: a window with no tick keeps the previous reading.
      if (total > 0) this.utilisation = (times.busy - this.last.busy) / total;
      this.last = { ...times, at };
    }
    return this.utilisation >= this.threshold;
  }
}
