/**
 * The fleet soak (issue 14, "Measured"): N simulated machines (each its own HOME and TMPDIR,
 * nothing shared but Redis) x P processes x C real API calls (`listKeys()`), all on one token set
 * in one real redis-server (append-only file on, so a restart keeps the data), against the local
 * stack with short-lived access tokens and the provider's rotating refresh tokens with reuse
 * detection. During the run Redis is restarted once (stop + start, data kept), and one extra
 * process of machine 1 (the victim) is SIGKILLed while it holds the fleet's refresh lock: its token
 * manager takes the real lock on a real refresh and stops inside it (test/soak/fleet-child.ts), and
 * the soak checks the lock key in Redis before killing it.
 *
 * Goals (exit 1 if one fails): every call succeeds; exactly one refresh per expiry fleet-wide
 * (the provider's refresh grants equal the access-token generations the fleet used, minus the
 * first, and no generation was replaced before its refresh point: a second refresh for one
 * expiry would be either a reuse or an early replacement); no refresh-token reuse; no revoked
 * family; one family; the restart and the kill done.
 *
 *   npm run soak:fleet                               4 machines x 8 processes x 200 calls, 5 s tokens
 *   tsx test/soak/fleet.ts --machines 2 --processes 3 --calls 30 --ttl 3 --json   (the suite's run)
 * Env knobs: FLEET_MACHINES, FLEET_PROCESSES, FLEET_CALLS, FLEET_TTL (s), FLEET_DURATION (s of
 * calling, default 5 lifetimes), FLEET_LEASE_MS (the lock lease, default 4000), FLEET_FORM
 * (`env`: MESH_TOKEN_STORE=redis://...; `option`: redisTokenStore(); default: env when the
 * configuration accepts it). FLEET_NO_LOCK=1 is the soak's self-check: every process gets a lock
 * that excludes nobody, and the run must then fail its goals (reuse, revoked family, failed calls).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '../../dev/redis.js';
import { startStack } from '../../dev/stack.js';
import { createTokenStore } from '../../src/auth/stores/create-token-store.js';
import { defaultRedisKey, redisTokenStore } from '../../src/auth/stores/redis-store.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { rawRedis } from '../helpers/redis.js';
import { storedTokens } from '../helpers/token-manager.js';

const { values } = parseArgs({
  options: {
    machines: { type: 'string' },
    processes: { type: 'string' },
    calls: { type: 'string' },
    ttl: { type: 'string' },
    duration: { type: 'string' },
    lease: { type: 'string' },
    form: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const knob = (flag: string | undefined, name: string, fallback: number) => {
  const value = Number(flag ?? process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const machines = knob(values.machines, 'FLEET_MACHINES', 4);
const processes = knob(values.processes, 'FLEET_PROCESSES', 8);
const calls = knob(values.calls, 'FLEET_CALLS', 200);
const ttl = knob(values.ttl, 'FLEET_TTL', 5);
const durationMs = knob(values.duration, 'FLEET_DURATION', ttl * 5) * 1000;
const leaseMs = knob(values.lease, 'FLEET_LEASE_MS', 4000);
const json = values.json;
const BOOT_BATCH = 4;
const log = (line: string) => {
  if (!json) process.stdout.write(`${line}\n`);
};
const started = Date.now();

/** Whether `MESH_TOKEN_STORE=redis://...` already builds the Redis store (another change wires it). */
function envFormWorks(url: string): boolean {
  try {
    const config = resolveConfig({ env: { MESH_TOKEN_STORE: url } });
    return createTokenStore(config, { env: {} }).store.describe().startsWith('redis');
  } catch {
    return false;
  }
}

interface Seen {
  fingerprint: string;
  iat: number;
  exp: number;
  firstMs: number;
  lastMs: number;
  uses: number;
}
interface ChildReport {
  calls: number;
  ok: number;
  failed: number;
  errors: string[];
  warnings: string[];
  tokens: Seen[];
}

