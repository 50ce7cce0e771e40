/**
 * Warm getAccessToken() throughput against what a user would write by hand (a cached token and
 * an expiry check), side by side in one process; the same with the Redis store (issue 14), with
 * the count of Redis commands the warm calls sent (INFO commandstats: must be 0, the token stays
 * in memory while fresh); and the first call's cost per store.
 * Run: npm run bench. Prints figures; asserts nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../dev/redis.js';
import { BackendAuth } from '../src/auth/backend/backend-auth.js';
import type { TokenLock } from '../src/auth/locks/token-lock.js';
import { EnvStore } from '../src/auth/stores/env-store.js';
import { FileStore } from '../src/auth/stores/file-store.js';
import { KeychainStore } from '../src/auth/stores/keychain-store.js';
import { MemoryStore } from '../src/auth/stores/memory-store.js';
import { redisTokenStore } from '../src/auth/stores/redis-store.js';
import type { TokenSet, TokenStore } from '../src/auth/stores/token-store.js';
import { SkewClock } from '../src/auth/tokens/clock.js';
import { TokenManager } from '../src/auth/tokens/token-manager.js';
import { HttpClient } from '../src/http/http-client.js';
import { keychainToolsInstalled, startKeyringBus } from '../test/helpers/dbus.js';
import { rawRedis } from '../test/helpers/redis.js';

const TOKENS: TokenSet = {
  access_token: 'eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjIwMDAwMDAwMDB9.c2ln',
  refresh_token: 'refresh',
  token_type: 'Bearer',
  expires_at: 2_000_000_000,
};
const CALLS = 2_000_000;

function manager(store: TokenStore & { lock?: TokenLock }): TokenManager {
  const clock = new SkewClock();
  // No request is made in these runs: the tokens are fresh.
  return new TokenManager({
    store,
    lock: store.lock,
    clock,
    backendAuth: new BackendAuth({ http: new HttpClient({ baseUrl: 'http://127.0.0.1:1' }), clock }),
  });
}

async function perSecond(label: string, call: () => Promise<string>): Promise<number> {
  for (let i = 0; i < 50_000; i++) await call(); // warm up the JIT
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await call();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = CALLS / seconds;
  console.log(`${label.padEnd(46)} ${(rate / 1e6).toFixed(2)} M calls/s`);
  return rate;
}

async function firstCall(label: string, store: TokenStore): Promise<void> {
  const started = process.hrtime.bigint();
  await manager(store).getAccessToken();
  console.log(`${label.padEnd(46)} ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(2)} ms`);
}

console.log(`warm getAccessToken(), ${CALLS.toLocaleString()} sequential awaited calls each`);
const warm = manager(new MemoryStore(TOKENS));
await warm.getAccessToken();
// The peer: what a user writes by hand around a token they hold.
let handToken = TOKENS.access_token;
let handExpiry = TOKENS.expires_at * 1000;
const byHand = async () => {
  if (Date.now() > handExpiry - 300_000) {
    handToken = TOKENS.access_token;
    handExpiry = TOKENS.expires_at * 1000;
  }
  return handToken;
};
const rounds = [];
for (let round = 0; round < 3; round++) {
  const hand = await perSecond('hand-written cache + expiry check', byHand);
  const sdk = await perSecond('TokenManager.getAccessToken()', () => warm.getAccessToken());
  rounds.push(sdk / hand);
}
console.log(`ratio TokenManager / hand-written: ${rounds.map((r) => r.toFixed(2)).join(', ')}`);

// The Redis store: the warm path must not touch Redis. Every command the server ran is counted
// (INFO commandstats), before and after the warm calls; INFO itself is left out.
const redis = await startRedis();
const quiet = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };
const redisKey = 'mesh-sdk:tokens:bench';
const seeder = redisTokenStore({ url: redis.url, key: redisKey, logger: quiet });
await seeder.save(TOKENS);
await seeder.close();
const inspector = await rawRedis(redis.url);
const commandsRun = async () => {
  const info = await inspector.info('commandstats');
  let total = 0;
  for (const [, name, calls] of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) if (name !== 'info') total += Number(calls);
  return total;
};
const redisStore = redisTokenStore({ url: redis.url, key: redisKey, logger: quiet });
const warmRedis = manager(redisStore);
const beforeLoad = await commandsRun();
await warmRedis.getAccessToken(); // the one load
const afterLoad = await commandsRun();
const redisRate = await perSecond('TokenManager.getAccessToken(), Redis store', () => warmRedis.getAccessToken());
const afterWarm = await commandsRun();
console.log(
  `${'Redis commands: first call / warm calls'.padEnd(46)} ${afterLoad - beforeLoad} / ${afterWarm - afterLoad} ` +
    `(over ${(CALLS + 50_000).toLocaleString()} warm calls; ${redisRate >= 1e6 ? '>= 1M/s' : 'BELOW 1M/s'})`,
);

console.log('\nfirst call (load from the store, cold manager)');
const directory = await mkdtemp(join(tmpdir(), 'mesh-bench-'));
await new FileStore({ directory }).save(TOKENS);
await firstCall('memory', new MemoryStore(TOKENS));
await firstCall('env', new EnvStore({ env: { MESH_ACCESS_TOKEN: TOKENS.access_token, MESH_TOKEN_EXPIRES_AT: '2000000000' } }));
await firstCall('file (~/.mesh/token.json)', new FileStore({ directory }));
await firstCall('redis (connect + GET, loopback)', redisTokenStore({ url: redis.url, key: redisKey, logger: quiet }));
inspector.destroy();
await redisStore.close();
await redis.stop();
if (keychainToolsInstalled()) {
  const bus = await startKeyringBus();
  await new KeychainStore({ account: 'bench', env: bus.env }).save(TOKENS);
  await firstCall('keychain (helper start + Secret Service read)', new KeychainStore({ account: 'bench', env: bus.env }));
  const store = new KeychainStore({ account: 'bench', env: bus.env });
  await store.load();
  const started = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) await store.load();
  console.log(
    `${'keychain read, helper already running'.padEnd(46)} ${(Number(process.hrtime.bigint() - started) / 50 / 1e6).toFixed(2)} ms`,
  );
  await bus.stop();
} else {
  console.log('keychain: skipped (dbus-daemon / gnome-keyring not installed)');
}
await rm(directory, { recursive: true, force: true });
process.exit(0);
