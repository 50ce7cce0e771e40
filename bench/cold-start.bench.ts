/**
 * Cold start and first call in a fresh process (issue 15, goals 2 and 4), as whole processes run
 * in alternating pairs (A, B, A, B, ...) so that the machine's drift falls on both sides alike:
 *   (a) `await import('undici')` vs `await import('mesh-sdk')` (the built bundle): goal <= 1.3x;
 *   (b) process start to the first reply: a raw undici script making the same authenticated GET as
 *       `listKeys()` vs `new MeshClient()` + `listKeys()` with a valid token in a file store,
 *       against the lean server (bench/lean-server.ts, its own process): goal <= 1.3x;
 *   (c) the same SDK first call with the keychain store (report only; needs gnome-keyring);
 *   (d) what `import('mesh-sdk')` loads: modules, packages and bytes, beside `import('undici')`.
 * The bundle is built into .tmp/ (never dist/). Run: npm run bench:cold. Prints figures; asserts nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { keychainSlotFor } from '../src/auth/stores/create-token-store.js';
import { FileStore } from '../src/auth/stores/file-store.js';
import { KeychainStore } from '../src/auth/stores/keychain-store.js';
import type { TokenSet } from '../src/auth/stores/token-store.js';
import { resolveConfig } from '../src/config/resolve.js';
import { keychainToolsInstalled, type PrivateBus, startKeyringBus } from '../test/helpers/dbus.js';
import { LEAN_USER_ID, startLeanServer } from './lean.js';

const ROOT = resolve(import.meta.dirname, '..');
const WORK = join(ROOT, '.tmp', 'coldbench');
const BUNDLE_DIR = join(WORK, 'dist');
const BUNDLE = pathToFileURL(join(BUNDLE_DIR, 'index.js')).href;
const PAIRS = Number(process.env.COLD_PAIRS ?? 15);
const GOAL = 1.3;

// A JWT-shaped token whose exp is far away: the SDK reads expiry from it; the lean server checks nothing.
const TOKENS: TokenSet = {
  access_token: 'eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.c2ln',
  refresh_token: 'refresh',
  token_type: 'Bearer',
  expires_at: 2_000_000_000,
};

// The scripts each measured process runs: plain ESM, no tsx, so that nothing but the subject loads.
const SCRIPTS = {
  'import-undici.mjs': `await import('undici');\n`,
  'import-sdk.mjs': `await import(${JSON.stringify(BUNDLE)});\n`,
  // The same GET listKeys() ends with, and the same reading of the token file the SDK's store does.
  'raw-first-call.mjs': `import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
const tokens = JSON.parse(await readFile(join(process.env.MESH_TOKEN_DIR, 'token.json'), 'utf8'));
const reply = await request(process.env.MESH_API_URL + '/api/v1/listKeys?userId=${LEAN_USER_ID}', {
  headers: { authorization: 'Bearer ' + tokens.access_token, accept: 'application/json' },
});
const body = await reply.body.json();
if (reply.statusCode !== 200 || !Array.isArray(body.keys)) throw new Error('unexpected reply');
process.stdout.write(performance.now().toFixed(2) + '\\n');
process.exit(0);
`,
  'sdk-first-call.mjs': `const { MeshClient } = await import(${JSON.stringify(BUNDLE)});
const keys = await new MeshClient().listKeys();
if (!Array.isArray(keys)) throw new Error('unexpected reply');
process.stdout.write(performance.now().toFixed(2) + '\\n');
process.exit(0);
`,
  // (d): every module the ESM loader resolves (the hook of test/client/cold-path-hooks.mjs) plus CommonJS's cache.
  'weight.mjs': `import { createRequire, register } from 'node:module';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
const seen = new Set();
const { port1, port2 } = new MessageChannel();
let done;
port1.on('message', (url) => (url.startsWith('data:') ? done() : seen.add(url)));
register(${JSON.stringify(pathToFileURL(join(ROOT, 'test/client/cold-path-hooks.mjs')).href)}, { data: { port: port2 }, transferList: [port2] });
await import(process.argv[2]);
const arrived = new Promise((resolve) => (done = resolve));
await import('data:text/javascript,/*end*/');
await arrived;
const files = new Set([...seen].filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u)));
for (const path of Object.keys(createRequire(import.meta.url).cache)) files.add(path);
const packages = new Set();
let bytes = 0;
for (const path of files) {
  bytes += statSync(path).size;
  const at = path.lastIndexOf('/node_modules/');
  if (at >= 0) { const p = path.slice(at + 14).split('/'); packages.add(p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0]); }
}
process.stdout.write(JSON.stringify({ modules: files.size, bytes, packages: [...packages].sort() }) + '\\n');
process.exit(0);
`,
} as const;

type Script = keyof typeof SCRIPTS;

interface Run {
  /** Parent-side wall time of the whole process, ms. */
  wall: number;
  /** What the child printed (its own `performance.now()` at the reply, when it prints one). */
  inner: number | undefined;
}

function runOnce(script: Script, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [join(WORK, script)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) fail(new Error(`${script} exited ${code}: ${err.slice(-1500)}`));
      else done({ wall, inner: out.trim() === '' ? undefined : Number(out.trim()) });
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)}`;

