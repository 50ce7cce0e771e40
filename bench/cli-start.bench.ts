/**
 * Start-up of the built `mesh-auth` bin (issue 22): `mesh-auth status` and `mesh-auth token`, each a
 * whole process from start to exit, against a bare `node -e 0` (goal: within 1.5x), and beside them
 * status's work written by hand with nothing of the SDK (the floor under it). They run in turn, round after round (the order reversed every other round), so that the machine's drift falls
 * on all of them alike; each round gives one ratio per command (its wall time over that round's
 * `node -e 0`), and the figure is the median of those ratios, beside each command's median time.
 *
 * The setting is a logged-in user: a valid token set in a file store (MESH_TOKEN_STORE=file, in a
 * scratch directory), CI=true. `token` prints the stored token (no refresh, no network). `status`
 * asks the backend (`GET /auth/validate`; its first run also `GET /auth/profile` for the e-mail
 * address, which it then keeps with the tokens; through node:http, the CLI's transport, since
 * undici's start-up was most of its time): here a stub backend on loopback, in a process of its
 * own, answers at once (AUTH0_DOMAIN points at
 * it too, so nothing leaves the machine). The bins are built into .tmp/ (never dist/, which tests
 * rebuild), unless CLI_BENCH_BIN names a mesh-auth bin to measure instead (a build from before a
 * change). The bins start from V8's code cache (src/cli/launch.ts), which the unmeasured first runs
 * write into the scratch home; `status` is also measured without it (NODE_DISABLE_COMPILE_CACHE=1),
 * as a first run after an install or upgrade is. CLI_ROUNDS (default 20). Run: npm run bench:cli.
 * Prints figures; asserts nothing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileStore } from '../src/auth/stores/file-store.js';
import { median, range } from './stats.js';

const ROOT = resolve(import.meta.dirname, '..');
const WORK = join(ROOT, '.tmp', 'clibench');
/** CLI_BENCH_BIN: measure that bin (another build, e.g. mesh-auth.js from before a change) instead of building one. */
const BIN = process.env.CLI_BENCH_BIN ? resolve(process.env.CLI_BENCH_BIN) : join(WORK, 'dist', 'cli', 'mesh-auth.cjs');
const ROUNDS = Number(process.env.CLI_ROUNDS ?? 20);