const redis = await startRedis({ persistence: true });
const stack = await startStack({
  provider: { accessTokenTtl: ttl },
  // The fleet's call rate is far above one user's default limit; this soak is about tokens.
  backend: { rateLimitPerMinute: 100_000_000 },
});
const sabotaged = process.env.FLEET_NO_LOCK === '1';
const form = sabotaged
  ? 'option, NO LOCK (self-check)'
  : (values.form ?? process.env.FLEET_FORM ?? (envFormWorks(redis.url) ? 'env' : 'option'));
const key = defaultRedisKey(stack.apiUrl, stack.auth0.audience);
const lockKey = `${key}:lock`;
const directories: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

// The seed: one login, written into Redis as a laptop would (`MESH_TOKEN_STORE=redis://... mesh-auth`).
const initial = await storedTokens(stack, 'fleet@example.test');
const seedMs = Date.now();
const quiet = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };
const seeder = redisTokenStore({ url: redis.url, key, logger: quiet });
await seeder.save(initial);
await seeder.close();
const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iat: number; exp: number };

const counters = () => ({
  refreshes: stack.provider.counters.grants.refresh_token ?? 0,
  backendRefreshes: stack.backend.counters.refreshes,
  refreshFailures: stack.backend.counters.refreshFailures,
  reuse: stack.provider.counters.refreshTokenReuse,
  revoked: stack.provider.counters.revokedFamilies,
  byFamily: { ...stack.provider.counters.refreshesByFamily },
});
const before = counters();

async function redisRead<T>(work: (client: Awaited<ReturnType<typeof rawRedis>>) => Promise<T>): Promise<T> {
  const client = await rawRedis(redis.url);
  try {
    return await work(client);
  } finally {
    client.destroy();
  }
}
const storedVersion = () =>
  redisRead(async (client) => {
    const raw = await client.get(key);
    return raw === null ? null : (JSON.parse(raw) as { version: number }).version;
  });

