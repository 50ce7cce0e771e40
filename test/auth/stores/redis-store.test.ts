// The Redis token store against a real redis-server: record format, compare-and-set, the fenced
// lock (across real processes), sealing, and values that are not ours. Never skipped: without
// redis-server the suite fails saying so.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../dev/redis.js';
import {
  defaultRedisKey,
  type RedisTokenStoreOptions,
  redisTokenStore,
  TokenStoreConflictError,
  TokenStoreRecordError,
} from '../../../src/auth/stores/redis-store.js';
import { SealedRecordError } from '../../../src/auth/stores/seal.js';
import type { TokenSet } from '../../../src/auth/stores/token-store.js';
import { extraFieldsOf, parseStoredTokenSet } from '../../../src/auth/tokens/token-set.js';
import { ConfigError } from '../../../src/errors/mesh-error.js';
import { createLogger } from '../../../src/internal/logger.js';
import { childOutput, childSays, type RawRedis, rawRedis, redisChild } from '../../helpers/redis.js';

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);
const quiet = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };

let redis: RedisServer;
let raw: RawRedis;
let key: string;
let counter = 0;
const opened: Array<{ close(): Promise<void> }> = [];

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
  key = `mesh-sdk:test:${process.pid}:${++counter}`;
});

function store(options: Partial<RedisTokenStoreOptions> = {}) {
  const created = redisTokenStore({ url: redis.url, key, logger: quiet, ...options });
  opened.push(created);
  return created;
}

function tokens(tag: string): TokenSet {
  return { access_token: `access-${tag}`, refresh_token: `refresh-${tag}`, token_type: 'Bearer', expires_at: 2_000_000_000 };
}

async function record(): Promise<Record<string, unknown>> {
  return JSON.parse((await raw.get(key)) as string);
}

describe('redis token store: record and round trip', () => {
  it('saves a versioned record and loads it back in another store', async () => {
    await store().save(tokens('one'));
    expect(await record()).toEqual({ format: 1, version: 1, tokens: tokens('one') });
    expect(await store().load()).toEqual(tokens('one'));
  });

  it('keeps fields it does not know (the Python SDK shares token sets)', async () => {
    const withExtras = parseStoredTokenSet({ ...tokens('x'), expires_in: 3600, auth_source: 'device_flow', future: { a: 1 } });
    await store().save(withExtras);
    const loaded = (await store().load()) as TokenSet;
    expect(loaded.auth_source).toBe('device_flow');
    expect(extraFieldsOf(loaded)).toEqual({ expires_in: 3600, future: { a: 1 } });
    // Written back by another store, still there.
    const second = store();
    await second.load();
    await second.save(loaded);
    expect((await record()).tokens).toMatchObject({ expires_in: 3600, future: { a: 1 }, auth_source: 'device_flow' });
    expect((await record()).version).toBe(2);
  });

  it('works on a node-redis client of your own, and leaves it open', async () => {
    const own = await rawRedis(redis.url);
    try {
      const s = redisTokenStore({ client: own, key, logger: quiet });
      await s.save(tokens('own'));
      expect(await s.load()).toEqual(tokens('own'));
      await (await s.lock.acquire()).release();
      await s.close();
      expect(own.isOpen).toBe(true);
      expect(await own.get(key)).toContain('access-own');
      expect(s.describe()).toBe(`redis your Redis client key ${key}`);
    } finally {
      own.destroy();
    }
  });

  it('an empty key loads as null; clear() deletes the key', async () => {
    const s = store();
    expect(await s.load()).toBeNull();
    await s.save(tokens('c'));
    await s.clear();
    expect(await raw.exists(key)).toBe(0);
    expect(await s.load()).toBeNull();
  });

  it('describes itself without the password, and names a default key per deployment', () => {
    const s = redisTokenStore({ url: 'redis://user:s3cret-pw@redis.internal:6379/0', logger: quiet });
    expect(s.describe()).toBe(
      `redis redis://user:***@redis.internal:6379/0 key ${defaultRedisKey('https://mesh-abh5.onrender.com', 'https://mesh-abh5.onrender.com')}`,
    );
    expect(s.describe()).not.toContain('s3cret');
    expect(s.places()).toEqual([s.describe()]);
    expect(defaultRedisKey('https://a.example', 'aud')).toMatch(/^mesh-sdk:tokens:[0-9a-f]{16}$/);
    expect(defaultRedisKey('https://a.example', 'aud')).not.toBe(defaultRedisKey('https://b.example', 'aud'));
  });

  it('a URL that is not redis:// is a ConfigError at construction', () => {
    expect(() => redisTokenStore({ url: 'http://localhost:6379' })).toThrow(ConfigError);
    expect(() => redisTokenStore({})).toThrow(ConfigError);
  });

  it('without the redis package: a ConfigError saying to install it', async () => {
    const s = redisTokenStore({
      url: 'redis://:pw-not-shown@127.0.0.1:6379/0',
      key,
      logger: quiet,
      loadRedis: () => Promise.reject(Object.assign(new Error("Cannot find package 'redis'"), { code: 'ERR_MODULE_NOT_FOUND' })),
    });
    const error = await s.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'MESH_TOKEN_STORE=redis://:***@127.0.0.1:6379/0 needs the `redis` package: npm install redis',
    );
  });
});

