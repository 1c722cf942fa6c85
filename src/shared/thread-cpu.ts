import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * What a thread of this process does, for CPU accounting: the event loop, the decode workers, the model
 * sessions' workers (and the threads they start), the drift test worker, and everything else Node and
 * its libraries run (V8's garbage collection and compiler threads, libuv's pool).
 */
export type ThreadRole = 'event-loop' | 'decode' | 'engine' | 'drift' | 'runtime';

/** The OS thread name each worker gives itself (at most 15 characters, Linux's limit). */
export const THREAD_NAMES = {
  decode: 'cc-decode',
  engine: 'cc-engine',
  drift: 'cc-drift',
} as const satisfies Record<Exclude<ThreadRole, 'event-loop' | 'runtime'>, string>;

const ROLE_OF_NAME = new Map<string, ThreadRole>(
  Object.entries(THREAD_NAMES).map(([role, name]) => [name, role as ThreadRole]),
);

/**
 * Names the calling OS thread (`/proc/thread-self/comm`), so `top -H`, `ps -L` and
 * {@link threadCpuByRole} tell the workers apart; threads it starts afterwards inherit the name.
 * False where the platform has no such file (not Linux) or refuses the write; nothing else changes.
 */
export function nameThisThread(name: string): boolean {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
    return true;
  } catch {
    return false;
  }
}

/** Reads a file's text (a seam for tests). */
export type ReadText = (path: string) => string;
/** Lists a directory (a seam for tests). */
export type ListDir = (path: string) => string[];

/** Linux's USER_HZ: clock ticks per second in `/proc/<pid>/stat` and `/proc/<pid>/task/<tid>/stat`. */
export const CLOCK_TICKS = 100;

/**
 * A `/proc/.../stat` line: the name between the parentheses (which may itself hold spaces and
 * parentheses) and the fields after it (`fields[0]` is the state, `fields[11]`/`[12]` user and system
 * ticks, `[13]`/`[14]` those of reaped children); null for a line that is not one.
 */
export function parseStat(stat: string): { name: string; fields: string[] } | null {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  return { name: stat.slice(open + 1, close), fields: stat.slice(close + 2).split(' ') };
}

/** One thread's CPU so far. */
export interface ThreadCpu {
  tid: string;
  role: ThreadRole;
  /** User + system CPU seconds since the thread started. */
  seconds: number;
}

/**
 * CPU seconds (user + system) of each live thread of a process, from `/proc/<pid>/task`: the thread
 * whose id is the process's is the event loop, a thread named by {@link nameThisThread} counts for its
 * role, any other for `runtime`. Threads that already ended are not listed. Empty where `/proc` cannot be
 * read (not Linux).
 */
export function threadCpu(
  pid: number | 'self' = 'self',
  read: ReadText = (p) => readFileSync(p, 'utf8'),
  list: ListDir = (p) => readdirSync(p),
): ThreadCpu[] {
  const base = `/proc/${pid}/task`;
  let tids: string[];
  try {
    tids = list(base);
  } catch {
    return [];
  }
  const processId = pid === 'self' ? String(process.pid) : String(pid);
  const out: ThreadCpu[] = [];
  for (const tid of tids) {
    let stat: string;
    try {
      stat = read(`${base}/${tid}/stat`);
    } catch {
      continue; // the thread ended meanwhile
    }
    const parsed = parseStat(stat);
    if (!parsed) continue;
    const { name, fields } = parsed;
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    if (!Number.isFinite(seconds)) continue;
    out.push({
      tid,
      role: tid === processId ? 'event-loop' : (ROLE_OF_NAME.get(name) ?? 'runtime'),
      seconds,
    });
  }
  return out;
}

/** {@link threadCpu} summed by role. */
export function threadCpuByRole(pid: number | 'self' = 'self'): Partial<Record<ThreadRole, number>> {
  const out: Partial<Record<ThreadRole, number>> = {};
  for (const t of threadCpu(pid)) out[t.role] = (out[t.role] ?? 0) + t.seconds;
  return out;
}
