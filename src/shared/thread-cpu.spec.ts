import { Worker } from 'node:worker_threads';
import { threadCpu, threadCpuByRole, THREAD_NAMES } from './thread-cpu';

/** A fake `/proc/<pid>/task` with the given threads: tid → [name, user ticks, system ticks]. */
function fakeProc(pid: number, threads: Record<string, [string, number, number]>) {
  const stat = ([name, user, system]: [string, number, number]) =>
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    `${pid} (${name}) S 1 1 1 0 -1 0 0 0 0 0 ${user} ${system} 0 0 20 0 1 0`;
  return {
    list: (path: string) => {
      if (path !== `/proc/${pid}/task`) throw new Error('ENOENT');
      return Object.keys(threads);
    },
    read: (path: string) => {
      const tid = path.split('/')[4]!;
      const t = threads[tid];
      if (!t) throw new Error('ENOENT'); // ended between the listing and the read
      return stat(t);
    },
  };
}

describe('threadCpu', () => {
  it('gives each thread its role: the process id is the event loop, named workers their role, the rest runtime', () => {
    const proc = fakeProc(40, {
      '40': ['node', 150, 50],
      '41': ['node', 10, 0],
      '42': [THREAD_NAMES.decode, 30, 10],
      '43': [THREAD_NAMES.engine, 100, 0],
      '44': [THREAD_NAMES.engine, 25, 5],
      '45': [THREAD_NAMES.drift, 7, 1],
      '46': ['a (weird) name', 1, 1],
    });
    const threads = threadCpu(40, proc.read, (p) => [...proc.list(p), '47']); // 47 ended meanwhile
    expect(threads.map((t) => [t.tid, t.role, t.seconds])).toEqual([
      ['40', 'event-loop', 2],
      ['41', 'runtime', 0.1],
      ['42', 'decode', 0.4],
      ['43', 'engine', 1],
      ['44', 'engine', 0.3],
      ['45', 'drift', 0.08],
      ['46', 'runtime', 0.02],
    ]);
  });

  it('is empty where /proc cannot be read', () => {
    expect(
      threadCpu(
        40,
        () => '',
        () => {
          throw new Error('ENOENT');
        },
      ),
    ).toEqual([]);
  });
});

describe('nameThisThread on this machine', () => {
  const linux = process.platform === 'linux';

  (linux ? it : it.skip)(
    'names a worker thread, which then counts for its role in this process',
    async () => {
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
       require('@swc-node/register');
       require(${JSON.stringify(require.resolve('./thread-cpu'))}).nameThisThread('${THREAD_NAMES.drift}');
       let x = 0; const end = Date.now() + 60; while (Date.now() < end) x += Math.sqrt(x + 1);
       parentPort.postMessage(x);
       setInterval(() => undefined, 1000);`,
        { eval: true },
      );
      try {
        await new Promise((done) => worker.once('message', done));
        const roles = threadCpuByRole();
        expect(roles.drift).toBeGreaterThan(0);
        expect(roles['event-loop']).toBeGreaterThan(0);
      } finally {
        await worker.terminate();
      }
    },
  );

  (linux ? it : it.skip)(
    'writes the name the thread shows in /proc (cut to Linux’s 15 characters)',
    async () => {
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
       const { readFileSync } = require('node:fs');
       require('@swc-node/register');
       const { nameThisThread } = require(${JSON.stringify(require.resolve('./thread-cpu'))});
       const ok = nameThisThread('cc-a-very-long-thread-name');
       parentPort.postMessage([ok, readFileSync('/proc/thread-self/comm', 'utf8').trim()]);`,
        { eval: true },
      );
      const [ok, name] = await new Promise<[boolean, string]>((done) => worker.once('message', done));
      await worker.terminate();
      expect(ok).toBe(true);
      expect(name).toBe('cc-a-very-long-');
    },
  );
});
