/**
 * The HTTP client of bench/graphql-overhead.bench.ts, in its own process as a hospital front-end would
 * be: it receives `{ id, url, token, body }` over IPC, sends one POST /graphql on a keep-alive socket,
 * and answers `{ id, ms, status, json }` with the round trip it measured (request written → response
 * parsed). IPC is outside the timed part.
 */
import http from 'node:http';

interface Ask {
  id: number;
  url: string;
  token: string;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(ask: Ask): Promise<{ ms: number; status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${ask.url}/graphql`);
    const t0 = performance.now();
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${ask.token}`,
          'content-length': Buffer.byteLength(ask.body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const json: unknown = JSON.parse(Buffer.concat(chunks).toString());
          resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(ask.body);
  });
}

process.on('message', (ask: Ask) => {
  post(ask).then(
    (r) => process.send!({ id: ask.id, ...r }),
    (error: Error) => process.send!({ id: ask.id, error: error.message }),
  );
});
process.on('disconnect', () => {
  agent.destroy();
  process.exit(0);
});
