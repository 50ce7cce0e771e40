/**
 * Authenticated requests per second, mesh-sdk `client.listKeys()` against raw `undici.request`
 * with a static header (the floor), at concurrency 1 and 64, against two servers each in its own
 * process:
 *   1. the lean server (bench/lean-server.ts: plain node:http, fixed bodies): the server costs
 *      next to nothing, so the SDK's own per-request work shows; also against the pool's own
 *      `request({origin, path})` (no URL parsed per call: a tighter floor than the goal's);
 *   2. the reference backend (dev/), with global fetch + a hand-written refresh wrapper and axios
 *      + a refresh interceptor as peers;
 *   3. streams (issue 22): deltas per second of `client.chatStream()` against a hand-written async
 *      generator over undici's body (split on blank lines, JSON.parse each `data:`, yield
 *      `choices[0].delta.content`), both reading one 20,000-delta stream that a node:http server
 *      in its own process writes at once; and the time to the first delta of each (goal >= 0.9).
 * Variants run in alternating 0.5 s slices within each round, so machine noise hits all of them
 * alike; each figure is the median over rounds, with the min-max of the per-round ratios. Then
 * heap growth over 100,000 SDK requests. Run: npm run bench:http
 * Env: BENCH_ROUNDS (default 5), BENCH_SLICES (slices per variant per round, default 3),
 * BENCH_ONLY=lean|reference|stream (one section), BENCH_HEAP=0 (skip the heap figure).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { Agent, request } from 'undici';
import { FileStore } from '../src/auth/stores/file-store.js';
import { MeshClient } from '../src/client/mesh-client.js';
import { loginTokens } from '../test/helpers/backend-login.js';
import { type Call, LEAN_TOKEN, LEAN_USER_ID, slice, startLeanServer } from './lean.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SLICES = Number(process.env.BENCH_SLICES ?? 3);
const SLICE_MS = 500;
const ONLY = process.env.BENCH_ONLY;
const GOAL = 0.95;
/** Streams: SDK deltas/s at least this share of a hand-written reader's (issue 22). */
const STREAM_GOAL = 0.9;

