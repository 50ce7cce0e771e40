// `mesh-auth doctor` and `mesh-auth status` with MESH_TOKEN_STORE=redis://...: the token-store
// check reads the real key on a real redis-server (password protected, so redaction is tested):
// reachable within the bound, key present, version, sealed and with which key id, the lock; and
// status names the store, never the password.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { type RedisServer, startRedis } from '../../dev/redis.js';
import { redisStoreFor } from '../../src/auth/stores/create-token-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { type Check, diagnose } from '../../src/diagnostics/doctor.js';
import { type RawRedis, rawRedis } from '../helpers/redis.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const PASSWORD = 'redis-pw-never-shown';
const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);
const NO_KEYCHAIN = { env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/mesh-test-bus' } };
const ROOT = resolve(import.meta.dirname, '../..');

const stack = useStack();
let redis: RedisServer;
let raw: RawRedis;
let tokens: TokenSet;
let home: string;
let key: string;
let counter = 0;

beforeAll(async () => {
  [redis, tokens, home] = await Promise.all([
    startRedis({ password: PASSWORD }),
    storedTokens(stack),
    mkdtemp(join(tmpdir(), 'mesh-redis-doctor-')),
  ]);
  raw = await rawRedis(redis.url);
});
afterAll(async () => {
  raw?.destroy();
  await Promise.all([redis?.stop(), home && rm(home, { recursive: true, force: true })]);
});
beforeEach(() => {
  key = `mesh-sdk:doctor:${process.pid}:${++counter}`;
});

const redactedUrl = () => `redis://:***@127.0.0.1:${redis.port}/0`;

function envFor(extra: Record<string, string> = {}): Record<string, string> {
  return { ...stack.env, CI: 'true', HOME: home, MESH_TOKEN_STORE: redis.url, MESH_TOKEN_STORE_KEY: key, ...extra };
}

/** Writes `set` under the key as a client of this configuration would (sealed with `sealingKey`). */
async function seedStore(set: TokenSet, sealingKey?: string): Promise<void> {
  const env = envFor(sealingKey ? { MESH_TOKEN_KEY: sealingKey } : {});
  const quiet = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };
  const store = redisStoreFor(resolveConfig({ env }), { env, logger: quiet });
  try {
    await store.save(set);
  } finally {
    await store.close();
  }
}

async function doctor(env: Record<string, string>): Promise<Record<string, Check>> {
  const checks = await diagnose({
    options: { interactive: false, env, logger: { debug() {}, warn() {} } },
    makeClient: (options) => new MeshClient(options),
    keychain: NO_KEYCHAIN,
  });
  const text = JSON.stringify(checks);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(tokens.refresh_token as string);
  expect(text).not.toContain(KEY_A);
  return Object.fromEntries(checks.map((check) => [check.name, check]));
}