/** Starts one process; resolves when it says `ready`. */
function spawnChild(machine: { home: string; tmp: string }, extra: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MESH_')));
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'fleet-child.ts')], {
    env: {
      ...inherited,
      ...stack.env,
      HOME: machine.home,
      TMPDIR: machine.tmp,
      CI: 'true',
      FLEET_REDIS_URL: redis.url,
      FLEET_REDIS_KEY: key,
      FLEET_LEASE_MS: String(leaseMs),
      FLEET_FORM: form,
      FLEET_CALLS: String(calls),
      FLEET_DURATION_MS: String(durationMs),
      ...extra,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  const lines: ((line: string) => void)[] = [];
  child.stdout.on('data', (chunk) => {
    out += chunk;
    for (let at = out.indexOf('\n'); at >= 0; at = out.indexOf('\n')) {
      const line = out.slice(0, at);
      out = out.slice(at + 1);
      for (const listener of lines) listener(line);
    }
  });
  child.stderr.on('data', (chunk) => {
    err = (err + chunk).slice(-2000);
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  const ready = new Promise<string>((done, fail) => {
    lines.push((line) => {
      if (line.startsWith('ready ')) done((JSON.parse(line.slice('ready '.length)) as { warmup: string }).warmup);
    });
    exited.then(({ code, signal }) => fail(new Error(`a fleet process exited ${code ?? signal} before ready: ${err}`)));
  });
  let last = '';
  lines.push((line) => {
    if (line.startsWith('{')) last = line;
  });
  const report = exited.then(({ code, signal }) => {
    if (code !== 0 || last === '') throw new Error(`a fleet process exited ${code ?? signal}: ${err.slice(-800)}`);
    return JSON.parse(last) as ChildReport;
  });
  report.catch(() => {}); // read below
  return { child, ready, report, exited, onLine: (listener: (line: string) => void) => lines.push(listener) };
}

async function run() {
  log(
    `fleet soak: ${machines} machines x ${processes} processes x ${calls} calls (+1 victim), ${ttl} s tokens, ` +
      `store form "${form}", lease ${leaseMs} ms; booting ${machines * processes + 1} processes...`,
  );
  const machineDirs: { home: string; tmp: string }[] = [];
  for (let m = 0; m < machines; m++) {
    const home = await mkdtemp(join(tmpdir(), `mesh-fleet-m${m}-home-`));
    const tmp = await mkdtemp(join(tmpdir(), `mesh-fleet-m${m}-tmp-`));
    directories.push(home, tmp);
    machineDirs.push({ home, tmp });
  }
  // Booted a few at a time (a fleet's instances do not all boot on one CPU in the same second):
  // each is ready once its warm-up call is done.
  const plan = machineDirs.flatMap((dirs) => Array.from({ length: processes }, () => dirs));
  const fleet: ReturnType<typeof spawnChild>[] = [];
  const warmups: string[] = [];
  for (let at = 0; at < plan.length; at += BOOT_BATCH) {
    const batch = plan.slice(at, at + BOOT_BATCH).map((dirs) => spawnChild(dirs, {}));
    fleet.push(...batch);
    warmups.push(...(await Promise.all(batch.map((f) => f.ready))));
  }
  // The victim: one more process on machine 1, armed a little past the middle of the run.
  const victim = spawnChild(machineDirs[0] as { home: string; tmp: string }, {
    FLEET_VICTIM_ARM_MS: String(Math.round(durationMs * 0.55)),
  });
  warmups.push(await victim.ready);
  const kill = {
    done: false,
    lockKeyPresent: false,
    leaseLeftMs: -1,
    lockKeptMs: -1,
    atMs: 0,
    report: undefined as ChildReport | undefined,
  };
  let killWatch: Promise<void> = Promise.resolve();
  victim.onLine((line) => {
    if (!line.startsWith('holding-lock ')) return;
    kill.report = JSON.parse(line.slice('holding-lock '.length)) as ChildReport;
    killWatch = (async () => {
      // Proof that it holds the lock: the lock key is there, with its lease running.
      const [owner, pttl] = await redisRead((client) => Promise.all([client.get(lockKey), client.pTTL(lockKey)]));
      kill.lockKeyPresent = owner !== null && pttl > 0;
      kill.leaseLeftMs = pttl;
      victim.child.kill('SIGKILL');
      kill.atMs = Date.now();
      kill.done = true;
      // The dead holder's lock must stay, untouched, until its lease runs out: nobody may take or
      // delete it early (that would let a second refresh run beside a live holder).
      const client = await rawRedis(redis.url);
      try {
        while ((await client.get(lockKey)) === owner) await new Promise((done) => setTimeout(done, 20));
      } finally {
        client.destroy();
      }
      kill.lockKeptMs = Date.now() - kill.atMs;
    })();
  });

  const goMs = Date.now();
  for (const { child } of [...fleet, victim]) child.stdin.write('go\n');
  log(`all booted after ${((goMs - started) / 1000).toFixed(1)} s; calling for ${durationMs / 1000} s`);

  // The Redis restart, at 30% of the run: stop (SIGTERM, the AOF keeps the data), start on the same port.
  const restart = { done: false, atMs: 0, downMs: 0, versionBefore: null as number | null, versionAfter: null as number | null };
  const restarted = (async () => {
    await new Promise((done) => setTimeout(done, durationMs * 0.3));
    restart.versionBefore = await storedVersion();
    const down = Date.now();
    restart.atMs = down;
    await redis.restart();
    restart.downMs = Date.now() - down;
    restart.versionAfter = await storedVersion();
    restart.done = true;
    log(`redis restarted (down ${restart.downMs} ms, record version ${restart.versionBefore} -> ${restart.versionAfter})`);
  })();

  const reports = await Promise.all(fleet.map((f) => f.report));
  await restarted;
  await victim.exited;
  await killWatch;
  const callWindowMs = Date.now() - goMs;
  const after = counters();

  // Every access-token generation the fleet sent, merged across processes, in the order it appeared.
  const merged = new Map<string, Seen>();
  const seedFingerprint = fingerprint(initial.access_token);
  const seedClaims = claimsOf(initial.access_token);
  merged.set(seedFingerprint, {
    fingerprint: seedFingerprint,
    iat: seedClaims.iat,
    exp: seedClaims.exp,
    firstMs: seedMs,
    lastMs: seedMs,
    uses: 0,
  });
  for (const report of [...reports, ...(kill.report ? [kill.report] : [])]) {
    for (const token of report.tokens) {
      const known = merged.get(token.fingerprint);
      if (!known) merged.set(token.fingerprint, { ...token });
      else {
        known.firstMs = Math.min(known.firstMs, token.firstMs);
        known.lastMs = Math.max(known.lastMs, token.lastMs);
        known.uses += token.uses;
      }
    }
  }
  // The set Redis holds at the end: a refresh ahead of expiry started by a last call brings a
  // generation no call sent.
  const final = await redisRead(async (client) => JSON.parse((await client.get(key)) ?? 'null'));
  const finalToken = final?.tokens?.access_token as string | undefined;
  let unsentGenerations = 0;
  if (finalToken && !merged.has(fingerprint(finalToken))) {
    const claims = claimsOf(finalToken);
    const end = claims.iat * 1000 + 999;
    merged.set(fingerprint(finalToken), { fingerprint: '', ...claims, firstMs: end, lastMs: end, uses: 0 });
    unsentGenerations = 1;
  }
  const generations = [...merged.values()].sort((a, b) => a.iat - b.iat || a.firstMs - b.firstMs);
  // A generation may be replaced from its refresh point on (half its lifetime, as the token manager
  // computes it from the stored, second-truncated expiry); earlier means a second refresh for an
  // expiry that was already served. Mint times are known within bounds (the JWT's iat second; the
  // first time a call sent it), so a replacement counts as early only when even the latest mint
  // it may have had is before the earliest refresh point the one it replaced may have had.
  let early = 0;
  for (let k = 0; k + 1 < generations.length; k++) {
    const current = generations[k] as Seen;
    const next = generations[k + 1] as Seen;
    const mintedFrom = current.iat * 1000;
    const dueFrom = mintedFrom + ((current.exp - 1) * 1000 - mintedFrom) / 2;
    if (Math.min(next.firstMs, next.iat * 1000 + 999) < dueFrom) early += 1;
  }
  const expiries = generations.length - 1;
  const refreshes = after.refreshes - before.refreshes;
  const families = Object.keys(after.byFamily).filter((id) => (after.byFamily[id] ?? 0) > (before.byFamily[id] ?? 0));
  const workerCalls = reports.reduce((sum, r) => sum + r.calls, 0);
  const failed = reports.reduce((sum, r) => sum + r.failed, 0);

  return {
    machines,
    processesPerMachine: processes,
    callsPerProcess: calls,
    tokenLifetimeSeconds: ttl,
    storeForm: form,
    leaseMs,
    calls: workerCalls,
    okCalls: reports.reduce((sum, r) => sum + r.ok, 0),
    failedCalls: failed,
    warmupCalls: warmups.length,
    failedWarmups: warmups.filter((outcome) => outcome !== 'ok').length,
    firstErrors: [...warmups.filter((outcome) => outcome !== 'ok'), ...reports.flatMap((r) => r.errors)].slice(0, 5),
    warnings: reports.flatMap((r) => r.warnings).slice(0, 5),
    refreshes,
    backendRefreshes: after.backendRefreshes - before.backendRefreshes,
    refreshFailures: after.refreshFailures - before.refreshFailures,
    expiries,
    refreshesPerExpiry: expiries === 0 ? null : Number((refreshes / expiries).toFixed(3)),
    earlyReplacements: early,
    unsentGenerations,
    families: families.length,
    refreshesByFamily: families.map((id) => (after.byFamily[id] ?? 0) - (before.byFamily[id] ?? 0)),
    refreshTokenReuse: after.reuse - before.reuse,
    revokedFamilies: after.revoked - before.revoked,
    redisRestarted: restart.done,
    redisDownMs: restart.downMs,
    redisDataKept: restart.versionBefore !== null && (restart.versionAfter ?? 0) >= restart.versionBefore,
    lockHolderKilled: kill.done && kill.lockKeyPresent,
    victimCallsBeforeKill: kill.report?.calls ?? 0,
    victimFailedCalls: kill.report?.failed ?? 0,
    lockLeaseLeftAtKillMs: kill.leaseLeftMs,
    victimLockKeptMs: kill.lockKeptMs,
    redisRestartAfterGoMs: restart.atMs - goMs,
    callWindowSeconds: Number((callWindowMs / 1000).toFixed(1)),
    wallSeconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
}

let figures: Awaited<ReturnType<typeof run>> | undefined;
let failure: unknown;
try {
  figures = await run();
} catch (error) {
  failure = error;
} finally {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await stack.close();
  await redis.stop();
  await Promise.all(directories.map((dir) => rm(dir, { recursive: true, force: true })));
}

if (figures === undefined) {
  process.stderr.write(`fleet soak could not run: ${(failure as Error).stack ?? failure}\n`);
  process.exit(1);
}
const f = figures;
const goals: [string, boolean][] = [
  ['0 failed calls', f.failedCalls === 0 && f.victimFailedCalls === 0 && f.failedWarmups === 0],
  [`all ${machines * processes * calls} calls made`, f.calls === machines * processes * calls],
  ['exactly 1 refresh per expiry', f.refreshes === f.expiries && f.earlyReplacements === 0],
  ['several expiries in the window (>= 4)', f.expiries >= 4],
  ['0 refresh-token reuse', f.refreshTokenReuse === 0],
  ['0 revoked families', f.revokedFamilies === 0],
  ['one family, no failed refresh', f.families === 1 && f.refreshFailures === 0],
  ['Redis restarted once, data kept', f.redisRestarted && f.redisDataKept],
  ['lock holder SIGKILLed while holding the lock', f.lockHolderKilled],
  ["the dead holder's lock kept until its lease ran out", f.victimLockKeptMs >= f.lockLeaseLeftAtKillMs - 100],
];
const failedGoals = goals.filter(([, ok]) => !ok).map(([goal]) => goal);
if (json) {
  process.stdout.write(`${JSON.stringify({ ...figures, goalsFailed: failedGoals })}\n`);
} else {
  const rows: [string, string][] = [
    [
      'calls ok / failed',
      `${f.okCalls} / ${f.failedCalls} (+ boot calls ${f.warmupCalls - f.failedWarmups} / ${f.failedWarmups}; ` +
        `victim ${f.victimCallsBeforeKill} ok before the kill)`,
    ],
    ['refreshes seen by the provider', `${f.refreshes} (backend ${f.backendRefreshes}, failed ${f.refreshFailures})`],
    ['expiries in the window', `${f.expiries} (of which ${f.unsentGenerations} replaced after the last call)`],
    ['refreshes per expiry', `${f.refreshesPerExpiry} (early replacements: ${f.earlyReplacements})`],
    ['refresh-token reuse', String(f.refreshTokenReuse)],
    ['revoked families', String(f.revokedFamilies)],
    ['families refreshed', `${f.families} (${f.refreshesByFamily.join(', ')} refreshes)`],
    [
      'Redis restart',
      `${f.redisRestarted ? 'yes' : 'NO'} (${f.redisRestartAfterGoMs} ms into the calls, down ${f.redisDownMs} ms, data kept: ${f.redisDataKept ? 'yes' : 'NO'})`,
    ],
    [
      'lock holder SIGKILLed',
      `${f.lockHolderKilled ? 'yes' : 'NO'} (lease left ${f.lockLeaseLeftAtKillMs} ms; its lock kept ${f.victimLockKeptMs} ms, then taken over)`,
    ],
    ['call window / wall time', `${f.callWindowSeconds} s / ${f.wallSeconds} s`],
  ];
  for (const [name, value] of rows) log(`  ${name.padEnd(32)}${value}`);
  for (const error of f.firstErrors) log(`  error: ${error}`);
  for (const warning of f.warnings) log(`  warning: ${warning}`);
  log(failedGoals.length === 0 ? 'fleet soak: all goals met' : `fleet soak: FAILED: ${failedGoals.join('; ')}`);
}
process.exit(failedGoals.length === 0 ? 0 : 1);