/** Spawns `args` and waits for a stdout line matching `ready`; answers everything printed so far. */
async function startProcess(args: string[], ready: RegExp): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, DEV_PROVIDER_PORT: '0', DEV_BACKEND_PORT: '0' },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (ready.test(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
  return { child, out };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

interface Measured {
  /** Per variant: req/s of each round. */
  rates: Map<string, number[]>;
}

/** ROUNDS rounds; in each, SLICES slices per variant, the variants taking turns. */
async function measure(variants: Array<[string, Call]>, concurrency: number): Promise<Measured> {
  const rates = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const totals = new Map<string, { count: number; seconds: number }>(
      variants.map(([name]) => [name, { count: 0, seconds: 0 }]),
    );
    for (let s = 0; s < SLICES; s++) {
      // Alternate the order too: the first slice after a switch pays for it.
      const order = s % 2 === 0 ? variants : [...variants].reverse();
      for (const [name, call] of order) {
        const { count, seconds } = await slice(call, concurrency, SLICE_MS);
        const total = totals.get(name) as { count: number; seconds: number };
        total.count += count;
        total.seconds += seconds;
      }
    }
    for (const [name, total] of totals) rates.get(name)?.push(total.count / total.seconds);
  }
  return { rates };
}

/** SDK / `peer` per round: median and min-max. */
function ratio(measured: Measured, sdk: string, peer: string): { median: number; min: number; max: number } {
  const mine = measured.rates.get(sdk) as number[];
  const theirs = measured.rates.get(peer) as number[];
  const ratios = mine.map((rate, i) => rate / (theirs[i] as number));
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

const fmt = (r: { median: number; min: number; max: number }) =>
  `${r.median.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;

const SDK = 'mesh-sdk client.listKeys()';
const RAW = 'raw undici.request (floor)';
const DIRECT = 'raw pool.request, origin + path';

async function section(title: string, variants: Array<[string, Call]>): Promise<void> {
  for (const [, call] of variants) for (let i = 0; i < 300; i++) await call(); // connections and JIT
  const results: Record<number, Measured> = {};
  for (const concurrency of [1, 64]) results[concurrency] = await measure(variants, concurrency);
  const c1 = results[1] as Measured;
  const c64 = results[64] as Measured;
  console.log(`\n${title}: GET /api/v1/listKeys, authenticated; ${ROUNDS} rounds of alternating ${SLICE_MS} ms slices`);
  console.log('median over rounds; ratios: median (min-max of the per-round ratios)\n');
  console.log('| variant | c=1 req/s | c=64 req/s | SDK / variant c=1 | SDK / variant c=64 |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name] of variants) {
    const cells = name === SDK ? ['1.00', '1.00'] : [fmt(ratio(c1, SDK, name)), fmt(ratio(c64, SDK, name))];
    const rate1 = Math.round(median(c1.rates.get(name) as number[]));
    const rate64 = Math.round(median(c64.rates.get(name) as number[]));
    console.log(`| ${name} | ${rate1} | ${rate64} | ${cells[0]} | ${cells[1]} |`);
  }
  const r1 = ratio(c1, SDK, RAW);
  const r64 = ratio(c64, SDK, RAW);
  const verdict = (r: { median: number }) => (r.median >= GOAL ? 'met' : 'NOT met');
  console.log(
    `\n${title}: SDK / raw undici c=1 ${fmt(r1)} (goal >= ${GOAL}: ${verdict(r1)}), c=64 ${fmt(r64)} (goal >= ${GOAL}: ${verdict(r64)})`,
  );
}

/** A MeshClient reading `tokens` from a file store in `directory`, as on a server. */
async function sdkClient(
  env: Record<string, string>,
  directory: string,
  tokens: { access_token: string; refresh_token?: string; expires_at: number },
): Promise<MeshClient> {
  await new FileStore({ directory }).save(tokens);
  return new MeshClient({ env: { ...env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory } });
}

const cleanup: Array<() => Promise<unknown> | unknown> = [];
const pool = new Agent({ connections: 64 });
cleanup.push(() => pool.close());
const rawUndici =
  (url: string, token: () => string): Call =>
  async () => {
    const response = await request(url, { headers: { authorization: `Bearer ${token()}` }, dispatcher: pool });
    const body = await response.body.json();
    // A floor that measured refusals would flatter nobody: only a 200 counts.
    if (response.statusCode !== 200) throw new Error(`raw undici got HTTP ${response.statusCode}`);
    return body;
  };

const rawDispatcher =
  (origin: string, path: string, token: () => string): Call =>
  async () => {
    const response = await pool.request({ origin, path, method: 'GET', headers: { authorization: `Bearer ${token()}` } });
    const body = await response.body.json();
    if (response.statusCode !== 200) throw new Error(`raw pool.request got HTTP ${response.statusCode}`);
    return body;
  };

const STREAM_DELTAS = 20_000;
const STREAM_SDK = 'mesh-sdk client.chatStream()';
const STREAM_RAW = 'hand-written generator over undici body';

/**
 * The stream server (plain JS for `node -e`, in its own process like the lean server, so that its
 * writes never share the client's event loop): the profile the client registers with, and on the
 * chat path argv[1] events of one token each, then `[DONE]`, all written at once (the fastest
 * server: only the reading shows). Prints `STREAM_URL=...`; ends with its parent.
 */
const STREAM_SERVER = `
const { createServer } = require('node:http');
const event = 'data: {"choices":[{"delta":{"content":"tok "}}]}\\n\\n';
const body = Buffer.from(event.repeat(Number(process.argv[1])) + 'data: [DONE]\\n\\n');
const server = createServer((req, res) => {
  req.resume();
  if (req.url === '/auth/profile') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"bench-user"}');
  if (req.url !== '/v1/mesh/chat') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(body);
  res.end();
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write('STREAM_URL=http://127.0.0.1:' + server.address().port + '\\n'));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** What people write without an SDK: split on blank lines, parse each `data:` JSON, yield its delta's content. */
async function* handWrittenDeltas(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ')) continue;
      const data = event.slice(6);
      if (data === '[DONE]') return;
      const content = JSON.parse(data).choices?.[0]?.delta?.content;
      if (content) yield content;
    }
  }
}

/** The same POST the SDK sends, over the shared pool, read by the hand-written generator. */
async function* rawChatStream(url: string): AsyncGenerator<string> {
  const response = await request(`${url}/v1/mesh/chat`, {
    method: 'POST',
    headers: { authorization: 'Bearer mesh_bench_stream', 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true }),
    dispatcher: pool,
  });
  if (response.statusCode !== 200) throw new Error(`raw stream got HTTP ${response.statusCode}`);
  yield* handWrittenDeltas(response.body);
}

/** One whole stream as a Call: records the time to its first delta (ms) and checks that every delta came. */
const timedStream =
  (open: () => AsyncIterable<string>, firsts: number[]): Call =>
  async () => {
    const started = performance.now();
    let count = 0;
    for await (const _delta of open()) if (count++ === 0) firsts.push(performance.now() - started);
    if (count !== STREAM_DELTAS) throw new Error(`a stream gave ${count} deltas, not ${STREAM_DELTAS}`);
  };

