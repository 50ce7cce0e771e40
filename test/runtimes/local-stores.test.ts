// The token stores under Node.js, Bun and Deno, as a user meets them: the packed tarball in a
// fresh project, a script (scripts/local-stores.mjs) that chats with a login whose access token
// has expired, so that it refreshes first and the store keeps the new set. The stores are the real
// ones: ~/.mesh/token.json under a temporary HOME (0600), gnome-keyring's Secret Service on a
// private D-Bus, the environment, and a real redis-server.
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../dev/redis.js';
import type { Stack } from '../../dev/stack.js';
import { keychainAccountFor } from '../../src/auth/stores/create-token-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import { redisTokenStore } from '../../src/auth/stores/redis-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';
import {
  type ConsumerProject,
  consumerProject,
  LINGER_BOUND_MS,
  LOCAL_RUNTIMES,
  type LocalRuntime,
  lastJson,
  requireRuntime,
  runScript,
  scriptCommand,
} from './harness.js';

let project: ConsumerProject;
let bus: PrivateBus;
let redis: RedisServer;
const homes: string[] = [];
/** The test's own stores say nothing (the Redis one would warn that the set is not sealed). */
const quiet = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };

beforeAll(async () => {
  [project, bus, redis] = await Promise.all([consumerProject('local-stores', ['redis']), startKeyringBus(), startRedis()]);
  await copyFile(join(import.meta.dirname, 'scripts', 'local-stores.mjs'), join(project.dir, 'local-stores.mjs'));
});
afterAll(async () => {
  await Promise.all([
    project?.remove(),
    bus?.stop(),
    redis?.stop(),
    ...homes.map((home) => rm(home, { recursive: true, force: true })),
  ]);
});

/** A login for `who` whose access token expired a minute ago (the refresh token is good). */
async function expiredLogin(stack: Stack, who: string): Promise<TokenSet> {
  return { ...(await storedTokens(stack, who)), expires_at: Math.floor(Date.now() / 1000) - 60 };
}

async function freshHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'mesh-runtime-home-'));
  homes.push(home);
  return home;
}

interface StoreScriptResult {
  content: string[];
  startedAt: number;
  endedAt: number;
}

/** Runs the store script under `runtime`: it must exit by itself, at once (killed at 30 s: code null). */
async function runStoreScript(
  stack: Stack,
  runtime: LocalRuntime,
  env: NodeJS.ProcessEnv,
): Promise<StoreScriptResult & { stderr: string }> {
  const result = await runScript(scriptCommand(runtime, 'local-stores.mjs'), {
    cwd: project.dir,
    env: { PATH: process.env.PATH, ...stack.env, MESH_HEADLESS: 'true', ...env },
    timeoutMs: 30_000,
  });
  const output = lastJson<StoreScriptResult>(result);
  expect(output, result.stderr).toMatchObject({ content: ['5 + 7 = 12', '6 * 7 = 42'] });
  expect(result.code, 'the script exits by itself').toBe(0);
  expect(result.lingerMs, 'ms the script lived on after its last line').toBeLessThan(LINGER_BOUND_MS);
  return { ...output, stderr: result.stderr };
}

/** Runs the store script once and counts the refreshes the backend made meanwhile: one. */
async function chatWith(stack: Stack, runtime: LocalRuntime, env: NodeJS.ProcessEnv) {
  const refreshes = stack.backend.counters.refreshes;
  const result = await runStoreScript(stack, runtime, env);
  expect(stack.backend.counters.refreshes - refreshes, 'one refresh').toBe(1);
  return result;
}

