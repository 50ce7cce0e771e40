/**
 * The fleet-wide refresh lock (issue 14): a Redis key `<tokens key>:lock` holding a random owner
 * token, taken with `SET NX PX <lease>` and released by a compare-and-delete script, so a holder
 * only ever removes its own lock. A holder that dies (SIGKILL, a lost machine) frees the lock when
 * its lease runs out; a holder that outlives its lease cannot harm the newer holder either: its
 * release deletes nothing, and the token set is written by compare-and-set on its version (the
 * store), so its late save is refused.
 */
import { randomBytes } from 'node:crypto';
import { AbortError, TimeoutError } from '../../errors/mesh-error.js';
import { sleep } from '../../http/waiting.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import type { HeldLock, TokenLock } from './token-lock.js';

/** What the lock needs from a Redis connection: one command, bounded, errors already typed. */
export interface RedisCommands {
  command(args: string[]): Promise<unknown>;
}

export interface RedisLockOptions {
  /** How long a taken lock lives without its holder: longer than the longest refresh (30 s cap). @default 45_000 */
  leaseMs?: number;
  /** How long `acquire` waits for another holder. Longer than the lease, so a dead holder is outwaited. @default 60_000 */
  waitMs?: number;
  logger?: InternalLogger;
}

export const DEFAULT_LEASE_MS = 45_000;
const ABORTED = 'Waiting for the Redis token refresh lock was aborted.';

// Deletes the lock only while it still holds this owner's token (a lease that ran out may have been
// taken by someone else since): GET and DEL in one atomic step.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * The Redis implementation of `TokenLock`.
 *
 * @example
 * const held = await store.lock.acquire(AbortSignal.timeout(60_000));
 * try {
 *   // re-read the store, refresh, save (compare-and-set)
 * } finally {
 *   await held.release();
 * }
 */
export class RedisLock implements TokenLock {
  readonly leaseMs: number;
  readonly #waitMs: number;
  readonly #logger: InternalLogger;

  constructor(
    readonly redis: RedisCommands,
    /** The lock's own key, `<tokens key>:lock`. */
    readonly key: string,
    options: RedisLockOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#waitMs = options.waitMs ?? 60_000;
    this.#logger = options.logger ?? silentLogger;
  }

  async acquire(signal?: AbortSignal): Promise<HeldLock> {
    const deadline = Date.now() + this.#waitMs;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortError(ABORTED);
      const owner = randomBytes(16).toString('hex');
      const reply = await this.redis.command(['SET', this.key, owner, 'NX', 'PX', String(this.leaseMs)]);
      if (reply === 'OK') return this.#held(owner);
      if (Date.now() > deadline) {
        throw new TimeoutError(
          `Another process has held the Redis token refresh lock (${this.key}) for over ${this.#waitMs} ms.`,
          {
            hint: `The lock frees itself when its ${this.leaseMs} ms lease runs out; if no other mesh-sdk process is refreshing, DEL ${this.key}.`,
          },
        );
      }
      // Short polls with jitter: a refresh takes tens of milliseconds; a dead holder's lease, seconds.
      await sleep(Math.min(250, 20 + attempt * 15) + Math.random() * 20, signal, ABORTED);
    }
  }

  #held(owner: string): HeldLock {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          const removed = await this.redis.command(['EVAL', RELEASE_SCRIPT, '1', this.key, owner]);
          if (removed !== 1)
            this.#logger.debug(`The Redis refresh lock ${this.key} had expired before its release (lease ${this.leaseMs} ms).`);
        } catch (error) {
          // Never throws: the lease frees the lock anyway.
          this.#logger.debug(
            `Could not release the Redis refresh lock ${this.key} (${(error as Error).message}); its lease frees it.`,
          );
        }
      },
    };
  }
}