/** Deltas per second and time to the first delta, SDK and hand-written side by side. */
async function streamSection(variants: Array<[string, Call]>, firsts: Map<string, number[]>): Promise<void> {
  for (const [, call] of variants) for (let i = 0; i < 20; i++) await call(); // connections and JIT
  for (const times of firsts.values()) times.length = 0;
  const measured = await measure(variants, 1);
  // measure() counts streams per second: deltas per second from here on.
  for (const [name, rates] of measured.rates)
    measured.rates.set(
      name,
      rates.map((rate) => rate * STREAM_DELTAS),
    );
  console.log(
    `\nStreams: one POST /v1/mesh/chat answering ${STREAM_DELTAS} deltas at once (node:http, own process); ${ROUNDS} rounds of alternating ${SLICE_MS} ms slices`,
  );
  console.log('median over rounds; ratio: median (min-max of the per-round ratios); first delta: median over all streams\n');
  console.log('| variant | deltas/s | us per delta | SDK / variant | first delta, ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name] of variants) {
    const rate = median(measured.rates.get(name) as number[]);
    const cell = name === STREAM_SDK ? '1.00' : fmt(ratio(measured, STREAM_SDK, name));
    const first = median(firsts.get(name) as number[]);
    console.log(`| ${name} | ${Math.round(rate)} | ${(1e6 / rate).toFixed(2)} | ${cell} | ${first.toFixed(2)} |`);
  }
  const r = ratio(measured, STREAM_SDK, STREAM_RAW);
  const sdkFirst = median(firsts.get(STREAM_SDK) as number[]);
  const rawFirst = median(firsts.get(STREAM_RAW) as number[]);
  console.log(
    `\nStreams: SDK / hand-written deltas/s ${fmt(r)} (goal >= ${STREAM_GOAL}: ${r.median >= STREAM_GOAL ? 'met' : 'NOT met'}); first delta SDK ${sdkFirst.toFixed(2)} ms, hand-written ${rawFirst.toFixed(2)} ms`,
  );
}

// Shared by the request sections: the reference stack (its env configures the SDK for either server).
const stackEnv: Record<string, string> = {};
if (ONLY === undefined || ONLY === 'lean' || ONLY === 'reference') {
  const stackProcess = await startProcess(['--import', 'tsx', 'dev/main.ts'], /Press Ctrl-C/);
  cleanup.push(() => stackProcess.child.kill('SIGINT'));
  for (const match of stackProcess.out.matchAll(/export (\w+)=(\S+)/g)) stackEnv[match[1] as string] = match[2] as string;
}
const apiUrl = stackEnv.MESH_API_URL as string;
const directory = await mkdtemp(join(tmpdir(), 'mesh-bench-http-'));
cleanup.push(() => rm(directory, { recursive: true, force: true }));

let heapClient: MeshClient | undefined;

// 1. The lean server.
if (ONLY === undefined || ONLY === 'lean') {
  const lean = await startLeanServer();
  cleanup.push(() => lean.child.kill('SIGINT'));
  const leanUrl = lean.url;
  const leanToken = LEAN_TOKEN;
  const client = await sdkClient({ ...stackEnv, MESH_API_URL: leanUrl }, join(directory, 'lean'), {
    access_token: leanToken,
    refresh_token: 'lean-bench-refresh',
    expires_at: Math.floor(Date.now() / 1000) + 86_400,
  });
  cleanup.push(() => client.close());
  heapClient = client;
  await section('Lean server (node:http, fixed bodies, own process)', [
    [RAW, rawUndici(`${leanUrl}/api/v1/listKeys?userId=${LEAN_USER_ID}`, () => leanToken)],
    [SDK, () => client.listKeys()],
    // A tighter floor than the goal's: no URL parsed per call, as the SDK now sends.
    [DIRECT, rawDispatcher(leanUrl, `/api/v1/listKeys?userId=${LEAN_USER_ID}`, () => leanToken)],
  ]);
}

