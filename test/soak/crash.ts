/**
 * The crash soak (issue 19 item 2): processes killed in the middle of a refresh, many times over,
 * for each token store (file, OS keychain, Redis) and each signal (SIGKILL, SIGINT, SIGTERM), at
 * every step of refresh -> save and at random moments; after each kill the next process (what a
 * user runs next) shows whether the login, the provider's refresh-token family, survived.
 *
 * Kill points: `rotation` (from outside, once the provider has rotated and a proxy holds the
 * reply: the worst moment), `random` (from outside, at a random moment of a refresh whose reply
 * takes 300 ms), and, by the process itself at that step: `intent-saved`, `reply-received`,
 * `saved`, `temp-written` (file store: the new set's temp file complete, not yet renamed).
 * `rotation` and `random` need nothing from the SDK, so `--sdk <older src>` measures an older
 * version side by side (its points are those two).
 *
 * Configurations: `extension` (the backend advertises idempotency_key), `overlap` (no extension,
 * the provider keeps a 2 s reuse interval), `bare` (neither: the window that remains). The next
 * process asks for a token as any program does (finishing an unfinished refresh), then, after the
 * reuse interval where there is one, refreshes: a refusal there means the family was lost.
 * Then a disk-full check: a refresh on a full tmpfs (root only).
 *
 *   npm run soak:crash                                   50 kills per store and signal, every configuration
 *   tsx test/soak/crash.ts --kills 12 --configs extension --stores file
 *   tsx test/soak/crash.ts --sdk /path/to/old/src --points rotation,random
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type HoldingProxy, startHoldingProxy } from '../../dev/middlemen.js';
import { type RedisServer, startRedis } from '../../dev/redis.js';
import { type Stack, startStack } from '../../dev/stack.js';
import type { TokenSet, TokenStore } from '../../src/auth/stores/token-store.js';
import { type CrashOutcome, runCrashChild, startCrashChild, storeOf } from '../helpers/crash.js';
import { type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { storedTokens } from '../helpers/token-manager.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' },
    stores: { type: 'string', default: 'file,keychain,redis' },
    signals: { type: 'string', default: 'SIGKILL,SIGINT,SIGTERM' },
    configs: { type: 'string', default: 'extension,overlap,bare' },
    points: { type: 'string' },
    sdk: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

type StoreKind = 'file' | 'keychain' | 'redis';
type Config = 'extension' | 'overlap' | 'bare';
type Point = 'rotation' | 'random' | 'intent-saved' | 'reply-received' | 'saved' | 'temp-written';

const list = <T extends string>(text: string) => text.split(',').map((item) => item.trim()) as T[];
const kills = Number(values.kills);
const stores = list<StoreKind>(values.stores);
const signals = list<NodeJS.Signals>(values.signals);
const configs = list<Config>(values.configs);
const allPoints: Point[] = ['rotation', 'random', 'intent-saved', 'reply-received', 'saved', 'temp-written'];
const points = values.points ? list<Point>(values.points) : values.sdk ? (['rotation', 'random'] as Point[]) : allPoints;
const OVERLAP_S = 2;
const REFRESH = '/auth/refresh-token';

interface Tally {
  kills: number;
  lost: number;
  byPoint: Record<string, { kills: number; lost: number }>;
}

const say = (text: string) => {
  if (!values.json) process.stderr.write(`${text}\n`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const stack = await startStack();
  const proxy = await startHoldingProxy(stack.apiUrl);
  const scratch = await mkdtemp(join(tmpdir(), 'mesh-crash-soak-'));
  const bus = stores.includes('keychain') ? await startKeyringBus() : undefined;
  const redis = stores.includes('redis') ? await startRedis() : undefined;
  const results: Record<string, Tally> = {};
  try {
    for (const config of configs) {
      for (const kind of stores) {
        for (const signal of signals) {
          const tally: Tally = { kills: 0, lost: 0, byPoint: {} };
          results[`${config} ${kind} ${signal}`] = tally;
          const run = await soakOne({ stack, proxy, scratch, bus, redis }, config, kind, signal, tally);
          process.stderr.write(
            `${config.padEnd(9)} ${kind.padEnd(8)} ${signal.padEnd(7)} ${tally.lost}/${tally.kills} families lost ${run}\n`,
          );
        }
      }
    }
    const diskFull = await diskFullCheck(stack, scratch);
    if (values.json) process.stdout.write(`${JSON.stringify({ sdk: values.sdk ?? 'this checkout', results, diskFull })}\n`);
    else say(`disk full: ${diskFull}`);
  } finally {
    proxy.holdPath = undefined;
    proxy.release();
    await proxy.close();
    await bus?.stop();
    await redis?.stop();
    await stack.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

interface Parts {
  stack: Stack;
  proxy: HoldingProxy;
  scratch: string;
  bus: PrivateBus | undefined;
  redis: RedisServer | undefined;
}

async function soakOne(parts: Parts, config: Config, kind: StoreKind, signal: NodeJS.Signals, tally: Tally): Promise<string> {
  const { stack, proxy } = parts;
  stack.backend.reset();
  stack.backend.settings.capabilities = config === 'extension' ? ['idempotency_key'] : [];
  stack.provider.settings.refreshReuseIntervalSeconds = config === 'overlap' ? OVERLAP_S : 0;
  const home = await mkdtemp(join(parts.scratch, `${config}-${kind}-${signal}-`));
  const env: Record<string, string> = {
    ...stack.env,
    MESH_API_URL: proxy.url,
    HOME: home,
    MESH_TOKEN_DIR: join(home, '.mesh'),
    MESH_TOKEN_STORE: kind === 'redis' ? (parts.redis as RedisServer).url : kind,
    ...(kind === 'redis' ? { MESH_TOKEN_STORE_KEY: `crash-soak:${config}:${signal}`, CRASH_LEASE_MS: '1500' } : {}),
    ...(kind === 'keychain' ? (parts.bus?.env as Record<string, string>) : {}),
    ...(values.sdk ? { CRASH_SDK: values.sdk } : {}),
  };
  const store = storeOf(env, parts.bus?.env);
  const seed = async () => {
    const tokens: TokenSet = { ...(await storedTokens(stack)), auth_source: 'browser' };
    await store.clear().catch(() => {});
    await store.save(tokens);
  };
  await seed();
  const usable = points.filter((point) => kind === 'file' || point !== 'temp-written');
  const started = Date.now();
  for (let index = 0; index < kills; index++) {
    const point = usable[index % usable.length] as Point;
    const killed = await killOnce(proxy, stack, env, point, signal);
    const alive = await nextProcessKeeps(env, config);
    tally.kills += 1;
    tally.byPoint[point] ??= { kills: 0, lost: 0 };
    const byPoint = tally.byPoint[point];
    byPoint.kills += 1;
    if (!alive) {
      tally.lost += 1;
      byPoint.lost += 1;
      await seed(); // a fresh login for the next round
    }
    if (killed.signal !== signal && killed.code !== 0 && !values.json)
      say(`  (${point}: ended with ${killed.code ?? killed.signal})`);
  }
  await store.clear().catch(() => {});
  (store as TokenStore & { close?: () => unknown }).close?.();
  return `(${Math.round((Date.now() - started) / 1000)} s)`;
}

/** One refresh, killed at `point` with `signal`. */
async function killOnce(proxy: HoldingProxy, stack: Stack, env: Record<string, string>, point: Point, signal: NodeJS.Signals) {
  if (point === 'rotation') {
    proxy.holdPath = REFRESH;
    const held = proxy.nextHeld();
    const run = startCrashChild(env);
    const outcome = await Promise.race([held.then(() => undefined), run.done]);
    if (outcome === undefined) {
      run.child.kill(signal);
      await sleep(100);
    }
    proxy.holdPath = undefined;
    proxy.release();
    return run.done;
  }
  if (point === 'random') {
    stack.backend.faults.add({ fault: { kind: 'slowHeaders', ms: 300 }, match: { path: REFRESH } });
    const run = startCrashChild(env);
    await run.refreshing;
    await sleep(Math.random() * 600);
    run.child.kill(signal);
    const outcome = await run.done;
    stack.backend.faults.clear();
    return outcome;
  }
  return runCrashChild({ ...env, CRASH_AT: point, CRASH_SIGNAL: signal });
}

