/**
 * Latency of calls across windows that contain token refreshes (issue 15, goal 3): nobody waits
 * for a refresh while the token is valid. The local stack runs in a process of its own
 * (bench/stack-process.ts) with 3 s access tokens, so a dozen refreshes fall inside the run, and a
 * backend latency of 20 ms per answer (a deployment across a network: on bare loopback the
 * machine's own jitter would be the figure). Side by side, taking turns: mesh-sdk
 * `client.listKeys()` (refresh ahead of expiry in the background) and what a user writes by hand
 * around raw undici (refresh when half the lifetime is gone, awaited by the caller that finds it
 * due). BENCH_WORKERS (default 1) callers, one call after another. Prints p50, p99 and p99/p50 per
 * variant; goal for the SDK: p99 <= 1.2x p50. Run: npm run bench:refresh
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { FileStore } from '../src/auth/stores/file-store.js';
import { MeshClient } from '../src/client/mesh-client.js';
import { loginTokens } from '../test/helpers/backend-login.js';

const TTL_SECONDS = Number(process.env.BENCH_TTL ?? 3);
/** The backend's delay before each answer: a deployment a few ms away, as real ones are (loopback jitter would otherwise be the figure). */
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 18_000); // per variant: six lifetimes of a 3 s token
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
const PAUSE_MS = 1; // between one worker's calls: a steady stream, not a flood (queueing is not what is measured)
const ROUNDS = 3;
const GOAL = 1.2;

type Call = () => Promise<unknown>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function latencies(call: Call, runMs: number): Promise<number[]> {
  const samples: number[] = [];
  const until = performance.now() + runMs;
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        await call();
        samples.push(performance.now() - started);
        await sleep(PAUSE_MS);
      }
    }),
  );
  return samples;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

// The stack in its own process: the server must not share the measured event loop.
const server = spawn(process.execPath, ['--import', 'tsx', 'bench/stack-process.ts'], {
  env: { ...process.env, BENCH_TTL: String(TTL_SECONDS), BENCH_LATENCY_MS: String(LATENCY_MS) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [firstLine] = (await once(server.stdout, 'data')) as [Buffer];
const stack = JSON.parse(firstLine.toString()) as { apiUrl: string; env: Record<string, string> };
const pkce = Boolean(process.env.DEV_BACKEND_CAPABILITIES);
const login = async () => {
  const reply = await loginTokens({ apiUrl: stack.apiUrl } as never, { login: 'bench@example.test', pkce });
  return {
    access_token: reply.access_token,
    refresh_token: reply.refresh_token,
    token_type: 'Bearer',
    expires_at: Math.floor(Date.now() / 1000) + reply.expires_in,
  };
};
const refreshCount = async () => {
  const response = await request(`${stack.apiUrl}/__dev/counters`);
  return ((await response.body.json()) as { backend: { refreshes: number } }).backend.refreshes;
};
const directory = await mkdtemp(join(tmpdir(), 'mesh-bench-refresh-'));
try {
  // The SDK: a file store holding a fresh login, as on a server.
  await new FileStore({ directory }).save(await login());
  const client = new MeshClient({
    env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
    interactive: false,
  });
  const userId = (await client.profile()).id;

  // By hand: raw undici, the token refreshed when it is within a second of expiry, the caller
  // that finds it due awaits the refresh (shared by the others through one promise).
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  let manual = await login();
  let refreshing: Promise<void> | undefined;
  const refreshByHand = async () => {
    const response = await request(`${stack.apiUrl}/auth/refresh-token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: manual.refresh_token, client_type: 'web' }),
    });
    const reply = (await response.body.json()) as { access_token: string; refresh_token?: string; expires_in: number };
    manual = {
      ...manual,
      access_token: reply.access_token,
      refresh_token: reply.refresh_token ?? manual.refresh_token,
      expires_at: Math.floor(Date.now() / 1000) + reply.expires_in,
    };
  };
  const byHand: Call = async () => {
    if (manual.expires_at * 1000 - Date.now() < TTL_SECONDS * 500) {
      refreshing ??= refreshByHand().finally(() => {
        refreshing = undefined;
      });
      await refreshing;
    }
    const response = await request(`${stack.apiUrl}/api/v1/listKeys?userId=${encodeURIComponent(userId)}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${manual.access_token}` },
    });
    await response.body.json();
  };
  const sdk: Call = () => client.listKeys();

  const variants: Array<[string, Call]> = [
    ['mesh-sdk client.listKeys() (background refresh)', sdk],
    ['raw undici + refresh awaited when due (by hand)', byHand],
  ];
  for (const [, call] of variants) for (let i = 0; i < 200; i++) await call(); // connections and JIT
  const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const refreshesBefore = await refreshCount();
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, call] of order) samples.get(name)?.push(...(await latencies(call, RUN_MS / ROUNDS)));
  }
  const refreshes = (await refreshCount()) - refreshesBefore;

  console.log(
    `\nCalls across refreshes: ${WORKERS} workers, ${TTL_SECONDS} s tokens, backend latency ${LATENCY_MS} ms, ${ROUNDS} rounds taking turns, ${refreshes} refreshes in all\n`,
  );
  console.log('| variant | calls | p50 ms | p99 ms | max ms | p99 / p50 |');
  console.log('|---|---:|---:|---:|---:|---:|');
  let sdkRatio = Number.NaN;
  for (const [name] of variants) {
    const sorted = (samples.get(name) as number[]).sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    if (name.startsWith('mesh-sdk')) sdkRatio = p99 / p50;
    console.log(
      `| ${name} | ${sorted.length} | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${(sorted.at(-1) as number).toFixed(1)} | ${(p99 / p50).toFixed(2)} |`,
    );
  }
  console.log(`\nmesh-sdk p99 / p50 = ${sdkRatio.toFixed(2)} (goal <= ${GOAL}: ${sdkRatio <= GOAL ? 'met' : 'NOT met'})`);
  await client.close();
  await agent.close();
} finally {
  server.kill('SIGTERM');
  await rm(directory, { recursive: true, force: true });
}