/** The stub backend: what `status` asks of a deployment, answered at once (plain node:http, nothing imported). */
const STUB = `
const bodies = {
  '/auth/validate': '{"valid":true}',
  '/auth/profile': JSON.stringify({ profile: { id: 'bench-user', email: 'bench@example.test', name: 'Bench', credits: 1 } }),
  '/auth/config': JSON.stringify({ domain: 'http://127.0.0.1', client_id: 'bench', audience: 'bench' }),
};
const server = require('node:http').createServer((req, res) => {
  req.resume();
  const body = bodies[(req.url || '').split('?')[0]];
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
  res.end(body || '{"error":"Not found"}');
});
server.listen(0, '127.0.0.1', () => process.stdout.write('STUB_URL=http://127.0.0.1:' + server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * status's work written by hand, as small as it gets: the floor the bench shows beside it. What
 * `status` does from its second run (the address is then kept with the tokens): read the token
 * file, one `GET /auth/validate` on node:http, print the address. CommonJS, as the bin's program is.
 */
const STATUS_BY_HAND = `
const { request } = require('node:http');
const { readFileSync } = require('node:fs');
const { access_token, mesh_user } = JSON.parse(readFileSync(process.env.MESH_TOKEN_DIR + '/token.json', 'utf8'));
const url = new URL('/auth/validate', process.env.MESH_API_URL);
request(url, { headers: { authorization: 'Bearer ' + access_token } }, (reply) => {
  let body = '';
  reply.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => {
    if (JSON.parse(body).valid !== true) process.exit(1);
    process.stderr.write('Logged in as ' + mesh_user.email + '\\n');
  });
}).end();
`;

function startStub(): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-e', STUB], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /STUB_URL=(\S+)\n/.exec(out);
      if (match) done({ url: match[1] as string, child });
    });
    child.once('exit', (code) => fail(new Error(`the stub backend exited ${code}`)));
  });
}

/** A JWT-shaped access token (the SDK reads its claims; nothing checks its signature here) valid for a day. */
function accessToken(issuer: string, expiresAt: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { sub: 'auth0|bench', aud: 'https://mesh-abh5.onrender.com', iss: `${issuer}/`, exp: expiresAt };
  return `${part({ alg: 'RS256', typ: 'JWT', kid: 'bench' })}.${part(claims)}.c2ln`;
}

interface Run {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: WORK, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => done({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, stdout, stderr }));
  });
}

await rm(WORK, { recursive: true, force: true });
await mkdir(WORK, { recursive: true });
if (process.env.CLI_BENCH_BIN) console.log(`measuring ${BIN}`);
else {
  console.log('building the bins into .tmp/clibench/dist (tsup, no declarations)...');
  execFileSync('npx', ['tsup', '--out-dir', join(WORK, 'dist'), '--no-dts', '--silent'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const stub = await startStub();
const home = await mkdtemp(join(tmpdir(), 'mesh-cli-bench-'));
try {
  const directory = join(home, '.mesh');
  const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
  const token = accessToken(stub.url, expiresAt);
  await new FileStore({ directory }).save({
    access_token: token,
    refresh_token: 'bench-refresh',
    token_type: 'Bearer',
    expires_at: expiresAt,
  });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    CI: 'true',
    MESH_TOKEN_STORE: 'file',
    MESH_TOKEN_DIR: directory,
    MESH_API_URL: stub.url,
    AUTH0_DOMAIN: stub.url,
  };

  // The floor under status: the least a script can do for the same answer, by hand (read the
  // token file, the same GET on node:http, print the e-mail address kept there), with nothing of the SDK.
  const floor = join(WORK, 'status-by-hand.cjs');
  await writeFile(floor, STATUS_BY_HAND);
  const noCache = { ...env, NODE_DISABLE_COMPILE_CACHE: '1' };
  const subjects = [
    { label: 'node -e 0', args: ['-e', '0'], env },
    { label: 'mesh-auth status', args: [BIN, 'status'], env },
    { label: 'mesh-auth token', args: [BIN, 'token'], env },
    { label: 'status by hand', args: [floor], env },
    { label: 'status, no cache', args: [BIN, 'status'], env: noCache },
  ] as const;

  // Each once, unmeasured (the disk cache), and checked: a bin that fails would be measured failing fast.
  const status = await run([BIN, 'status'], env);
  if (
    status.code !== 0 ||
    !status.stderr.includes('Logged in as bench@example.test') ||
    !status.stderr.includes('backend validator')
  )
    throw new Error(`mesh-auth status did not report the login (exit ${status.code}): ${status.stderr}`);
  const printed = await run([BIN, 'token'], env);
  if (printed.code !== 0 || printed.stdout.trim() !== token)
    throw new Error(`mesh-auth token did not print the stored token (exit ${printed.code}): ${printed.stderr}`);
  await run(['-e', '0'], env);

  const times = subjects.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    const order = subjects.map((_, index) => index);
    if (round % 2) order.reverse();
    for (const index of order) {
      const result = await run([...(subjects[index]?.args ?? [])], subjects[index]?.env ?? env);
      if (result.code !== 0) throw new Error(`${subjects[index]?.label} exited ${result.code}: ${result.stderr}`);
      times[index]?.push(result.ms);
    }
  }

  const base = times[0] as number[];
  console.log(
    `\nWhole processes, wall ms (${ROUNDS} rounds; ratio: the median of the per-round ratios to node -e 0, and their min-max)`,
  );
  for (const [index, subject] of subjects.entries()) {
    const own = times[index] as number[];
    const line = `  ${subject.label.padEnd(18)} ${median(own).toFixed(1).padStart(7)} ms (${range(own, 0)})`;
    const ratios = own.map((ms, round) => ms / (base[round] as number));
    console.log(index === 0 ? line : `${line}  ${median(ratios).toFixed(2)}x (${range(ratios, 2)})`);
  }
} finally {
  stub.child.kill();
  await rm(home, { recursive: true, force: true });
}
process.exit(0);