// The runtimes side by side, each with its own stack (what the backend counts, and its faults,
// are that runtime's alone), its tests one after another.
describe.concurrent.each(LOCAL_RUNTIMES)('%s', (runtime) => {
  const stack = useStack();
  describe.sequential('the token stores refresh an expired login and keep the new set', () => {
    it('file: ~/.mesh/token.json under HOME, 0600', async () => {
      const home = await freshHome();
      const planted = await expiredLogin(stack, `file-${runtime}@example.test`);
      await new FileStore({ directory: join(home, '.mesh') }).save(planted);
      await chatWith(stack, runtime, { HOME: home, MESH_TOKEN_STORE: 'file' });
      const file = join(home, '.mesh', 'token.json');
      const kept = JSON.parse(await readFile(file, 'utf8')) as TokenSet;
      expect(kept.access_token).not.toBe(planted.access_token);
      expect(kept.expires_at).toBeGreaterThan(Date.now() / 1000);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    });

    // The keychain asked for by name, and as the default store on a desktop (auto: keychain first).
    it.each([
      ['tokenStore keychain', { MESH_TOKEN_STORE: 'keychain' }],
      ['auto on a desktop (MESH_HEADLESS=false)', { MESH_HEADLESS: 'false', DISPLAY: ':99' }],
    ])('keychain, %s: the Secret Service on a private D-Bus (gnome-keyring), through @napi-rs/keyring', async (_name, choice) => {
      const home = await freshHome();
      const planted = await expiredLogin(stack, `keychain-${runtime}@example.test`);
      const store = new KeychainStore({ account: keychainAccountFor(stack.apiUrl), env: bus.env });
      try {
        await store.save(planted);
        await chatWith(stack, runtime, { ...bus.env, HOME: home, ...choice });
        const kept = await store.load();
        expect(kept?.access_token).not.toBe(planted.access_token);
        expect(kept?.expires_at).toBeGreaterThan(Date.now() / 1000);
        expect(existsSync(join(home, '.mesh', 'token.json')), 'no token file beside the keychain').toBe(false);
      } finally {
        store.close();
      }
    });

    it('env: MESH_ACCESS_TOKEN and MESH_REFRESH_TOKEN (the new set lives in memory)', async () => {
      const home = await freshHome();
      const planted = await expiredLogin(stack, `env-${runtime}@example.test`);
      const result = await chatWith(stack, runtime, {
        HOME: home,
        MESH_TOKEN_STORE: 'env',
        MESH_ACCESS_TOKEN: planted.access_token,
        MESH_REFRESH_TOKEN: planted.refresh_token,
        MESH_TOKEN_EXPIRES_AT: String(planted.expires_at),
      });
      expect(result.stderr).not.toContain(planted.refresh_token);
    });

    it('redis: tokenStore redis://… against a real redis-server', async () => {
      const home = await freshHome();
      const key = `mesh-sdk:tokens:runtime-${runtime}`;
      const planted = await expiredLogin(stack, `redis-${runtime}@example.test`);
      const store = redisTokenStore({ url: redis.url, key, logger: quiet });
      try {
        await store.save(planted);
        await chatWith(stack, runtime, { HOME: home, MESH_TOKEN_STORE: redis.url, MESH_TOKEN_STORE_KEY: key });
        const kept = await store.load();
        expect(kept?.access_token).not.toBe(planted.access_token);
        expect(kept?.expires_at).toBeGreaterThan(Date.now() / 1000);
      } finally {
        await store.close();
      }
    });

    it('the refresh lock across processes: two processes refreshing one file-store login at once make one refresh', async () => {
      const home = await freshHome();
      const planted = await expiredLogin(stack, `lock-${runtime}@example.test`);
      await new FileStore({ directory: join(home, '.mesh') }).save(planted);
      // The refresh takes 2.5 s at the backend: the second process asks while the first holds the lock.
      stack.backend.faults.add({
        fault: { kind: 'slowHeaders', ms: 2500 },
        match: { method: 'POST', path: '/auth/refresh-token' },
      });
      const counters = { refreshes: stack.backend.counters.refreshes, failures: stack.backend.counters.refreshFailures };
      const reuse = stack.provider.counters.refreshTokenReuse;
      const env = { HOME: home, MESH_TOKEN_STORE: 'file' };
      const [first, second] = await Promise.all([runStoreScript(stack, runtime, env), runStoreScript(stack, runtime, env)]);
      stack.backend.faults.clear();
      // They overlapped: each started its first call before the other finished.
      expect(Math.max(first.startedAt, second.startedAt)).toBeLessThan(Math.min(first.endedAt, second.endedAt));
      expect(stack.backend.counters.refreshes - counters.refreshes, 'refreshes').toBe(1);
      expect(stack.backend.counters.refreshFailures - counters.failures).toBe(0);
      expect(stack.provider.counters.refreshTokenReuse - reuse).toBe(0);
      const kept = await new FileStore({ directory: join(home, '.mesh') }).load();
      expect(kept?.access_token).not.toBe(planted.access_token);
    });
  });
});

// Deno without run permission cannot start the keychain helper (a child process): the keychain
// store says so in a KeychainError naming the flag, and the default store keeps the login in the file.
describe.concurrent('deno with --allow-env --allow-read --allow-write --allow-net --allow-sys (no --allow-run)', () => {
  const stack = useStack();
  const command = () => [
    requireRuntime('deno'),
    'run',
    '--allow-env',
    '--allow-read',
    '--allow-write',
    '--allow-net',
    '--allow-sys',
    'local-stores.mjs',
  ];

  it('tokenStore keychain: a KeychainError whose hint names --allow-run; auto: the login refreshes in ~/.mesh/token.json', async () => {
    const home = await freshHome();
    await new FileStore({ directory: join(home, '.mesh') }).save(await expiredLogin(stack, 'deno-no-run@example.test'));
    const env = { PATH: process.env.PATH, ...stack.env, ...bus.env, HOME: home, MESH_HEADLESS: 'false', DISPLAY: ':99' };
    const keychain = await runScript(command(), {
      cwd: project.dir,
      env: { ...env, MESH_TOKEN_STORE: 'keychain' },
      timeoutMs: 30_000,
    });
    expect(keychain.code).toBe(1);
    expect(lastJson(keychain)).toEqual({
      error: {
        name: 'KeychainError',
        code: 'keychain_unavailable',
        message: expect.stringMatching(/^Could not start the keychain helper: Requires run access/),
        hint: 'Deno reaches the OS keychain through a helper process: run with --allow-run (or -A), or set MESH_TOKEN_STORE=file.',
      },
    });
    const refreshes = stack.backend.counters.refreshes;
    const auto = await runScript(command(), { cwd: project.dir, env, timeoutMs: 30_000 });
    expect(lastJson(auto), auto.stderr).toMatchObject({ content: ['5 + 7 = 12', '6 * 7 = 42'] });
    expect(auto.stderr).toContain('--allow-run');
    expect(stack.backend.counters.refreshes - refreshes).toBe(1);
  });
});
