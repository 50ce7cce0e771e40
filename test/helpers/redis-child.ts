/**
 * A child process for the Redis store tests (real processes, one Redis). Env: MESH_REDIS_URL,
 * MESH_REDIS_KEY, MESH_REDIS_LEASE_MS (optional). Modes (argv[2]):
 * - `hold`: takes the store's lock, prints "locked", and waits to be killed.
 * - `loop`: MESH_LOCK_ROUNDS times takes the lock, proves nobody else is inside (an exclusive
 *   marker file at MESH_LOCK_MARKER), stays a moment, leaves, releases; prints {"rounds","overlaps"}.
 * - `load-save`: loads the set, saves it back, prints "saved" and returns WITHOUT closing the
 *   store: the process must then end by itself.
 */
import { redisTokenStore } from '../../src/auth/stores/redis-store.js';
import { reportOverlaps } from './lock-overlaps.js';

const store = redisTokenStore({
  url: process.env.MESH_REDIS_URL as string,
  key: process.env.MESH_REDIS_KEY as string,
  leaseMs: process.env.MESH_REDIS_LEASE_MS ? Number(process.env.MESH_REDIS_LEASE_MS) : undefined,
  logger: { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} },
});

const mode = process.argv[2];
if (mode === 'hold') {
  await store.lock.acquire();
  process.stdout.write('locked\n');
  setInterval(() => {}, 1000);
} else if (mode === 'loop') {
  await reportOverlaps(store.lock, process.env.MESH_LOCK_MARKER as string, Number(process.env.MESH_LOCK_ROUNDS ?? 20));
} else if (mode === 'load-save') {
  const tokens = await store.load();
  if (tokens) await store.save(tokens);
  process.stdout.write('saved\n');
} else {
  throw new Error(`unknown mode ${mode}`);
}