// 2. The reference backend.
if (ONLY === undefined || ONLY === 'reference') {
  await fetch(`${apiUrl}/__dev/settings`, { method: 'POST', body: JSON.stringify({ rateLimitPerMinute: 100_000_000 }) });
  // The stack in its own process advertises pkce only under DEV_BACKEND_CAPABILITIES.
  const pkce = Boolean(process.env.DEV_BACKEND_CAPABILITIES);
  const tokens = await loginTokens({ apiUrl } as never, { login: 'bench@example.test', pkce });
  let accessToken = tokens.access_token;
  let refreshToken = tokens.refresh_token as string;
  let expiresAt = Date.now() + tokens.expires_in * 1000;
  // The user meets the backend first (GET /auth/profile registers it and gives the user id listKeys needs).
  const profile = (await (
    await fetch(`${apiUrl}/auth/profile`, { headers: { authorization: `Bearer ${accessToken}` } })
  ).json()) as { id?: string; profile?: { id: string } };
  const keysUrl = `${apiUrl}/api/v1/listKeys?userId=${encodeURIComponent((profile.id ?? profile.profile?.id) as string)}`;

  const refresh = async (): Promise<void> => {
    const response = await fetch(`${apiUrl}/auth/refresh-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken, client_type: 'web' }),
    });
    const body = (await response.json()) as { access_token: string; refresh_token?: string; expires_in: number };
    accessToken = body.access_token;
    refreshToken = body.refresh_token ?? refreshToken;
    expiresAt = Date.now() + body.expires_in * 1000;
  };

  // What people write with fetch: a refresh-ahead check and a retry after a 401/404.
  const fetchWithRefresh: Call = async () => {
    if (Date.now() > expiresAt - 300_000) await refresh();
    let response = await fetch(keysUrl, { headers: { authorization: `Bearer ${accessToken}` } });
    if (response.status === 401 || response.status === 404) {
      await response.body?.cancel();
      await refresh();
      response = await fetch(keysUrl, { headers: { authorization: `Bearer ${accessToken}` } });
    }
    return response.json();
  };

  // axios with the usual interceptors (token on the way out, refresh on a 401/404 on the way back).
  const instance = axios.create({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) });
  instance.interceptors.request.use((config) => {
    config.headers.Authorization = `Bearer ${accessToken}`;
    return config;
  });
  instance.interceptors.response.use(undefined, async (error) => {
    const status = error.response?.status;
    if ((status === 401 || status === 404) && !error.config._retried) {
      error.config._retried = true;
      await refresh();
      return instance.request(error.config);
    }
    throw error;
  });
  const axiosWithInterceptor: Call = async () => (await instance.get(keysUrl)).data;

  const client = await sdkClient(stackEnv, join(directory, 'reference'), {
    access_token: accessToken,
    refresh_token: refreshToken,
    expires_at: Math.floor(expiresAt / 1000),
  });
  cleanup.push(() => client.close());
  heapClient ??= client;
  await section('Reference backend (dev/, own process)', [
    [RAW, rawUndici(keysUrl, () => accessToken)],
    [SDK, () => client.listKeys()],
    ['fetch + hand-written refresh', fetchWithRefresh],
    ['axios + refresh interceptor', axiosWithInterceptor],
  ]);
}

// 3. Streams: one chat stream of STREAM_DELTAS deltas, SDK against a hand-written reader.
if (ONLY === undefined || ONLY === 'stream') {
  const server = await startProcess(['-e', STREAM_SERVER, String(STREAM_DELTAS)], /STREAM_URL=\S+\n/);
  cleanup.push(() => server.child.kill('SIGINT'));
  const streamUrl = (/STREAM_URL=(\S+)\n/.exec(server.out) as RegExpExecArray)[1] as string;
  // An API key: the client registers once (GET /auth/profile), then each stream is one POST.
  const client = new MeshClient({ env: { CI: 'true', MESH_API_URL: streamUrl, MESH_API_KEY: 'mesh_bench_stream' } });
  cleanup.push(() => client.close());
  const firsts = new Map<string, number[]>([
    [STREAM_SDK, []],
    [STREAM_RAW, []],
  ]);
  await streamSection(
    [
      [STREAM_SDK, timedStream(() => client.chatStream('Tell me a long story'), firsts.get(STREAM_SDK) as number[])],
      [STREAM_RAW, timedStream(() => rawChatStream(streamUrl), firsts.get(STREAM_RAW) as number[])],
    ],
    firsts,
  );
}

// Heap growth over 100,000 SDK requests (after GC).
const gc = (globalThis as { gc?: () => void }).gc;
if (process.env.BENCH_HEAP === '0' || !heapClient) {
  // skipped on request
} else if (gc) {
  const client = heapClient;
  gc();
  const before = process.memoryUsage().heapUsed;
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next++ < 100_000) await client.listKeys();
    }),
  );
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  const growth = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  console.log(`\nheap growth over 100,000 SDK requests, after GC: ${growth.toFixed(2)} MB (goal < 5 MB)`);
} else {
  console.log('\nheap growth: run with --expose-gc (npm run bench:http does)');
}

for (const step of cleanup.reverse()) await step();
process.exit(0);
