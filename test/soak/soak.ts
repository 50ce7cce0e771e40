/**
 * The multi-process soak: N processes x M calls of getAccessToken() sharing one file store, with
 * short-lived tokens so that several expiries happen while they run, and a watcher that reads
 * token.json continuously. Prints the figures; exits 1 on any violation.
 *   npm run soak                     16 processes x 200 calls, 5 s tokens
 *   tsx test/soak/soak.ts --processes 4 --calls 60 --ttl 3   (the shortened run in the suite)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack } from '../../dev/stack.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { storedTokens } from '../helpers/token-manager.js';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '16' },
    calls: { type: 'string', default: '200' },
    ttl: { type: 'string', default: '5' },
  },
});
const processes = Number(values.processes);
const calls = Number(values.calls);
const ttl = Number(values.ttl);
// Spread the calls over about three token lifetimes, so that several expiries fall inside the run.
const pauseMs = Math.max(5, Math.round((ttl * 3000) / calls));

const stack = await startStack({ provider: { accessTokenTtl: ttl } });
const directory = await mkdtemp(join(tmpdir(), 'mesh-soak-'));
const tokenFile = join(directory, 'token.json');
const initial = await storedTokens(stack, 'soak@example.test');
await new FileStore({ directory }).save(initial);
const before = {
  refreshes: stack.backend.counters.refreshes,
  failures: stack.backend.counters.refreshFailures,
  reuse: stack.provider.counters.refreshTokenReuse,
};

// The watcher: token.json must be whole, valid JSON at every instant (atomic writes).
let watching = true;
const watch = { reads: 0, invalid: 0 };
const watcher = (async () => {
  while (watching) {
    try {
      JSON.parse(await readFile(tokenFile, 'utf8'));
      watch.reads += 1;
    } catch {
      watch.invalid += 1;
    }
  }
})();

const child = resolve(import.meta.dirname, '../helpers/token-child.ts');
const started = Date.now();
const reports = await Promise.all(
  Array.from(
    { length: processes },
    () =>
      new Promise<{ calls: number; errors: string[]; tokens: string[] }>((resolvePromise, reject) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', child, 'loop'], {
          env: {
            ...process.env,
            MESH_CHILD_DIR: directory,
            MESH_API_URL: stack.apiUrl,
            MESH_CHILD_CALLS: String(calls),
            MESH_CHILD_PAUSE_MS: String(pauseMs),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        proc.stdout.on('data', (chunk) => {
          out += chunk;
        });
        proc.on('exit', (code) =>
          code === 0
            ? resolvePromise(JSON.parse(out.trim().split('\n').at(-1) as string))
            : reject(new Error(`a process exited ${code}`)),
        );
      }),
  ),
);
watching = false;
await watcher;
const seconds = (Date.now() - started) / 1000;

const totalCalls = reports.reduce((sum, r) => sum + r.calls, 0);
const failed = reports.flatMap((r) => r.errors);
// The tokens the calls carried, and the one token.json holds now: a refresh ahead of expiry may run
// after a process's last call, and its token is kept for whoever comes next.
const stored = (JSON.parse(await readFile(tokenFile, 'utf8')) as { access_token: string }).access_token;
const distinct = new Set([initial.access_token, ...reports.flatMap((r) => r.tokens), stored]);
const refreshes = stack.backend.counters.refreshes - before.refreshes;
const expiries = distinct.size - 1; // each generation of token after the first came from one refresh
const reuse = stack.provider.counters.refreshTokenReuse - before.reuse;
const refreshFailures = stack.backend.counters.refreshFailures - before.failures;

const figures = {
  processes,
  calls: totalCalls,
  failedCalls: failed.length,
  tokenLifetimeSeconds: ttl,
  seconds: Number(seconds.toFixed(1)),
  expiries,
  refreshes,
  refreshFailures,
  refreshTokenReuse: reuse,
  watcherReads: watch.reads,
  watcherInvalidReads: watch.invalid,
  firstErrors: failed.slice(0, 3).map((error) => error.slice(0, 300)),
};
process.stdout.write(`soak: ${JSON.stringify(figures)}\n`);
const violations = [
  failed.length > 0 && `${failed.length} failed calls (first: ${failed[0]})`,
  totalCalls !== processes * calls && `${totalCalls} calls instead of ${processes * calls}`,
  refreshes !== expiries && `${refreshes} refreshes for ${expiries} expiries`,
  expiries < 2 && `only ${expiries} expiries: the run was too short to test refreshing`,
  reuse > 0 && `${reuse} refresh-token reuses seen by the provider`,
  refreshFailures > 0 && `${refreshFailures} failed refreshes`,
  watch.invalid > 0 && `token.json was not valid JSON ${watch.invalid} times`,
].filter(Boolean);
for (const violation of violations) process.stderr.write(`soak violation: ${violation}\n`);

await stack.close();
await rm(directory, { recursive: true, force: true });
process.exit(violations.length === 0 ? 0 : 1);