describe('doctor: the token-store check', () => {
  it('a readable clear record: reachable, version, not sealed; the token and a real call pass through the store', async () => {
    await seedStore(tokens);
    const found = await doctor(envFor());
    expect(found['token-store']).toEqual({
      name: 'token-store',
      ok: true,
      detail: `redis ${redactedUrl()} key ${key}: reachable; version 1, not sealed: anyone who can read the key can use the tokens (set MESH_TOKEN_KEY to seal them)`,
    });
    expect(found.configuration?.detail).toContain(`MESH_TOKEN_STORE=${redactedUrl()} (env)`);
    expect(found.token).toMatchObject({ ok: true, detail: expect.stringContaining(`redis ${redactedUrl()} key ${key}`) });
    expect(found['api-call']).toMatchObject({ ok: true });
  });

  it('sealed with MESH_TOKEN_KEY: the key id matches; another key or none fails with what to set', async () => {
    await seedStore(tokens, KEY_A);
    const sealed = JSON.parse((await raw.get(key)) as string).sealed.kid as string;
    const matching = await doctor(envFor({ MESH_TOKEN_KEY: KEY_A }));
    expect(matching['token-store']).toMatchObject({
      ok: true,
      detail: expect.stringContaining(`version 1, sealed (key id ${sealed} matches MESH_TOKEN_KEY)`),
    });
    const other = await doctor(envFor({ MESH_TOKEN_KEY: KEY_B }));
    expect(other['token-store']).toMatchObject({
      ok: false,
      detail: expect.stringMatching(new RegExp(`sealed with key id ${sealed}, but MESH_TOKEN_KEY has key id [0-9a-f]{8}$`)),
      recommendation: expect.stringContaining(`key with id ${sealed}`),
    });
    expect(JSON.stringify(other)).not.toContain(KEY_B);
    const none = await doctor(envFor());
    expect(none['token-store']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('MESH_TOKEN_KEY is not set'),
      recommendation: expect.stringContaining('Set MESH_TOKEN_KEY'),
    });
  });

  it('an empty key fails with how to log in to the store; with MESH_TOKEN_FROM_ENV and env tokens it will be seeded', async () => {
    const empty = await doctor(envFor());
    expect(empty['token-store']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('key empty'),
      recommendation: expect.stringContaining('npx mesh-auth'),
    });
    const seeding = await doctor(
      envFor({
        MESH_TOKEN_FROM_ENV: 'true',
        MESH_ACCESS_TOKEN: tokens.access_token,
        MESH_REFRESH_TOKEN: tokens.refresh_token as string,
      }),
    );
    expect(seeding['token-store']).toMatchObject({ ok: true, detail: expect.stringContaining('seeded from MESH_ACCESS_TOKEN') });
  });

  it('a foreign value under the key: fails, left untouched, with the fix', async () => {
    await raw.set(key, 'another program owns this');
    const found = await doctor(envFor());
    expect(found['token-store']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('not a mesh-sdk token record'),
      recommendation: expect.stringContaining(`DEL ${key}`),
    });
    expect(await raw.get(key)).toBe('another program owns this');
  });

  it('shows a held refresh lock and its lease', async () => {
    await seedStore(tokens);
    await raw.set(`${key}:lock`, 'someone', { PX: 30_000 });
    const found = await doctor(envFor());
    expect(found['token-store']?.detail).toMatch(/refresh lock held \(\d+ ms of lease left\)$/);
  });

  it('Redis unreachable: fails within the bound, naming the URL without its password', async () => {
    const port = await freePort();
    const started = Date.now();
    const found = await doctor(envFor({ MESH_TOKEN_STORE: `redis://:${PASSWORD}@127.0.0.1:${port}/0` }));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(found['token-store']).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`redis://:***@127.0.0.1:${port}/0`),
      recommendation: expect.stringContaining('Redis'),
    });
  }, 30_000);

  it('a malformed MESH_TOKEN_STORE URL: a configuration finding, the token-store check skipped, no password shown', async () => {
    const found = await doctor(envFor({ MESH_TOKEN_STORE: `redis://:${PASSWORD}@127.0.0.1:notaport/0` }));
    expect(found.configuration).toMatchObject({ ok: false, detail: expect.stringContaining('MESH_TOKEN_STORE') });
    expect(found['token-store']).toMatchObject({ ok: false, skipped: true });
  });
});

/** Runs `mesh-auth <args>` from the source, as the bin would run. */
function meshAuth(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/mesh-auth.ts'), ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('mesh-auth status with the Redis store', () => {
  it('names the store (URL without its password, and the key) logged in and logged out', async () => {
    await seedStore(tokens);
    const line = `Tokens: redis ${redactedUrl()} key ${key}`;
    const logged = await meshAuth(['status'], envFor({ NO_COLOR: '1' }));
    expect(logged.code, logged.stderr).toBe(0);
    expect(logged.stderr).toContain('Logged in as');
    expect(logged.stderr).toContain(line);
    await raw.del(key);
    const out = await meshAuth(['status'], envFor({ NO_COLOR: '1' }));
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('Not logged in');
    expect(out.stderr).toContain(line);
    expect(logged.stderr + logged.stdout + out.stderr + out.stdout).not.toContain(PASSWORD);
  }, 30_000);
});
