/** For child processes that hammer one TokenLock: how often two holders were inside at once. */
import { open, unlink } from 'node:fs/promises';
import type { TokenLock } from '../../src/auth/locks/token-lock.js';

/**
 * Takes `lock` `rounds` times; inside, creates `marker` exclusively (`wx`) and removes it. A marker
 * that already exists means another process holds the lock too: an overlap. Prints
 * `{"rounds", "overlaps"}` as one JSON line.
 */
export async function reportOverlaps(lock: TokenLock, marker: string, rounds: number): Promise<void> {
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
