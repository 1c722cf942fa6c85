import { HostCpuLoad, hostCpuTimes, type CpuTimes } from './host-load';

/** A clock and CPU counters the test moves by hand. */
function fakeHost() {
  const host = { at: 0, times: { busy: 0, total: 0 } as CpuTimes, samples: 0 };
  const advance = (ms: number, busyMs: number, cores = 2) => {
    host.at += ms;
    host.times = { busy: host.times.busy + busyMs, total: host.times.total + ms * cores };
  };
  const load = (threshold: number) =>
    new HostCpuLoad(
      threshold,
      100,
      () => {
        host.samples++;
        return host.times;
      },
      () => host.at,
    );
  return { host, advance, load };
}

describe('HostCpuLoad', () => {
  it('is busy once the cores were used at or above the threshold over the last window', () => {
    const { advance, load } = fakeHost();
    const l = load(0.75);
    expect(l.busy()).toBe(false); // nothing measured yet
    advance(100, 150); // 150 of 200 core-ms: 75%
    expect(l.busy()).toBe(true);
    advance(100, 140); // 70%
    expect(l.busy()).toBe(false);
    advance(200, 390); // 97.5%
    expect(l.busy()).toBe(true);
  });

  it('samples the counters at most once per window and keeps the last reading in between', () => {
    const { host, advance, load } = fakeHost();
    const l = load(0.5);
    advance(100, 200);
    expect(l.busy()).toBe(true);
    const samples = host.samples;
    advance(50, 0); // idle, but within the window: the last reading stands
    expect(l.busy()).toBe(true);
    expect(host.samples).toBe(samples);
    advance(50, 0); // the window is complete: 0 of 200 core-ms since the last sample
    expect(l.busy()).toBe(false);
    expect(host.samples).toBe(samples + 1);
  });

  it('keeps the last reading when the counters did not move (no clock tick in the window)', () => {
    const { host, advance, load } = fakeHost();
    const l = load(0.5);
    advance(100, 180);
    expect(l.busy()).toBe(true);
    host.at += 100; // time passed, counters unchanged
    expect(l.busy()).toBe(true);
  });

  it('never reports busy with a threshold of 1', () => {
    const { advance, load } = fakeHost();
    const l = load(1);
    advance(100, 200);
    expect(l.busy()).toBe(false);
  });

  it('reads this host: busy time never exceeds the total, and both grow', () => {
    const a = hostCpuTimes();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    const b = hostCpuTimes();
    expect(x).toBeGreaterThan(0);
    expect(a.busy).toBeLessThanOrEqual(a.total);
    expect(b.total).toBeGreaterThanOrEqual(a.total);
    expect(b.busy).toBeGreaterThanOrEqual(a.busy);
  });
});
