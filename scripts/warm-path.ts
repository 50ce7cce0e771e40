// The files of src/ a warm call runs through: V8's precise coverage, reset after a first call and
// taken after a second one, lists every function that ran; their files are the rooms the call
// entered. Against the lean bench server (no I/O but the call's own).
//
//   node --import tsx scripts/warm-path.ts [--json] [--max N]
//
// Exits 1 when a warm call runs through more than N files (default 7, issue 22's bound).
import { rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leanTokenDirectory, startLeanServer } from '../bench/lean.js';
import { MeshClient } from '../src/client/mesh-client.js';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = resolve(ROOT, 'src');

interface Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}

/** The src/ files (and their functions) that ran since the last take. */
function ranIn(coverage: Coverage): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const script of coverage.result) {
    if (!script.url.startsWith('file:')) continue;
    const path = fileURLToPath(script.url);
    if (!path.startsWith(SRC)) continue;
    const ran = script.functions.filter((fn) => (fn.ranges[0]?.count ?? 0) > 0).map((fn) => fn.functionName || '(anonymous)');
    if (ran.length > 0) files.set(relative(ROOT, path), ran);
  }
  return files;
}

const lean = await startLeanServer();
const directory = await leanTokenDirectory('mesh-warm-path-');
const client = new MeshClient({
  env: { MESH_API_URL: lean.url, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
});
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });

const report: Record<string, Record<string, string[]>> = {};
for (const [name, call] of [
  ['chat', () => client.chat('Hello')],
  ['listKeys', () => client.listKeys()],
] as const) {
  // The first call loads the token and starts what runs beside it (the profile, /auth/config);
  // a second one and a pause let all of that land before the counts are reset.
  for (let warmUp = 0; warmUp < 2; warmUp++) {
    await call();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await session.post('Profiler.takePreciseCoverage'); // resets the counts
  await call();
  const files = ranIn((await session.post('Profiler.takePreciseCoverage')) as Coverage);
  report[name] = Object.fromEntries(files);
}
await session.post('Profiler.stopPreciseCoverage');
session.disconnect();
lean.child.kill();
await rm(directory, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});

const maxAt = process.argv.indexOf('--max');
const max = maxAt === -1 ? 7 : Number(process.argv[maxAt + 1]);
const over = Object.entries(report).filter(([, files]) => Object.keys(files).length > max);

if (process.argv.includes('--json')) console.log(JSON.stringify(report));
else {
  for (const [name, files] of Object.entries(report)) {
    console.log(`warm ${name}(): ${Object.keys(files).length} files of src/`);
    for (const [file, fns] of Object.entries(files)) console.log(`  ${file}: ${fns.join(', ')}`);
  }
}
for (const [name, files] of over)
  console.error(`warm ${name}() runs through ${Object.keys(files).length} files of src/, more than ${max}`);
process.exit(over.length > 0 ? 1 : 0);