/** Whether the next process still has a working login: it asks for a token, then refreshes. */
async function nextProcessKeeps(env: Record<string, string>, config: Config): Promise<boolean> {
  const asked = await runCrashChild({ ...env, CRASH_FORCE: '0' });
  if (!asked.result?.ok) return false;
  // With a reuse interval, a stale refresh token works for a while: judge once it is over.
  if (config === 'overlap') await sleep(OVERLAP_S * 1000 + 300);
  const refreshed: CrashOutcome = await runCrashChild(env);
  return refreshed.result?.ok === true;
}

/** A refresh on a full disk: a typed error, nothing sent, no lock left, the family alive after. */
async function diskFullCheck(stack: Stack, scratch: string): Promise<string> {
  if (process.getuid?.() !== 0) return 'skipped (needs root to mount a tmpfs)';
  const mountPoint = await mkdtemp(join(scratch, 'small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
  try {
    stack.backend.reset();
    const env = {
      ...stack.env,
      HOME: mountPoint,
      MESH_TOKEN_STORE: 'file',
      MESH_TOKEN_DIR: join(mountPoint, '.mesh'),
      ...(values.sdk ? { CRASH_SDK: values.sdk } : {}),
    };
    const store = storeOf(env);
    const tokens: TokenSet = { ...(await storedTokens(stack)), auth_source: 'browser' };
    await store.save(tokens);
    await writeFile(join(mountPoint, 'filler'), Buffer.alloc(512 * 1024)).catch(() => {});
    const refreshes = stack.backend.counters.refreshes;
    const full = await runCrashChild(env);
    const leftovers = (await readdir(join(mountPoint, '.mesh'))).filter((name) => name !== 'token.json');
    const sent = stack.backend.counters.refreshes - refreshes;
    await rm(join(mountPoint, 'filler'));
    await mkdir(join(mountPoint, '.mesh'), { recursive: true });
    const after = await runCrashChild(env);
    const verdict =
      full.result?.code === 'token_store_failed' && sent === 0 && leftovers.length === 0 && after.result?.ok === true;
    return `${verdict ? 'ok' : 'FAILED'}: ${full.result?.code ?? 'no error'}, ${sent} refresh sent, leftovers [${leftovers.join(', ')}], next run ${after.result?.ok ? 'logged in' : 'logged out'}`;
  } finally {
    execFileSync('umount', [mountPoint]);
  }
}

await main();
