import type { TokenSet, TokenStore } from './token-store.js';

/**
 * Keeps tokens in this process only: for tests and short scripts.
 *
 * @example
 * const client = new MeshClient({ tokenStore: new MemoryStore() });
 */
export class MemoryStore implements TokenStore {
  /** Nothing here outlives the process: a refresh records no intent (`TokenStore.inProcessOnly`). */
  readonly inProcessOnly = true;
  #tokens: TokenSet | null;

  constructor(initial: TokenSet | null = null) {
    this.#tokens = initial ? { ...initial } : null;
  }

  async load(): Promise<TokenSet | null> {
    return this.#tokens ? { ...this.#tokens } : null;
  }

  /** Keeps a copy of the set in this process. */
  async save(tokens: TokenSet): Promise<void> {
    this.#tokens = { ...tokens };
  }

  /** Forgets the set: `load()` then answers null. */
  async clear(): Promise<void> {
    this.#tokens = null;
  }

  describe(): string {
    return 'memory (this process only)';
  }
}
