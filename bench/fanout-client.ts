/**
 * The clients of bench/fanout.bench.ts, in their own process as a hospital's integrators and
 * technicians would be: N WebSockets (graphql-transport-ws, one `studyEvents` subscription each, bare
 * `ws` so the client's own cost stays small) and an open-loop `updateStudy` generator on keep-alive
 * HTTP. Each update writes its sequence number into the study's description; a delivery's latency is
 * from the moment its update was sent to the moment the subscriber parsed the event (one clock: both
 * ends live here). IPC with the parent is outside the timed part.
 */
import http from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import WebSocket from 'ws';

/** One subscriber: its token and, for a filtered one, its patient. */
export interface ClientSubscriber {
  token: string;
  patientId: string | null;
}

/** One scenario, as the parent sends it. */
export interface ClientScenario {
  name: string;
  url: string;
  subscribers: ClientSubscriber[];
  /** The study each event updates (round robin: each study's next update comes many events later). */
  events: { studyId: string; patientId: string }[];
  /** Events per second. */
  rate: number;
  /** How many events. */
  count: number;
  /** Technician tokens, used in turn (each stays under its rate budget). */
  technicians: string[];
}

/** What the client measured. */
export interface ClientResult {
  /** Delivery latencies (ms), every delivery. */
  delivery: number[];
  /** updateStudy round trips (ms). */
  mutation: number[];
  mutationErrors: number;
  /** The first few failed answers, for the report. */
  mutationErrorSamples: string[];
  /** CPU this client process used during the run (ms). */
  clientCpuMs: number;
  /**
   * This client's own stalls during the run (event-loop delay p99/max, longest GC pause, ms): a stall
   * here delays the timestamps of every answer and frame it holds up, so a tail that matches it is the
   * harness's, not the server's.
   */
  clientStallMs: { loopP99: number; loopMax: number; gcMax: number };
  expected: number;
  received: number;
  /** Deliveries of an event a subscriber should not have had, or twice. */
  unexpected: number;
  /** Sockets closed by the server during the run, by close code. */
  closed: Record<string, number>;
}

const QUERY_ALL = 'subscription { studyEvents { change study { id description status priority } } }';
const QUERY_PATIENT =
  'subscription($p: ID) { studyEvents(patientId: $p) { change study { id description status priority } } }';
const MUTATION = 'mutation($id: ID!, $d: String!) { updateStudy(id: $id, input: {description: $d}) { id } }';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, token: string, body: string): Promise<{ status: number; json: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/graphql`);
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let sockets: WebSocket[] = [];
let current: {
  scenario: ClientScenario;
  tag: string;
  sentAt: Float64Array;
  /** Per event: subscribers that should get it, and deliveries so far. */
  wanted: Int32Array;
  got: Int32Array;
  delivery: number[];
  unexpected: number;
  closed: Record<string, number>;
} | null = null;

/** Opens one socket, subscribes once, resolves when the server acknowledged the connection. */
function open(url: string, sub: ClientSubscriber, index: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    socket.on('open', () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${sub.token}` } }),
      ),
    );
    socket.on('error', reject);
    socket.on('close', (code) => {
      if (current) current.closed[code] = (current.closed[code] ?? 0) + 1;
    });
    socket.on('message', (data) => {
      const now = performance.now();
      const text = String(data);
      if (text.startsWith('{"id"') && current) {
        // A `next` frame: only its description is read (the client's cost is not the server's).
        const at = text.indexOf('"description":"');
        const description = at < 0 ? '' : text.slice(at + 15, text.indexOf('"', at + 15));
        const [tag, seq] = description.split('#');
        const i = Number(seq);
        if (tag !== current.tag || !(i >= 0) || current.got[i]! >= current.wanted[i]!) {
          current.unexpected++;
          return;
        }
        current.got[i]!++;
        current.delivery.push(now - current.sentAt[i]!);
        return;
      }
      const message = JSON.parse(text) as { type: string };
      if (message.type === 'connection_ack') {
        socket.send(
          JSON.stringify({
            id: String(index),
            type: 'subscribe',
            payload: sub.patientId
              ? { query: QUERY_PATIENT, variables: { p: sub.patientId } }
              : { query: QUERY_ALL },
          }),
        );
        resolve(socket);
      }
    });
  });
}

