/**
 * A clock corrected by the offset between this machine and the backend, learned from the `Date`
 * header of its responses, so that a laptop whose clock is minutes off neither refreshes in a loop
 * nor sends expired tokens.
 */

/** Offsets smaller than this are noise: `Date` has one-second resolution. */
const MIN_OFFSET_MS = 2_000;

export class SkewClock {
  /**
   * Backend time minus this machine's, ms (0 below the noise). A field, not a getter: the token
   * manager reads `localNow() + offsetMs` on every call without entering this module. Set by `learn`.
   */
  offsetMs = 0;

  /** @param localNow the machine's clock, in ms (injectable for tests). */
  constructor(readonly localNow: () => number = Date.now) {}

  /** Corrected time, ms since the epoch. */
  now(): number {
    return this.localNow() + this.offsetMs;
  }

  /** Corrected time, seconds since the epoch. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /**
   * Learns from a response's `Date` header. `sentAt` and `receivedAt` are `localNow()` times around the
   * request; the server's second is compared with their midpoint (plus half a second, since the
   * header truncates).
   */
  learn(dateHeader: string | undefined, sentAt: number, receivedAt: number): void {
    if (!dateHeader) return;
    const serverTime = Date.parse(dateHeader);
    if (Number.isNaN(serverTime)) return;
    const offset = serverTime + 500 - (sentAt + receivedAt) / 2;
    this.offsetMs = Math.abs(offset) < MIN_OFFSET_MS ? 0 : Math.round(offset);
  }
}
