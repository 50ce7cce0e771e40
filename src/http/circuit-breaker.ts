/**
 * After `threshold` consecutive failures to one origin, fail fast for `cooldownMs`, then let one
 * probe through: its success closes the circuit, its failure opens it again.
 */

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  threshold?: number;
  /** How long it stays open, ms. @default 30_000 */
  cooldownMs?: number;
  /** The clock, epoch ms (tests). @default Date.now */
  now?: () => number;
}

interface OriginState {
  failures: number;
  openUntil: number;
  probing: boolean;
}

export class CircuitBreaker {
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly #now: () => number;
  readonly #origins = new Map<string, OriginState>();
  /**
   * The origins with a failure not yet followed by a success: while it is empty, a caller need not
   * ask (`blockedFor` is 0, `success` changes nothing), which keeps the breaker off the hot path.
   */
  readonly failingOrigins = new Set<string>();

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.threshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  #state(origin: string): OriginState {
    let state = this.#origins.get(origin);
    if (!state) {
      state = { failures: 0, openUntil: 0, probing: false };
      this.#origins.set(origin, state);
    }
    return state;
  }

  /** Ms until a request may go out: 0 when closed, or when this caller is the probe. */
  blockedFor(origin: string): number {
    const state = this.#origins.get(origin);
    if (!state || state.failures < this.threshold) return 0;
    const left = state.openUntil - this.#now();
    if (left > 0) return left;
    if (state.probing) return this.cooldownMs; // one probe at a time
    state.probing = true;
    return 0;
  }

  success(origin: string): void {
    const state = this.#origins.get(origin);
    if (state) {
      state.failures = 0;
      state.probing = false;
    }
    this.failingOrigins.delete(origin);
  }

  failure(origin: string): void {
    const state = this.#state(origin);
    this.failingOrigins.add(origin);
    state.failures += 1;
    state.probing = false;
    if (state.failures >= this.threshold) state.openUntil = this.#now() + this.cooldownMs;
  }
}
