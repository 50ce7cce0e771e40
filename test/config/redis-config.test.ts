// MESH_TOKEN_STORE=redis://..., MESH_TOKEN_KEY and MESH_TOKEN_STORE_KEY: parsed and checked at
// construction (a password or a key never shown), wired by the storage policy into the Redis store
// with its own lock, and MESH_TOKEN_FROM_ENV=true as the seed of an empty key: against a real
// redis-server, with real processes racing to seed.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../dev/redis.js';
import { createTokenStore, redisKeyFor } from '../../src/auth/stores/create-token-store.js';
import type { RedisTokenStore } from '../../src/auth/stores/redis-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { inspectConfig, resolveConfig } from '../../src/config/resolve.js';
import { ConfigError, defaultRedisKey, MeshClient } from '../../src/index.js';
import { childOutput, type RawRedis, rawRedis } from '../helpers/redis.js';

const KEY_A = 'a'.repeat(64);
const SEED_CHILD = resolve(import.meta.dirname, 'seed-child.ts');
const quiet = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('redis settings', () => {
  it('MESH_TOKEN_STORE=redis://... selects the Redis store, with its URL, key and sealing key', () => {
    const config = resolveConfig({
      env: {
        MESH_TOKEN_STORE: 'redis://app:pw@redis.internal:6380/2',
        MESH_TOKEN_STORE_KEY: 'mesh-sdk:tokens:prod',
        MESH_TOKEN_KEY: KEY_A,
      },
    });
    expect(config).toMatchObject({
      tokenStore: 'redis',
      tokenStoreUrl: 'redis://app:pw@redis.internal:6380/2',
      tokenStoreKey: 'mesh-sdk:tokens:prod',
      tokenSealingKey: KEY_A,
      seedFromEnv: false,
    });
    expect(config.sources).toMatchObject({ tokenStore: 'env', tokenStoreKey: 'env', tokenSealingKey: 'env' });
    expect(resolveConfig({ env: { MESH_TOKEN_STORE: 'rediss://redis.example:6379' } }).tokenStore).toBe('redis');
    // The option takes the same URL, and wins over the environment.
    const fromOption = resolveConfig({ env: { MESH_TOKEN_STORE: 'file' }, tokenStore: 'redis://127.0.0.1:6379/0' });
    expect([fromOption.tokenStore, fromOption.tokenStoreUrl, fromOption.sources.tokenStore]).toEqual([
      'redis',
      'redis://127.0.0.1:6379/0',
      'option',
    ]);
  });

  it('the default key is one per deployment (API URL + audience)', () => {
    const config = resolveConfig({ env: { MESH_TOKEN_STORE: 'redis://127.0.0.1:6379/0', MESH_API_URL: 'https://a.example' } });
    expect(config.tokenStoreKey).toBeUndefined();
    expect(redisKeyFor(config)).toBe(defaultRedisKey('https://a.example', config.auth0.audience));
    expect(redisKeyFor({ ...config, apiUrl: 'https://b.example' })).not.toBe(redisKeyFor(config));
  });

  it.each([
    ['http://redis.internal:6379', /expected redis:\/\/\[user:password@\]host:port\/db/],
    ['redis://', /got "redis:\/\/"/],
    ['redis://host:6379/zero', /MESH_TOKEN_STORE is invalid/],
    ['redis://host:notaport/0', /MESH_TOKEN_STORE is invalid/],
  ])('a malformed URL %s is a ConfigError naming MESH_TOKEN_STORE and the expected form', (url, message) => {
    const error = configErrorOf(() => resolveConfig({ env: { MESH_TOKEN_STORE: url } }));
    expect(error.message).toContain('MESH_TOKEN_STORE');
    expect(`${error.message} ${error.hint}`).toMatch(/redis:\/\/|one of auto/);
    if (url.startsWith('redis')) expect(error.message).toMatch(message);
  });

  it('a malformed URL with a password never shows the password', () => {
    for (const url of ['redis://user:hunter2-secret@host:6379/zero', 'redis://user:hunter2-secret@ho st:6379/0']) {
      const error = configErrorOf(() => resolveConfig({ env: { MESH_TOKEN_STORE: url } }));
      expect(`${error.message} ${error.hint}`).not.toContain('hunter2-secret');
      expect(error.message).toContain('MESH_TOKEN_STORE');
    }
    const report = inspectConfig({ env: { MESH_TOKEN_STORE: 'redis://:hunter2-secret@host:1/x' } });
    expect(report.problems.map((p) => p.variable)).toEqual(['MESH_TOKEN_STORE']);
    expect(JSON.stringify(report.problems.map((p) => p.error.message))).not.toContain('hunter2-secret');
  });

  it('MESH_TOKEN_KEY must be 64 hex characters: a ConfigError at construction, never echoed', () => {
    for (const bad of ['not-a-key-but-secret', 'ab'.repeat(31), `${'g'.repeat(64)}`]) {
      const error = configErrorOf(
        () => new MeshClient({ env: { MESH_TOKEN_STORE: 'redis://127.0.0.1:6379/0', MESH_TOKEN_KEY: bad } }),
      );
      expect(error.message).toContain('MESH_TOKEN_KEY');
      expect(error.message).toContain('64 hexadecimal');
      expect(error.message).not.toContain(bad);
    }
    const option = configErrorOf(() => resolveConfig({ env: {}, tokenSealingKey: 'secret-sealing-words' }));
    expect(option.message).toContain('tokenSealingKey');
    expect(option.message).not.toContain('secret-sealing-words');
  });

  it('MESH_TOKEN_FROM_ENV=true with a Redis URL is a seed, not a conflict; with another store it still conflicts', () => {
    const seeded = resolveConfig({ env: { MESH_TOKEN_STORE: 'redis://127.0.0.1:6379/0', MESH_TOKEN_FROM_ENV: 'true' } });
    expect([seeded.tokenStore, seeded.seedFromEnv]).toEqual(['redis', true]);
    expect(
      configErrorOf(() => resolveConfig({ env: { MESH_TOKEN_STORE: 'file', MESH_TOKEN_FROM_ENV: 'true' } })).message,
    ).toMatch(/conflicts/);
    expect(resolveConfig({ env: { MESH_TOKEN_FROM_ENV: 'true' } })).toMatchObject({ tokenStore: 'env', seedFromEnv: false });
  });

  it('the storage policy builds the Redis store (its own lock, no lock file), described without the password', () => {
    const config = resolveConfig({ env: { MESH_TOKEN_STORE: 'redis://user:s3cret-pw@redis.internal:6379/0' } });
    const selection = createTokenStore(config, { env: {}, logger: quiet });
    const store = selection.store as RedisTokenStore;
    expect(selection.lock).toBeUndefined();
    expect(store.lock).toBeDefined();
    expect(store.describe()).toBe(`redis redis://user:***@redis.internal:6379/0 key ${redisKeyFor(config)}`);
    expect(
      new MeshClient({ env: { MESH_TOKEN_STORE: 'redis://user:s3cret-pw@redis.internal:6379/0' } }).describeTokenStore(),
    ).toBe(store.describe());
  });
});