describe('redis token store: compare-and-set', () => {
  it('A loads, B saves, A saves: A is refused and B’s set stays', async () => {
    await store().save(tokens('v1'));
    const a = store();
    const b = store();
    await a.load();
    await b.load();
    await b.save(tokens('b'));
    const error = await a.save(tokens('a')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenStoreConflictError);
    expect((error as Error).message).not.toContain('access-');
    expect(await record()).toEqual({ format: 1, version: 2, tokens: tokens('b') });
    // After re-reading, A may write again.
    expect(await a.load()).toEqual(tokens('b'));
    await a.save(tokens('a2'));
    expect((await record()).version).toBe(3);
  });

  it('a save with nothing read (a fresh login) wins and writes current + 1', async () => {
    const a = store();
    await a.save(tokens('v1'));
    await a.save(tokens('v2'));
    await store().save(tokens('login'));
    expect(await record()).toEqual({ format: 1, version: 3, tokens: tokens('login') });
    // A read version 2 (its own save): its next save is now refused.
    await expect(a.save(tokens('late'))).rejects.toBeInstanceOf(TokenStoreConflictError);
  });

  it('read as absent: a save is refused when someone created the key meanwhile', async () => {
    const a = store();
    expect(await a.load()).toBeNull();
    await store().save(tokens('other'));
    await expect(a.save(tokens('a'))).rejects.toBeInstanceOf(TokenStoreConflictError);
    expect((await record()).tokens).toEqual(tokens('other'));
  });
});

describe('redis token store: values that are not ours', () => {
  const cases: Array<[string, (k: string) => Promise<unknown>, RegExp]> = [
    ['corrupt JSON', (k) => raw.set(k, '{"format":1,"version":'), /not JSON/],
    ['a foreign plain string', (k) => raw.set(k, 'hello from another app'), /not JSON/],
    ['foreign JSON', (k) => raw.set(k, '{"user":"someone"}'), /not a mesh-sdk token record/],
    ['a record without tokens', (k) => raw.set(k, '{"format":1,"version":3,"tokens":{"foo":1}}'), /token set is unusable/],
    ['a hash', (k) => raw.hSet(k, 'field', 'value'), /not a string value/],
  ];
  for (const [name, plant, why] of cases) {
    it(`${name}: load and save fail typed, and the value is left as it is`, async () => {
      await plant(key);
      const before = await raw.dump(key);
      const s = store();
      const loadError = await s.load().catch((e: unknown) => e);
      expect(loadError).toBeInstanceOf(TokenStoreRecordError);
      expect((loadError as TokenStoreRecordError).code).toBe('token_store_corrupt');
      expect((loadError as Error).message).toMatch(why);
      expect((loadError as TokenStoreRecordError).hint).toContain(`DEL ${key}`);
      expect((loadError as TokenStoreRecordError).hint).toContain('mesh-auth logout');
      // Neither a compare-and-set save nor a login (nothing read) overwrites it.
      await expect(s.save(tokens('x'))).rejects.toBeInstanceOf(TokenStoreRecordError);
      await expect(store().save(tokens('x'))).rejects.toBeInstanceOf(TokenStoreRecordError);
      expect(await raw.dump(key)).toEqual(before);
    });
  }
});

