/**
 * The first call of a new process with the backend 50 ms away (issue 22, goal 1): from
 * `new MeshClient()` to the first `chat()` reply and to the first `listKeys()` reply, against raw
 * undici making the single request, each in a fresh process, in alternating pairs. The lean server
 * (bench/lean-server.ts) stands behind a TCP proxy that holds every chunk 25 ms each way, so every
 * round trip costs 50 ms, as the deployed backend does from most places (50-150 ms). The raw script
 * reads its token from the same token.json, as a script written by hand would (the cold-start
 * bench's peer does the same).
 * Goal: SDK / raw <= 1.15 for both. The token set in the file store is the one a login leaves
 * (with the user id it keeps, `mesh_user`); `listKeys (never saw the deployment)` is the same
 * without it: the one extra trip a machine pays once.
 * The SDK is a bundle built into .tmp/ from src/index.ts the way dist/ is (never through tsx, which
 * would transpile each lazily loaded module at the first call and bill the SDK for it).
 * `FIRST_CALL_SDK=<checkout>` builds another checkout's src/ instead, e.g. the commit before the
 * change, for the before/after figures; `FIRST_CALL_PAIRS` (default 11).
 * Run: npm run bench:first-call. Prints figures; asserts nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileStore } from '../src/auth/stores/file-store.js';
import { withExtraFields } from '../src/auth/tokens/token-set.js';
import { LEAN_USER_ID, startLeanServer } from './lean.js';

const ROOT = resolve(import.meta.dirname, '..');
const SDK_ROOT = resolve(process.env.FIRST_CALL_SDK ?? ROOT);
const PAIRS = Number(process.env.FIRST_CALL_PAIRS ?? 11);
const ONE_WAY_MS = 25;
const GOAL = 1.15;

/** A JWT-shaped token for the lean user (the lean server checks nothing; the SDK reads `sub` and `exp`). */
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const ACCESS_TOKEN = `${b64({ alg: 'RS256' })}.${b64({ sub: LEAN_USER_ID, exp: 2_000_000_000 })}.c2ln`;

/** A TCP proxy to `port` that delays every chunk `ONE_WAY_MS` in each direction, in order. */
function delayingProxy(port: number): Promise<number> {
  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.write(chunk), ONE_WAY_MS));
    from.on('end', () => setTimeout(() => to.end(), ONE_WAY_MS));
    from.on('error', () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    relay(client, upstream);
    relay(upstream, client);
  });
  server.unref();
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)));
}

/** The script each measured process runs: the clock starts after the imports (the cold-start bench's share). */
const CHILD = `
const [mode, op, url, dir, bundle] = process.argv.slice(2);
const chatBody = { model: 'gpt-4o', provider: 'openai', messages: [{ role: 'user', content: 'Hello' }] };
if (mode === 'raw') {
  const { request } = await import('undici');
  const { readFile } = await import('node:fs/promises');
  const started = performance.now();
  // A script written by hand reads its token where the login left it, as the SDK does.
  const { access_token } = JSON.parse(await readFile(dir + '/token.json', 'utf8'));
  const headers = { authorization: 'Bearer ' + access_token, accept: 'application/json' };
  const response = op === 'chat'
    ? await request(url + '/v1/mesh/chat', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(chatBody) })
    : await request(url + '/api/v1/listKeys?userId=${LEAN_USER_ID}', { headers });
  await response.body.json();
  console.log(JSON.stringify({ ms: performance.now() - started }));
} else {
  const { MeshClient } = await import(bundle);
  const started = performance.now();
  const client = new MeshClient({ env: { MESH_API_URL: url, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: dir } });
  if (op === 'chat') await client.chat('Hello', { model: 'gpt-4o' });
  else await client.listKeys();
  console.log(JSON.stringify({ ms: performance.now() - started }));
}
process.exit(0);
`;

function runChild(args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CHILD_FILE, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) fail(new Error(`child ${args.slice(0, 2).join(' ')} exited ${code}: ${out}`));
      else done((JSON.parse(line) as { ms: number }).ms);
    });
  });
}

/** A token directory as a login leaves it (`remember`: with the user id kept beside the tokens). */
async function tokenDirectory(remember: boolean): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'mesh-first-call-'));
  const tokens = { access_token: ACCESS_TOKEN, refresh_token: 'r', token_type: 'Bearer', expires_at: 2_000_000_000 };
  await new FileStore({ directory }).save(
    remember ? withExtraFields(tokens, { mesh_user: { id: LEAN_USER_ID, sub: LEAN_USER_ID } }) : tokens,
  );
  return directory;
}

/** The SDK of SDK_ROOT as one ESM bundle (what `import('mesh-sdk')` loads, in one file). */
async function buildBundle(): Promise<string> {
  const out = join(WORK, 'dist');
  await rm(out, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/tsup/dist/cli-default.js'),
      join(SDK_ROOT, 'src/index.ts'),
      '--no-config',
      '--format',
      'esm',
      '--target',
      'node20',
      '--external',
      'sharp',
      '-d',
      out,
    ],
    { cwd: SDK_ROOT, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return out;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const WORK = join(ROOT, '.tmp', 'first-call');
const CHILD_FILE = join(WORK, 'child.mjs');
await mkdir(WORK, { recursive: true });
await writeFile(CHILD_FILE, CHILD);
const bundle = pathToFileURL(join(await buildBundle(), 'index.js')).href;
const lean = await startLeanServer();
const port = Number(new URL(lean.url).port);
const url = `http://127.0.0.1:${await delayingProxy(port)}`;
console.log(`first call, backend ${2 * ONE_WAY_MS} ms away; SDK from ${SDK_ROOT}; ${PAIRS} pairs each, fresh processes`);
for (const [name, op, remember] of [
  ['chat()', 'chat', true],
  ['listKeys()', 'listKeys', true],
  ['listKeys() (never saw the deployment)', 'listKeys', false],
] as const) {
  const sdk: number[] = [];
  const raw: number[] = [];
  const ratios: number[] = [];
  for (let pair = 0; pair < PAIRS; pair++) {
    const directory = await tokenDirectory(remember); // a new process and a new store each time
    const a = await runChild(['sdk', op, url, directory, bundle]);
    const b = await runChild(['raw', op, url, directory, bundle]);
    sdk.push(a);
    raw.push(b);
    ratios.push(a / b);
  }
  const ratio = median(ratios);
  // Each round trip the SDK makes in series beyond the raw request shows as about 50 ms more.
  const extra = (median(sdk) - median(raw)).toFixed(0);
  console.log(
    `${name.padEnd(40)} SDK ${median(sdk).toFixed(0)} ms  raw ${median(raw).toFixed(0)} ms  (+${extra} ms)  ` +
      `ratio ${ratio.toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})` +
      (remember ? `  goal <= ${GOAL}: ${ratio <= GOAL ? 'met' : 'NOT met'}` : '  (report only)'),
  );
}
lean.child.kill();
