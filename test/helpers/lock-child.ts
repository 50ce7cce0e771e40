/**
 * A child process for the refresh-lock tests. Modes (argv[2]):
 * - `hold`: takes the lock at MESH_LOCK_PATH, prints "locked", and waits to be killed.
 * - `loop`: MESH_LOCK_ROUNDS times takes the lock, proves nobody else is inside (an exclusive
 *   marker file beside it), stays a moment, leaves, releases; prints {"rounds", "overlaps"} as JSON.
 */
import { RefreshLock } from '../../src/auth/locks/refresh-lock.js';
import { reportOverlaps } from './lock-overlaps.js';

const path = process.env.MESH_LOCK_PATH as string;
const lock = new RefreshLock(path);

if (process.argv[2] === 'hold') {
  await lock.acquire();
  process.stdout.write('locked\n');
  setInterval(() => {}, 1000);
} else {
  await reportOverlaps(lock, `${path}.inside`, Number(process.env.MESH_LOCK_ROUNDS ?? 20));
}
