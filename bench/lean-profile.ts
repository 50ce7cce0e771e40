/**
 * For profiling the hot path: `client.listKeys()` at concurrency 64 against the lean server (in
 * its own process) for BENCH_SECONDS (default 8). Run:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/lean-profile.ts
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../src/auth/stores/file-store.js';
import { MeshClient } from '../src/client/mesh-client.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const lean = spawn(process.execPath, ['--import', 'tsx', 'bench/lean-server.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => {
  let out = '';
  lean.stdout.on('data', (chunk) => {
    out += chunk;
    const match = /LEAN_URL=(\S+)\n/.exec(out);
    if (match) resolve(match[1] as string);
  });
});
const directory = await mkdtemp(join(tmpdir(), 'mesh-bench-profile-'));
await new FileStore({ directory }).save({
  access_token: 'lean-bench-token',
  refresh_token: 'lean-bench-refresh',
  expires_at: Math.floor(Date.now() / 1000) + 86_400,
});
const client = new MeshClient({
  env: { MESH_API_URL: url, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
});
for (let i = 0; i < 500; i++) await client.listKeys();
let count = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await client.listKeys();
      count++;
    }
  }),
);
console.log(`${Math.round(count / ((performance.now() - started) / 1000))} req/s at c=${concurrency}`);
await client.close();
lean.kill('SIGINT');
await rm(directory, { recursive: true, force: true });
process.exit(0);
