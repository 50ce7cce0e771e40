/**
 * Where the SDK's per-request cost sits, layer by layer, against the lean server at one
 * concurrency (BENCH_CONCURRENCY, default 64): raw undici with a static header; raw undici with the
 * SDK's headers; HttpClient.send; the pipeline (ApiCaller.perform) without and with the reply check; client.listKeys().
 * Alternating 0.5 s slices, BENCH_ROUNDS rounds (default 5); each layer as a ratio to the raw floor.
 * Run: node --import tsx bench/hot-path-layers.ts
 */
import { rm } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { assembleClient } from '../src/client/assemble.js';
import { MeshClient } from '../src/client/mesh-client.js';
import { LIST_KEYS } from '../src/client/operations.js';
import { SDK_VERSION } from '../src/version.js';
import { type Call, LEAN_TOKEN, LEAN_USER_ID, leanTokenDirectory, slice, startLeanServer } from './lean.js';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const lean = await startLeanServer();
const { url } = lean;
const directory = await leanTokenDirectory('mesh-bench-layers-');
const env = { MESH_API_URL: url, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory };
const client = new MeshClient({ env });
const parts = assembleClient({ env });
const query = `?userId=${LEAN_USER_ID}`;
const path = `/api/v1/listKeys${query}`;
/** The same operation without its reply check: the pipeline's own cost. */
const unchecked = { ...LIST_KEYS, reply: undefined };
const pool = new Agent({ connections: 64 });
const userAgent = `mesh-sdk/${SDK_VERSION} node/${process.versions.node}`;

const variants: Array<[string, Call]> = [
  [
    'raw undici, static header',
    async () =>
      (await request(`${url}${path}`, { headers: { authorization: `Bearer ${LEAN_TOKEN}` }, dispatcher: pool })).body.json(),
  ],
  [
    'raw undici, SDK headers',
    async () =>
      (
        await request(`${url}${path}`, {
          headers: { accept: 'application/json', 'user-agent': userAgent, authorization: `Bearer ${LEAN_TOKEN}` },
          dispatcher: pool,
        })
      ).body.json(),
  ],
  ['HttpClient.send', () => parts.http.send({ method: 'GET', path, token: LEAN_TOKEN })],
  ['ApiCaller.perform (no check)', () => parts.api.perform(unchecked, { query })],
  ['ApiCaller.perform', () => parts.api.perform(LIST_KEYS, { query })],
  ['client.listKeys()', () => client.listKeys()],
];
for (const [, call] of variants) for (let i = 0; i < 500; i++) await call();

const ratios = new Map<string, number[]>(variants.map(([name]) => [name, []]));
const rates = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  const totals = new Map<string, [number, number]>(variants.map(([name]) => [name, [0, 0]]));
  for (let s = 0; s < 2; s++) {
    for (const [name, call] of s % 2 ? [...variants].reverse() : variants) {
      const { count, seconds } = await slice(call, concurrency, 500);
      const total = totals.get(name) as [number, number];
      total[0] += count;
      total[1] += seconds;
    }
  }
  const floor = totals.get(variants[0]?.[0] as string) as [number, number];
  for (const [name, [count, seconds]] of totals) {
    rates.get(name)?.push(count / seconds);
    ratios.get(name)?.push(count / seconds / (floor[0] / floor[1]));
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
console.log(`c=${concurrency}, ${rounds} rounds`);
for (const [name] of variants) {
  const r = ratios.get(name) as number[];
  console.log(
    `${name.padEnd(28)} ${String(Math.round(median(rates.get(name) as number[]))).padStart(6)} req/s  ratio ${median(r).toFixed(2)} (${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)})  us/req ${(1e6 / median(rates.get(name) as number[])).toFixed(1)}`,
  );
}
await client.close();
await parts.http.close();
await pool.close();
lean.child.kill('SIGINT');
await rm(directory, { recursive: true, force: true });
process.exit(0);
