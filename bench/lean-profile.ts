/**
 * For profiling the hot path: `client.listKeys()` at concurrency 64 against the lean server (in
 * its own process) for BENCH_SECONDS (default 8). Run:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/lean-profile.ts
 */
import { rm } from 'node:fs/promises';
import { MeshClient } from '../src/client/mesh-client.js';
import { leanTokenDirectory, slice, startLeanServer } from './lean.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const lean = await startLeanServer();
const directory = await leanTokenDirectory('mesh-bench-profile-');
const client = new MeshClient({
  env: { MESH_API_URL: lean.url, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
});
for (let i = 0; i < 500; i++) await client.listKeys();
const { count, seconds: took } = await slice(() => client.listKeys(), concurrency, seconds * 1000);
console.log(`${Math.round(count / took)} req/s at c=${concurrency}`);
await client.close();
lean.child.kill('SIGINT');
await rm(directory, { recursive: true, force: true });
process.exit(0);
