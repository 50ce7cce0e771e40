/**
 * A child process for the refresh-lock tests. Modes (argv[2]):
 * - `hold`: takes the lock at MESH_LOCK_PATH, prints "locked", and waits to be killed.
 * - `loop`: MESH_LOCK_ROUNDS times takes the lock, proves nobody else is inside (an exclusive
 *   marker file beside it), stays a moment, leaves, releases; prints {"rounds", "overlaps"} as JSON.
 */
import { open, unlink } from 'node:fs/promises';
import { RefreshLock } from '../../src/auth/refresh-lock.js';

const path = process.env.MESH_LOCK_PATH as string;
const lock = new RefreshLock(path);

if (process.argv[2] === 'hold') {
  await lock.acquire();
  process.stdout.write('locked\n');
  setInterval(() => {}, 1000);
} else {
  const marker = `${path}.inside`;
  const rounds = Number(process.env.MESH_LOCK_ROUNDS ?? 20);
  let overlaps = 0;
  for (let round = 0; round < rounds; round++) {
    const held = await lock.acquire(AbortSignal.timeout(30_000));
    try {
      const inside = await open(marker, 'wx').catch(() => undefined);
      if (inside === undefined) overlaps += 1;
      else await inside.close();
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      if (inside !== undefined) await unlink(marker);
    } finally {
      await held.release();
    }
  }
  process.stdout.write(`${JSON.stringify({ rounds, overlaps })}\n`);
}
