/**
 * The `auto` (and `file`) policy: the keychain first (desktop only), then the file when the
 * keychain is missing, locked or not answering (with a one-time warning naming the reason), then,
 * when neither holds anything, the Python SDK's headless token file the user named
 * (`MESH_PYTHON_TOKEN_FILE`; one notice naming it).
 *
 * A token family stays where it was found: tokens read from the file are saved back to the file,
 * tokens found in the named Python file are saved back to that file, so that a rotated refresh
 * token never leaves a stale copy behind for another reader (the Python SDK) to reuse.
 */
import { KeychainError } from '../../errors/mesh-error.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import type { FileStore } from './file-store.js';
import type { TokenSet, TokenStore } from './token-store.js';

/** An import source: read only when the stores above hold nothing. */
export type ImportSource = TokenStore & { readonly path: string };

export class LayeredStore implements TokenStore {
  #source: TokenStore | undefined;
  #keychainDown: KeychainError | undefined;

  /**
   * @param keychain the keychain store, or undefined when headless (file only)
   * @param imports read in order when the keychain and the file hold nothing
   */
  constructor(
    private readonly keychain: TokenStore | undefined,
    private readonly file: FileStore,
    private readonly logger: InternalLogger = silentLogger,
    private readonly imports: readonly ImportSource[] = [],
  ) {}

  /** Why the keychain is not used, when it is not. */
  get keychainProblem(): KeychainError | undefined {
    return this.#keychainDown;
  }

  async load(): Promise<TokenSet | null> {
    if (this.keychain && !this.#keychainDown) {
      try {
        const tokens = await this.keychain.load();
        if (tokens) return this.#foundIn(this.keychain, tokens);
      } catch (error) {
        this.#fallBack(error);
      }
    }
    const tokens = await this.file.load();
    if (tokens) return this.#foundIn(this.file, tokens);
    for (const source of this.imports) {
      const imported = await source.load();
      if (!imported) continue;
      this.logger.debug(
        `Using the tokens in ${source.path} (MESH_PYTHON_TOKEN_FILE): ${this.file.path} holds none. Refreshed tokens are written back to that file.`,
      );
      return this.#foundIn(source, imported);
    }
    this.#source = undefined;
    return null;
  }

  async save(tokens: TokenSet): Promise<void> {
    const source = this.#source;
    if (source && source !== this.keychain) {
      await source.save(tokens);
      return;
    }
    if (this.keychain && !this.#keychainDown) {
      try {
        await this.keychain.save(tokens);
        this.#source = this.keychain;
        return;
      } catch (error) {
        this.#fallBack(error);
      }
    }
    await this.file.save(tokens);
    this.#source = this.file;
  }

  async clear(): Promise<void> {
    if (this.keychain && !this.#keychainDown) {
      try {
        await this.keychain.clear();
      } catch (error) {
        this.#fallBack(error);
      }
    }
    await this.file.clear();
    // A logout must not leave a family behind to be imported again on the next start.
    for (const source of this.imports) await source.clear();
    this.#source = undefined;
  }

  /** Every place this store keeps tokens (what a logout clears): `TokenStore.places`. */
  places(): string[] {
    const places = [...(this.keychain ? [this.keychain.describe()] : []), this.file.describe()];
    if (this.#source && this.imports.includes(this.#source as ImportSource)) places.push(this.#source.describe());
    return places;
  }

  describe(): string {
    const source = this.#source;
    if (source && source !== this.keychain && source !== this.file) return source.describe();
    if (!this.keychain) return this.file.describe();
    if (this.#keychainDown) return `${this.file.describe()} (keychain unavailable: ${this.#keychainDown.message})`;
    return source === this.file ? this.file.describe() : this.keychain.describe();
  }

  #foundIn(source: TokenStore, tokens: TokenSet): TokenSet {
    this.#source = source;
    return tokens;
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
