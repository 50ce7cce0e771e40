// A process killed in the middle of a refresh loses nothing the identity provider still accepts
// (issue 19 item 2). The provider rotates the refresh token on every refresh and revokes the whole
// family when a rotated one comes back; a process that dies between the rotation and the save
// leaves the old one in the store. Each test kills a real child at one step of refresh -> save,
// then asks a second process (what a user's next run is) to refresh: the family must still be
// alive. The short version of `npm run soak:crash`, which measures the same across stores and
// signals many times over.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HoldingProxy, startHoldingProxy } from '../../dev/middlemen.js';
import { type RedisServer, redisServerBinary, startRedis } from '../../dev/redis.js';
import type { TokenSet, TokenStore } from '../../src/auth/stores/token-store.js';
import { runCrashChild, startCrashChild, storeOf } from '../helpers/crash.js';
import { keychainToolsInstalled, type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack();
let proxy: HoldingProxy;
let home: string;
beforeAll(async () => {
  proxy = await startHoldingProxy(stack.apiUrl);
});
afterAll(() => proxy.close());
afterEach(async () => {
  proxy.holdPath = undefined;
  proxy.release();
  stack.backend.reset();
  stack.provider.settings.refreshReuseIntervalSeconds = 0;
  if (home) await rm(home, { recursive: true, force: true });
});

const REFRESH = '/auth/refresh-token';
const counters = () => ({
  replays: stack.backend.counters.refreshReplays,
  overlaps: stack.provider.counters.reuseIntervalGrants,
  reuse: stack.provider.counters.refreshTokenReuse,
});

/** A fresh login in the store the child uses (a browser login's set, as mesh-sdk stores it). */
async function seed(store: TokenStore): Promise<TokenSet> {
  const tokens: TokenSet = { ...(await storedTokens(stack)), auth_source: 'browser' };
  await store.save(tokens);
  return tokens;
}

async function fileEnv(): Promise<Record<string, string>> {
  home = await mkdtemp(join(tmpdir(), 'mesh-crash-'));
  return { ...stack.env, MESH_API_URL: proxy.url, HOME: home, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: join(home, '.mesh') };
}

/** Starts a refresh, kills the child with `signal` once the provider has rotated (the reply held here), then lets the reply go. */
async function killAtRotation(env: Record<string, string>, signal: NodeJS.Signals) {
  proxy.holdPath = REFRESH;
  const held = proxy.nextHeld();
  const run = startCrashChild(env);
  await held;
  run.child.kill(signal);
  await new Promise((resolve) => setTimeout(resolve, 200)); // Ctrl-C arrives while the reply is still on its way
  proxy.holdPath = undefined;
  proxy.release();
  return run.done;
}

/** The next process: refreshes the stored login. `ok` means the family survived. */
const nextProcess = (env: Record<string, string>) => runCrashChild(env);

describe('file store', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s during a refresh: the save finishes first, the process still ends by that signal, and the login survives',
    async (signal) => {
      const env = await fileEnv();
      const store = storeOf(env);
      const tokens = await seed(store);
      const before = counters();
      const killed = await killAtRotation(env, signal);
      expect(killed.signal).toBe(signal);
      expect((await store.load())?.refresh_token).not.toBe(tokens.refresh_token); // the rotated token was saved
      expect((await nextProcess(env)).result).toEqual({ ok: true });
      expect(counters().reuse).toBe(before.reuse);
    },
  );

  it('SIGKILL right after the rotation, idempotency_key advertised: the next process resends the same refresh and gets the same set', async () => {
    stack.backend.settings.capabilities = ['idempotency_key'];
    const env = await fileEnv();
    const store = storeOf(env);
    await seed(store);
    const before = counters();
    expect((await killAtRotation(env, 'SIGKILL')).signal).toBe('SIGKILL');
    expect((await nextProcess(env)).result).toEqual({ ok: true });
    expect(counters().replays).toBe(before.replays + 1);
    expect(counters().reuse).toBe(before.reuse);
  });

  it('SIGKILL right after the rotation, no extension, the provider keeping a reuse interval: the next process finishes the refresh at once, inside it', async () => {
    stack.backend.settings.capabilities = [];
    // 6 s: a loaded CI machine can take over 2 s to start the next process (tsx, the SDK).
    stack.provider.settings.refreshReuseIntervalSeconds = 6;
    const env = await fileEnv();
    await seed(storeOf(env));
    const before = counters();
    await killAtRotation(env, 'SIGKILL');
    // A program that just asks for a token (the stored access token is still good for an hour):
    // the unfinished refresh is finished first, while the provider still forgives the old token.
    expect((await nextProcess({ ...env, CRASH_FORCE: '0' })).result).toEqual({ ok: true });
    expect(counters().overlaps).toBe(before.overlaps + 1);
    await new Promise((resolve) => setTimeout(resolve, 6500)); // the interval is over
    expect((await nextProcess(env)).result).toEqual({ ok: true });
    expect(counters().reuse).toBe(before.reuse);
  });

  it('SIGKILL right after the rotation with neither: the window that remains (docs/security.md), reported as a login to do again', async () => {
    stack.backend.settings.capabilities = [];
    const env = await fileEnv();
    await seed(storeOf(env));
    await killAtRotation(env, 'SIGKILL');
    const next = await nextProcess(env);
    expect(next.result).toMatchObject({ ok: false, code: 'reauthentication_required' });
  });

  it('SIGKILL between the temp file and the rename: the complete set it left is taken up, no extension needed', async () => {
    stack.backend.settings.capabilities = [];
    const env = await fileEnv();
    const store = storeOf(env);
    const tokens = await seed(store);
    const killed = await runCrashChild({ ...env, CRASH_AT: 'temp-written', CRASH_SIGNAL: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    expect((await readdir(join(home, '.mesh'))).some((name) => name.endsWith('.tmp'))).toBe(true);
    const loaded = await store.load();
    expect(loaded?.refresh_token).not.toBe(tokens.refresh_token); // the leftover's set: the rotated token
    expect((await nextProcess(env)).result).toEqual({ ok: true });
    expect((await readdir(join(home, '.mesh'))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('SIGKILL once the intent is saved, before the request: the next process sends that refresh, and it works', async () => {
    const env = await fileEnv();
    const store = storeOf(env);
    const tokens = await seed(store);
    const before = stack.backend.counters.refreshes;
    expect((await runCrashChild({ ...env, CRASH_AT: 'intent-saved', CRASH_SIGNAL: 'SIGKILL' })).signal).toBe('SIGKILL');
    expect(stack.backend.counters.refreshes).toBe(before); // never sent
    expect((await store.load())?.refresh_token).toBe(tokens.refresh_token);
    expect((await nextProcess(env)).result).toEqual({ ok: true });
  });
});

describe.skipIf(!keychainToolsInstalled() && !process.env.CI)('keychain store (a real Secret Service)', () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus?.stop());
  const keychainEnv = async () => ({
    ...(await fileEnv()),
    ...(bus.env as Record<string, string>),
    MESH_TOKEN_STORE: 'keychain',
  });

  it('SIGINT during a refresh: saved first, ended by SIGINT, the login survives', async () => {
    const env = await keychainEnv();
    const store = storeOf(env, bus.env);
    const tokens = await seed(store);
    expect((await killAtRotation(env, 'SIGINT')).signal).toBe('SIGINT');
    expect((await store.load())?.refresh_token).not.toBe(tokens.refresh_token);
    expect((await nextProcess(env)).result).toEqual({ ok: true });
    await store.clear();
  });

  it('SIGKILL right after the rotation, idempotency_key advertised: the next process finishes the same refresh', async () => {
    stack.backend.settings.capabilities = ['idempotency_key'];
    const env = await keychainEnv();
    const store = storeOf(env, bus.env);
    await seed(store);
    const before = counters();
    await killAtRotation(env, 'SIGKILL');
    expect((await nextProcess(env)).result).toEqual({ ok: true });
    expect(counters().replays).toBe(before.replays + 1);
    await store.clear();
  });
});

describe.skipIf(!redisServerBinary() && !process.env.CI)('Redis store', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());
  // A SIGKILLed holder's Redis lock lasts its lease: 1.5 s here instead of 45 s.
  const redisEnv = async () => ({
    ...(await fileEnv()),
    MESH_TOKEN_STORE: redis.url,
    MESH_TOKEN_STORE_KEY: `crash:${Date.now()}`,
    CRASH_LEASE_MS: '1500',
  });

  it('SIGTERM during a refresh: saved first, ended by SIGTERM, the login survives', async () => {
    const env = await redisEnv();
    const store = storeOf(env);
    const tokens = await seed(store);
    expect((await killAtRotation(env, 'SIGTERM')).signal).toBe('SIGTERM');
    expect((await store.load())?.refresh_token).not.toBe(tokens.refresh_token);
    expect((await nextProcess(env)).result).toEqual({ ok: true });
  });

  it('SIGKILL right after the rotation, idempotency_key advertised: the next process finishes the same refresh', async () => {
    stack.backend.settings.capabilities = ['idempotency_key'];
    const env = await redisEnv();
    await seed(storeOf(env));
    const before = counters();
    await killAtRotation(env, 'SIGKILL');
    expect((await nextProcess(env)).result).toEqual({ ok: true });
    expect(counters().replays).toBe(before.replays + 1);
  });
});

// A full disk during a refresh: mounting a small tmpfs needs root (CI runs as root).
describe.skipIf(process.getuid?.() !== 0 && !process.env.CI)('a full disk (a 256 KiB tmpfs)', () => {
  let mountPoint: string;
  beforeAll(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'mesh-small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  it('a typed error, nothing sent, no lock or temp file left, and the login intact once there is room again', async () => {
    const env = { ...(await fileEnv()), MESH_TOKEN_DIR: join(mountPoint, '.mesh') };
    const store = storeOf(env);
    const tokens = await seed(store);
    const filler = join(mountPoint, 'filler');
    await writeFile(filler, Buffer.alloc(512 * 1024)).catch(() => {}); // fills the disk to the last byte
    const before = stack.backend.counters.refreshes;
    const full = await runCrashChild(env);
    expect(full.result).toMatchObject({ ok: false, code: 'token_store_failed' });
    expect(full.result?.message).toMatch(/ENOSPC|no space left/);
    expect(stack.backend.counters.refreshes).toBe(before); // the refresh token was never presented
    expect(await readdir(join(mountPoint, '.mesh'))).toEqual(['token.json']);
    expect((await store.load())?.refresh_token).toBe(tokens.refresh_token);
    await rm(filler);
    await mkdir(join(mountPoint, '.mesh'), { recursive: true });
    expect((await nextProcess(env)).result).toEqual({ ok: true });
  });
});
