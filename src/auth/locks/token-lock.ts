/**
 * The one shape of a cross-process refresh lock, so the token manager does not care where the lock
 * lives: a file beside the token store today (`RefreshLock`), a Redis key with an owner token and a
 * lease for fleets later (issue 14).
 */

/** A lock this caller holds. */
export interface HeldLock {
  /**
   * Gives the lock up. Removes only this holder's own lock (never one that replaced it after it was
   * judged stale), never throws, and is safe to call more than once.
   */
  release(): Promise<void>;
}

/**
 * Serialises token refreshes between processes that share one refresh token (a rotated refresh
 * token used twice revokes the whole family).
 *
 * @example
 * const held = await lock.acquire(signal);
 * try {
 *   // re-read the store: another process may have refreshed while we waited
 * } finally {
 *   await held.release();
 * }
 */
export interface TokenLock {
  /**
   * Waits until this caller holds the lock. Bounded: rejects with a `TimeoutError` when another
   * holder keeps it too long, and with an `AbortError` as soon as `signal` fires.
   */
  acquire(signal?: AbortSignal): Promise<HeldLock>;
}
