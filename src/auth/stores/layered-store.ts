/**
 * The `auto` policy on a desktop: the keychain first, the file when the keychain is missing,
 * locked or not answering (with a one-time warning naming the reason). A token family stays
 * where it was found: tokens read from the file are saved back to the file, so that a rotated
 * refresh token never leaves a stale copy behind for another reader (the Python SDK) to reuse.
 */
import { KeychainError } from '../../errors/mesh-error.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import type { TokenSet, TokenStore } from '../token-store.js';
import type { FileStore } from './file-store.js';

export class LayeredStore implements TokenStore {
  #source: 'keychain' | 'file' | undefined;
  #keychainDown: KeychainError | undefined;

  constructor(
    private readonly keychain: TokenStore,
    private readonly file: FileStore,
    private readonly logger: InternalLogger = silentLogger,
  ) {}

  /** Why the keychain is not used, when it is not. */
  get keychainProblem(): KeychainError | undefined {
    return this.#keychainDown;
  }

  async load(): Promise<TokenSet | null> {
    if (!this.#keychainDown) {
      try {
        const tokens = await this.keychain.load();
        if (tokens) {
          this.#source = 'keychain';
          return tokens;
        }
      } catch (error) {
        this.#fallBack(error);
      }
    }
    const tokens = await this.file.load();
    if (tokens) this.#source = 'file';
    return tokens;
  }

  async save(tokens: TokenSet): Promise<void> {
    if (this.#source !== 'file' && !this.#keychainDown) {
      try {
        await this.keychain.save(tokens);
        this.#source = 'keychain';
        return;
      } catch (error) {
        this.#fallBack(error);
      }
    }
    await this.file.save(tokens);
    this.#source = 'file';
  }

  async clear(): Promise<void> {
    if (!this.#keychainDown) {
      try {
        await this.keychain.clear();
      } catch (error) {
        this.#fallBack(error);
      }
    }
    await this.file.clear();
    this.#source = undefined;
  }

  /** Every place this store keeps tokens (what a logout clears). */
  places(): string[] {
    return [this.keychain.describe(), this.file.describe()];
  }

  describe(): string {
    if (this.#keychainDown) return `${this.file.describe()} (keychain unavailable: ${this.#keychainDown.message})`;
    return this.#source === 'file' ? this.file.describe() : this.keychain.describe();
  }

  #fallBack(error: unknown): void {
    if (!(error instanceof KeychainError)) throw error;
    this.#keychainDown = error;
    this.logger.debug(`Keychain failed (${error.message}); using ${this.file.path}.`);
    this.logger.warnOnce(
      'keychain-fallback',
      `The OS keychain is unavailable (${error.message}); keeping tokens in ${this.file.path} (mode 0600) instead. ${error.hint ?? ''}`.trim(),
    );
  }
}