describe('redis token store: sealing', () => {
  it('seals with MESH_TOKEN_KEY: no token in the record, a round trip with the key', async () => {
    await store({ sealingKey: KEY_A }).save(tokens('sealed'));
    const text = (await raw.get(key)) as string;
    expect(text).not.toContain('access-sealed');
    expect(text).not.toContain('refresh-sealed');
    const stored = JSON.parse(text);
    expect(stored).toMatchObject({ format: 1, version: 1 });
    expect(Object.keys(stored.sealed).sort()).toEqual(['data', 'iv', 'kid', 'tag']);
    expect(stored.sealed.kid).toMatch(/^[0-9a-f]{8}$/);
    expect(Buffer.from(stored.sealed.iv, 'base64')).toHaveLength(12);
    expect(await store({ sealingKey: KEY_A }).load()).toEqual(tokens('sealed'));
    // A fresh IV per write.
    const again = store({ sealingKey: KEY_A });
    await again.load();
    await again.save(tokens('sealed'));
    expect(JSON.parse((await raw.get(key)) as string).sealed.iv).not.toBe(stored.sealed.iv);
  });

  it('a wrong key, no key, or an altered record: typed errors that say which, never the key', async () => {
    await store({ sealingKey: KEY_A }).save(tokens('sealed'));
    const wrong = (await store({ sealingKey: KEY_B })
      .load()
      .catch((e: unknown) => e)) as SealedRecordError;
    expect(wrong).toBeInstanceOf(SealedRecordError);
    expect(wrong.reason).toBe('wrong_key');
    const none = (await store()
      .load()
      .catch((e: unknown) => e)) as SealedRecordError;
    expect(none).toBeInstanceOf(SealedRecordError);
    expect(none.reason).toBe('no_key');
    expect(none.hint).toContain('MESH_TOKEN_KEY');

    const stored = await record();
    const sealed = stored.sealed as { data: string };
    const bytes = Buffer.from(sealed.data, 'base64');
    bytes[0] = (bytes[0] as number) ^ 1;
    sealed.data = bytes.toString('base64');
    await raw.set(key, JSON.stringify(stored));
    const altered = (await store({ sealingKey: KEY_A })
      .load()
      .catch((e: unknown) => e)) as SealedRecordError;
    expect(altered.reason).toBe('tampered');
    for (const error of [wrong, none, altered]) {
      const text = `${error.message} ${error.hint}`;
      expect(text).not.toContain(KEY_A);
      expect(text).not.toContain(KEY_B);
      expect(text).not.toContain('access-sealed');
    }
  });

  it('a sealing key that is not 64 hex characters is a ConfigError naming MESH_TOKEN_KEY', () => {
    const error = (() => {
      try {
        redisTokenStore({ url: redis.url, sealingKey: 'not-a-key-but-secret' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).toContain('MESH_TOKEN_KEY');
    expect(error?.message).toContain('64 hexadecimal');
    expect(error?.message).not.toContain('not-a-key-but-secret');
  });

  it('without a key: one warning that the shared store holds bearer tokens in the clear', async () => {
    const warnings: string[] = [];
    const logger = createLogger({ logger: { debug() {}, warn: (m) => warnings.push(m) } });
    const s = store({ logger });
    await s.save(tokens('clear'));
    await s.load();
    await s.save(tokens('clear2'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('in the clear');
    expect(warnings[0]).toContain('MESH_TOKEN_KEY');
    await raw.del(key);
    const sealedWarnings: string[] = [];
    const sealedStore = store({
      sealingKey: KEY_A,
      logger: createLogger({ logger: { debug() {}, warn: (m) => sealedWarnings.push(m) } }),
    });
    await sealedStore.load();
    await sealedStore.save(tokens('s'));
    expect(sealedWarnings).toEqual([]);
  });
});

describe('redis lock', () => {
  it('is exclusive across two processes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mesh-redis-lock-'));
    try {
      const env = {
        MESH_REDIS_URL: redis.url,
        MESH_REDIS_KEY: key,
        MESH_LOCK_MARKER: join(dir, 'inside'),
        MESH_LOCK_ROUNDS: '40',
      };
      const outputs = await Promise.all([childOutput(redisChild('loop', env)), childOutput(redisChild('loop', env))]);
      const reports = outputs.map((out) => JSON.parse(out.trim().split('\n').at(-1) as string));
      expect(reports).toEqual([
        { rounds: 40, overlaps: 0 },
        { rounds: 40, overlaps: 0 },
      ]);
      expect(await raw.exists(`${key}:lock`)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a lease that runs out mid-hold: B takes the lock, A’s release leaves B’s, A’s save is refused', async () => {
    await store().save(tokens('v1'));
    const a = store({ leaseMs: 300 });
    const b = store({ leaseMs: 30_000 });
    const heldA = await a.lock.acquire();
    await a.load();
    const lockKey = `${key}:lock`;
    const ownerA = await raw.get(lockKey);
    await new Promise((resolve) => setTimeout(resolve, 400)); // A is slow: its lease runs out
    const started = Date.now();
    const heldB = await b.lock.acquire(AbortSignal.timeout(5000));
    expect(Date.now() - started).toBeLessThan(1000);
    const ownerB = await raw.get(lockKey);
    expect(ownerB).not.toBe(ownerA);
    await b.load();
    await b.save(tokens('b'));
    await heldA.release(); // must not delete B's lock
    expect(await raw.get(lockKey)).toBe(ownerB);
    await expect(a.save(tokens('a-late'))).rejects.toBeInstanceOf(TokenStoreConflictError);
    expect((await record()).tokens).toEqual(tokens('b'));
    await heldB.release();
    expect(await raw.exists(lockKey)).toBe(0);
    await heldB.release(); // twice is fine
  });

  it('waits while held, and gives up at its bound or on the signal', async () => {
    const holder = store();
    const held = await holder.lock.acquire();
    const bounded = store({ lockWaitMs: 300 });
    const started = Date.now();
    await expect(bounded.lock.acquire()).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(store().lock.acquire(AbortSignal.timeout(200))).rejects.toMatchObject({ code: 'aborted' });
    const waiter = store().lock.acquire(AbortSignal.timeout(5000));
    setTimeout(() => void held.release(), 200);
    await (await waiter).release();
  });
});

describe('redis store and the process', () => {
  it('a script that loads and saves ends by itself without close()', async () => {
    await store().save(tokens('exit'));
    const child = redisChild('load-save', { MESH_REDIS_URL: redis.url, MESH_REDIS_KEY: key });
    const started = Date.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      expect(await childOutput(child)).toContain('saved');
    } finally {
      clearTimeout(timer);
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await record()).version).toBe(2);
  }, 30_000);

  it('a lock holder killed with SIGKILL frees the lock when its lease runs out', async () => {
    const child = redisChild('hold', { MESH_REDIS_URL: redis.url, MESH_REDIS_KEY: key, MESH_REDIS_LEASE_MS: '1500' });
    await childSays(child, 'locked');
    child.kill('SIGKILL');
    const started = Date.now();
    const held = await store().lock.acquire(AbortSignal.timeout(10_000));
    const waited = Date.now() - started;
    await held.release();
    expect(waited).toBeLessThan(3000);
  }, 30_000);
});