describe('seeding an empty key from MESH_TOKEN_FROM_ENV', () => {
  let redis: RedisServer;
  let raw: RawRedis;
  let key: string;
  let counter = 0;
  const opened: RedisTokenStore[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    raw = await rawRedis(redis.url);
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    raw?.destroy();
    await redis?.stop();
  });
  beforeEach(() => {
    key = `mesh-sdk:seed:${process.pid}:${++counter}`;
  });

  const envTokens = (tag: string) => ({
    MESH_ACCESS_TOKEN: `access-${tag}`,
    MESH_REFRESH_TOKEN: `refresh-${tag}`,
    MESH_TOKEN_EXPIRES_AT: '2000000000',
  });

  function storeFor(env: Record<string, string>): RedisTokenStore {
    const full = { MESH_TOKEN_STORE: redis.url, MESH_TOKEN_STORE_KEY: key, MESH_TOKEN_FROM_ENV: 'true', ...env };
    const store = createTokenStore(resolveConfig({ env: full }), { env: full, logger: quiet }).store as RedisTokenStore;
    opened.push(store);
    return store;
  }

  const stored = async () => JSON.parse((await raw.get(key)) as string) as { version: number; tokens: TokenSet };

  it('the first instance with an empty key writes the env set; a later one with stale env tokens uses what Redis holds', async () => {
    const first = storeFor(envTokens('first'));
    expect((await first.load())?.refresh_token).toBe('refresh-first');
    expect(await stored()).toMatchObject({
      version: 1,
      tokens: { access_token: 'access-first', refresh_token: 'refresh-first' },
    });
    // The fleet refreshes: Redis holds a newer set.
    await first.save({ access_token: 'access-2', refresh_token: 'refresh-2', expires_at: 2_000_000_000 });
    const later = storeFor(envTokens('stale-dashboard'));
    expect((await later.load())?.refresh_token).toBe('refresh-2');
    expect((await stored()).version).toBe(2);
  });

  it('several processes starting at once on an empty key: exactly one seeds, all read its set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mesh-seed-'));
    const go = join(dir, 'go');
    try {
      const children = [1, 2, 3, 4, 5, 6].map((n) =>
        spawn(process.execPath, ['--import', 'tsx', SEED_CHILD], {
          env: {
            ...process.env,
            ...envTokens(`p${n}`),
            MESH_TOKEN_STORE: redis.url,
            MESH_TOKEN_STORE_KEY: key,
            MESH_TOKEN_FROM_ENV: 'true',
            MESH_TOKEN_KEY: '',
            MESH_SEED_GO: go,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      const outputs = Promise.all(children.map(childOutput));
      await new Promise((resolve) => setTimeout(resolve, 1500)); // every child is up and polling
      await writeFile(go, '');
      const seen = (await outputs).map((out) => JSON.parse(out.trim().split('\n').at(-1) as string) as { refresh: string });
      const record = await stored();
      expect(record.version).toBe(1);
      expect(record.tokens.refresh_token).toMatch(/^refresh-p[1-6]$/);
      expect(seen.map((s) => s.refresh)).toEqual(Array(6).fill(record.tokens.refresh_token));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('seals the seed with MESH_TOKEN_KEY', async () => {
    await storeFor({ ...envTokens('sealed'), MESH_TOKEN_KEY: KEY_A }).load();
    const text = (await raw.get(key)) as string;
    expect(text).not.toContain('access-sealed');
    expect(JSON.parse(text)).toMatchObject({ version: 1, sealed: { kid: expect.stringMatching(/^[0-9a-f]{8}$/) } });
    expect((await storeFor({ MESH_TOKEN_KEY: KEY_A }).load())?.access_token).toBe('access-sealed');
  });

  it('never seeds again once the store has seen a record, nor after a logout', async () => {
    const store = storeFor(envTokens('once'));
    await store.load();
    await raw.del(key); // Redis lost its data under a running instance
    expect(await store.load()).toBeNull();
    expect(await raw.exists(key)).toBe(0);
    const loggedOut = storeFor(envTokens('again'));
    await loggedOut.clear();
    expect(await loggedOut.load()).toBeNull();
    expect(await raw.exists(key)).toBe(0);
  });

  it('without env tokens, an empty key stays empty', async () => {
    expect(await storeFor({}).load()).toBeNull();
    expect(await raw.exists(key)).toBe(0);
  });
});