async function connect(scenario: ClientScenario): Promise<void> {
  const batch = 50;
  for (let i = 0; i < scenario.subscribers.length; i += batch)
    sockets.push(
      ...(await Promise.all(
        scenario.subscribers.slice(i, i + batch).map((s, j) => open(scenario.url, s, i + j)),
      )),
    );
}

async function run(scenario: ClientScenario, tag: string): Promise<ClientResult> {
  const perPatient = new Map<string, number>();
  let broadcast = 0;
  for (const s of scenario.subscribers)
    if (s.patientId) perPatient.set(s.patientId, (perPatient.get(s.patientId) ?? 0) + 1);
    else broadcast++;
  const wanted = new Int32Array(scenario.count);
  for (let i = 0; i < scenario.count; i++) {
    const e = scenario.events[i % scenario.events.length]!;
    wanted[i] = broadcast + (perPatient.get(e.patientId) ?? 0);
  }
  current = {
    scenario,
    tag,
    sentAt: new Float64Array(scenario.count),
    wanted,
    got: new Int32Array(scenario.count),
    delivery: [],
    unexpected: 0,
    closed: {},
  };
  const mutation: number[] = [];
  let mutationErrors = 0;
  const mutationErrorSamples: string[] = [];
  const cpu = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  let gcMax = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  loop.enable();
  const answers: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < scenario.count; i++) {
    // Open loop: each update at its slot, whatever the answers before it.
    const wait = start + (i * 1000) / scenario.rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const e = scenario.events[i % scenario.events.length]!;
    const body = JSON.stringify({ query: MUTATION, variables: { id: e.studyId, d: `${tag}#${i}` } });
    const t0 = performance.now();
    current.sentAt[i] = t0;
    answers.push(
      post(scenario.url, scenario.technicians[i % scenario.technicians.length]!, body).then(
        (r) => {
          mutation.push(performance.now() - t0);
          if (r.status !== 200 || r.json.includes('"errors"')) {
            mutationErrors++;
            if (mutationErrorSamples.length < 3)
              mutationErrorSamples.push(`${r.status} ${r.json.slice(0, 300)}`);
          }
        },
        (error: Error) => {
          mutation.push(performance.now() - t0);
          mutationErrors++;
          if (mutationErrorSamples.length < 3) mutationErrorSamples.push(error.message);
        },
      ),
    );
  }
  await Promise.all(answers);
  const expected = wanted.reduce((a, b) => a + b, 0);
  const deadline = performance.now() + 10_000;
  while (current.delivery.length < expected && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const result: ClientResult = {
    delivery: current.delivery,
    mutation,
    mutationErrors,
    mutationErrorSamples,
    clientCpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu)),
    clientStallMs: { loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, gcMax },
    expected,
    received: current.delivery.length,
    unexpected: current.unexpected,
    closed: current.closed,
  };
  loop.disable();
  gcObserver.disconnect();
  current = null;
  return result;
}

async function closeAll(): Promise<void> {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.readyState === WebSocket.CLOSED) return resolve();
          s.once('close', () => resolve());
          s.close(1000);
        }),
    ),
  );
  sockets = [];
}

type Ask =
  | { type: 'connect'; scenario: ClientScenario }
  | { type: 'run'; scenario: ClientScenario; tag: string }
  | { type: 'close' };

process.on('message', (ask: Ask) => {
  const reply = (p: Promise<unknown>, type: string) =>
    p.then(
      (value) => process.send!({ type, value }),
      (error: Error) => process.send!({ type, error: error.message }),
    );
  if (ask.type === 'connect') void reply(connect(ask.scenario), 'connected');
  else if (ask.type === 'run') void reply(run(ask.scenario, ask.tag), 'result');
  else void reply(closeAll(), 'closed');
});
process.on('disconnect', () => {
  agent.destroy();
  for (const s of sockets) s.terminate();
  process.exit(0);
});