/** PAIRS alternating runs of A and B (after one unmeasured warm-up each: the disk cache); `pick` is the figure compared. */
async function paired(
  title: string,
  a: { label: string; script: Script; env?: NodeJS.ProcessEnv },
  b: { label: string; script: Script; env?: NodeJS.ProcessEnv },
  pick: (run: Run) => number,
  goal: number | undefined,
): Promise<void> {
  await runOnce(a.script, a.env);
  await runOnce(b.script, b.env);
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    as.push(pick(await runOnce(a.script, a.env)));
    bs.push(pick(await runOnce(b.script, b.env)));
  }
  const ratio = median(bs) / median(as);
  const pairRatios = bs.map((value, i) => value / (as[i] as number));
  console.log(`\n${title} (${PAIRS} pairs, ms: median, min-max)`);
  console.log(`  ${a.label.padEnd(52)} ${median(as).toFixed(1).padStart(7)}  ${spread(as)}`);
  console.log(`  ${b.label.padEnd(52)} ${median(bs).toFixed(1).padStart(7)}  ${spread(bs)}`);
  const verdict = goal === undefined ? '(report only)' : `goal <= ${goal}x: ${ratio <= goal ? 'met' : 'NOT met'}`;
  console.log(
    `  ratio of medians ${ratio.toFixed(2)}x; per-pair ratios ${Math.min(...pairRatios).toFixed(2)}-${Math.max(...pairRatios).toFixed(2)}  ${verdict}`,
  );
}

/** The environment of an SDK child: only what it needs, so that the user's own MESH_* never leak in. */
function sdkEnv(apiUrl: string, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', MESH_API_URL: apiUrl, ...extra };
}

await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
console.log('building the bundle into .tmp/coldbench/dist (tsup, no declarations)...');
execFileSync('npx', ['tsup', '--out-dir', BUNDLE_DIR, '--no-dts', '--silent'], {
  cwd: ROOT,
  stdio: ['ignore', 'ignore', 'inherit'],
});
for (const [name, text] of Object.entries(SCRIPTS)) await writeFile(join(WORK, name), text);

// (a) import only.
await paired(
  '(a) cold start: await import() in a fresh process, process wall time',
  { label: 'node -e "await import(\'undici\')"', script: 'import-undici.mjs' },
  { label: 'node -e "await import(\'mesh-sdk\')" (the bundle)', script: 'import-sdk.mjs' },
  (run) => run.wall,
  GOAL,
);

// (b) and (c): the first call against the lean server.
const lean = await startLeanServer();
const directory = await mkdtemp(join(tmpdir(), 'mesh-cold-bench-'));
let bus: PrivateBus | undefined;
try {
  await new FileStore({ directory }).save(TOKENS);
  const fileEnv = sdkEnv(lean.url, { MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory });
  await paired(
    '(b) first call: process start to the first reply (its performance.now()), file store, lean server',
    { label: 'raw undici: read token.json, GET /api/v1/listKeys', script: 'raw-first-call.mjs', env: fileEnv },
    { label: 'mesh-sdk: new MeshClient().listKeys()', script: 'sdk-first-call.mjs', env: fileEnv },
    (run) => run.inner ?? Number.NaN,
    GOAL,
  );
  console.log('  (the SDK also asks GET /auth/profile first: it registers the user and gives the user id)');

  if (keychainToolsInstalled()) {
    bus = await startKeyringBus();
    const config = resolveConfig({ env: { MESH_API_URL: lean.url } });
    await new KeychainStore({ ...keychainSlotFor(config), env: bus.env }).save(TOKENS);
    const keychainEnv = { ...bus.env, CI: 'true', MESH_API_URL: lean.url, MESH_TOKEN_STORE: 'keychain' };
    await paired(
      '(c) first call with the keychain store (gnome-keyring on a private D-Bus)',
      { label: 'mesh-sdk, file store', script: 'sdk-first-call.mjs', env: fileEnv },
      { label: 'mesh-sdk, keychain store', script: 'sdk-first-call.mjs', env: keychainEnv },
      (run) => run.inner ?? Number.NaN,
      undefined,
    );
  } else {
    console.log(
      '\n(c) first call with the keychain store: skipped: no Secret Service (dbus-daemon / gnome-keyring not installed)',
    );
  }
} finally {
  await bus?.stop();
  lean.child.kill();
  await rm(directory, { recursive: true, force: true });
}

// (d) the import graph's weight.
console.log("\n(d) what import() loads (ESM modules resolved + CommonJS modules), files under node_modules and the bundle's");
for (const [label, target] of [
  ["import('undici')", 'undici'],
  ["import('mesh-sdk')", BUNDLE],
] as const) {
  const text = execFileSync(process.execPath, [join(WORK, 'weight.mjs'), target], { cwd: ROOT, encoding: 'utf8' });
  const { modules, bytes, packages } = JSON.parse(text) as { modules: number; bytes: number; packages: string[] };
  const size = `${String(modules).padStart(4)} modules, ${(bytes / 1024).toFixed(0).padStart(5)} KiB`;
  console.log(`  ${label.padEnd(20)} ${size}; packages: ${packages.join(', ')}`);
}
process.exit(0);
