import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** An API server running as its own OS process (as in production), started from source. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Every line of stdout and stderr so far; complete once {@link stop} resolves. */
  logs: string[];
  /** Signals the process and resolves with its exit code once it exited and its output was all read. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/**
 * SIGKILLs every server process this test file started that is still running, including ones still
 * starting (a hook that timed out while they started must not leave them running).
 */
export async function killAllServerProcesses(): Promise<void> {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/**
 * Starts `scripts/start.js` with the given environment and resolves when the server logs that it is
 * ready (its URL is read from the log line). Rejects if the process exits first or after `timeoutMs`.
 */
export function startServerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', 'start.js')], {
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  const logs: string[] = [];
  const outputRead = Promise.all(
    [child.stdout!, child.stderr!].map((s) => new Promise<void>((done) => s.once('close', () => done()))),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not become ready in ${timeoutMs} ms:\n${logs.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'Care Companion API ready' && entry.url) {
          clearTimeout(timer);
          resolve({
            child,
            url: entry.url.replace(/\/graphql$/, ''),
            logs,
            stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
              const code = await new Promise<number | null>((done) => {
                // A process killed by a signal has no exit code, only a signal code.
                if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
                child.once('exit', (c) => done(c));
                child.kill(signal);
              });
              await outputRead;
              return code;
            },
          });
        }
      } catch {
        // non-JSON output (warnings) is kept in logs only
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready:\n${logs.join('\n')}`));
    });
  });
}
