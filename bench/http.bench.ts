/**
 * Authenticated requests per second against the reference backend (run in its own process), at
 * concurrency 1 and 64, side by side in one run: mesh-sdk; raw undici.request with a static
 * header (the floor); global fetch with a hand-written refresh wrapper; axios with a refresh
 * interceptor. Then heap growth over 100,000 SDK requests. Run: npm run bench:http
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

const ROUNDS = 5;
const REQUESTS = { 1: 1500, 64: 6000 } as const;

async function startStackProcess(): Promise<{ apiUrl: string; env: Record<string, string>; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/main.ts'], {
    env: { ...process.env, DEV_PROVIDER_PORT: '0', DEV_BACKEND_PORT: '0' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Press Ctrl-C')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`dev stack exited ${code}`)));
  });
  const env: Record<string, string> = {};
  for (const match of out.matchAll(/export (\w+)=(\S+)/g)) env[match[1] as string] = match[2] as string;
  return { apiUrl: env.MESH_API_URL as string, env, child };
}

type Call = () => Promise<unknown>;

async function rate(call: Call, concurrency: number, total: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await call();
    }),
  );
  return total / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const stack = await startStackProcess();
const { apiUrl } = stack;
await fetch(`${apiUrl}/__dev/settings`, { method: 'POST', body: JSON.stringify({ rateLimitPerMinute: 100_000_000 }) });
// loginTokens only needs apiUrl from the stack when told whether to use PKCE (the stack in its own
// process advertises pkce only under DEV_BACKEND_CAPABILITIES).
const pkce = Boolean(process.env.DEV_BACKEND_CAPABILITIES);
const tokens = await loginTokens({ apiUrl } as never, { login: 'bench@example.test', pkce });
let accessToken = tokens.access_token;
let refreshToken = tokens.refresh_token as string;
let expiresAt = Date.now() + tokens.expires_in * 1000;
// The user meets the backend first (GET /auth/profile registers it and gives the user id listKeys needs).
const profile = (await (
  await fetch(`${apiUrl}/auth/profile`, { headers: { authorization: `Bearer ${accessToken}` } })
).json()) as {
  id?: string;
  profile?: { id: string };
};
const keysUrl = `${apiUrl}/api/v1/listKeys?userId=${encodeURIComponent((profile.id ?? profile.profile?.id) as string)}`;

async function refresh(): Promise<void> {
  const response = await fetch(`${apiUrl}/auth/refresh-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: refreshToken, client_type: 'web' }),
  });
  const body = (await response.json()) as { access_token: string; refresh_token?: string; expires_in: number };
  accessToken = body.access_token;
  refreshToken = body.refresh_token ?? refreshToken;
  expiresAt = Date.now() + body.expires_in * 1000;
}

// 1. The floor: raw undici with a static header on a keep-alive pool.
const pool = new Agent({ connections: 64 });
const rawUndici: Call = async () => {
  const response = await request(keysUrl, { headers: { authorization: `Bearer ${accessToken}` }, dispatcher: pool });
  return response.body.json();
};

// 2. What people write with fetch: a refresh-ahead check and a retry after a 401/404.
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

// 3. axios with the usual interceptors (token on the way out, refresh on a 401/404 on the way back).
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

// 4. mesh-sdk, tokens in a file store as on a server.
const directory = await mkdtemp(join(tmpdir(), 'mesh-bench-http-'));
await new FileStore({ directory }).save({
  access_token: accessToken,
  refresh_token: refreshToken,
  expires_at: Math.floor(expiresAt / 1000),
});
const client = new MeshClient({ env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory } });
const sdk: Call = () => client.listKeys();

const variants: Array<[string, Call]> = [
  ['raw undici.request (floor)', rawUndici],
  ['mesh-sdk client.listKeys()', sdk],
  ['fetch + hand-written refresh', fetchWithRefresh],
  ['axios + refresh interceptor', axiosWithInterceptor],
];
for (const [, call] of variants) for (let i = 0; i < 200; i++) await call(); // warm up connections and JIT

const results: Record<string, Record<number, number>> = {};
for (const concurrency of [1, 64] as const) {
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of variants) samples.get(name)?.push(await rate(call, concurrency, REQUESTS[concurrency]));
  }
  for (const [name] of variants) {
    results[name] = { ...results[name], [concurrency]: median(samples.get(name) ?? []) };
  }
}

const floor = results['raw undici.request (floor)'] as Record<number, number>;
const mine = results['mesh-sdk client.listKeys()'] as Record<number, number>;
console.log(`\nGET /api/v1/listKeys, authenticated; median of ${ROUNDS} interleaved rounds\n`);
console.log('| variant | c=1 req/s | c=64 req/s | SDK / variant c=1 | SDK / variant c=64 |');
console.log('|---|---:|---:|---:|---:|');
for (const [name] of variants) {
  const r = results[name] as Record<number, number>;
  const ratio = (c: 1 | 64) => ((mine[c] as number) / (r[c] as number)).toFixed(2);
  console.log(`| ${name} | ${Math.round(r[1] as number)} | ${Math.round(r[64] as number)} | ${ratio(1)} | ${ratio(64)} |`);
}
console.log(
  `\nSDK / raw undici: c=1 ${((mine[1] as number) / (floor[1] as number)).toFixed(2)}, c=64 ${((mine[64] as number) / (floor[64] as number)).toFixed(2)} (goal >= 0.90)`,
);

// Heap growth over 100,000 SDK requests (after GC).
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  gc();
  const before = process.memoryUsage().heapUsed;
  await rate(sdk, 64, 100_000);
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  const growth = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  console.log(`heap growth over 100,000 SDK requests, after GC: ${growth.toFixed(2)} MB (goal < 5 MB)`);
} else {
  console.log('heap growth: run with --expose-gc (npm run bench:http does)');
}

await client.close();
await pool.close();
stack.child.kill('SIGINT');
await rm(directory, { recursive: true, force: true });
process.exit(0);
