/**
 * Tokens from the environment, for platforms whose file system does not persist (Render, Heroku,
 * serverless): `MESH_ACCESS_TOKEN`, `MESH_REFRESH_TOKEN`, `MESH_TOKEN_EXPIRES_AT`. A process cannot
 * change its environment for the next deploy, so a refreshed set lives in memory and is handed to
 * `onTokensRefreshed` (and announced once as a warning): never lost silently. The lines that
 * write these variables are rendered beside this reader, in env-render.ts.
 */
import { createLogger, type InternalLogger } from '../../internal/logger.js';
import { parseStoredTokenSet, TokenSetFormatError } from '../tokens/token-set.js';
import type { TokenSet, TokenStore } from './token-store.js';

/** Options of `EnvStore`: the environment to read and where a refreshed set goes. */
export interface EnvStoreOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Called with every token set saved in this process, e.g. to push new values to a secrets manager. */
  onTokensRefreshed?: (tokens: TokenSet) => void;
  logger?: InternalLogger;
}

/**
 * Reads tokens from `MESH_ACCESS_TOKEN` / `MESH_REFRESH_TOKEN` / `MESH_TOKEN_EXPIRES_AT`.
 *
 * @example
 * const store = new EnvStore({ onTokensRefreshed: (tokens) => secrets.put('mesh', tokens) });
 */
export class EnvStore implements TokenStore {
  /** Nothing here outlives the process: a refresh records no intent (`TokenStore.inProcessOnly`). */
  readonly inProcessOnly = true;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #onTokensRefreshed: ((tokens: TokenSet) => void) | undefined;
  readonly #logger: InternalLogger;
  #inMemory: TokenSet | null = null;
  #cleared = false;

  constructor(options: EnvStoreOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#onTokensRefreshed = options.onTokensRefreshed;
    this.#logger = options.logger ?? createLogger();
  }

  async load(): Promise<TokenSet | null> {
    if (this.#inMemory) return { ...this.#inMemory };
    if (this.#cleared) return null;
    const accessToken = this.#env.MESH_ACCESS_TOKEN?.trim();
    const refreshToken = this.#env.MESH_REFRESH_TOKEN?.trim();
    if (!accessToken && !refreshToken) return null;
    const expiresAt = this.#env.MESH_TOKEN_EXPIRES_AT?.trim();
    if (expiresAt && !/^\d+(\.\d+)?$/.test(expiresAt)) {
      this.#logger.warn(
        `MESH_TOKEN_EXPIRES_AT is not epoch seconds (got ${JSON.stringify(expiresAt)}); treating the access token as expired and refreshing.`,
      );
    }
    try {
      return parseStoredTokenSet({ access_token: accessToken, refresh_token: refreshToken, expires_at: expiresAt });
    } catch (error) {
      if (error instanceof TokenSetFormatError) return null;
      throw error;
    }
  }

  /**
   * Keeps the set in memory for this process (its environment cannot be changed), hands it to
   * `onTokensRefreshed`, and warns once that `MESH_REFRESH_TOKEN` needs updating before the next deploy.
   */
  async save(tokens: TokenSet): Promise<void> {
    this.#inMemory = { ...tokens };
    this.#cleared = false;
    this.#logger.warnOnce(
      'env-store-refreshed',
      'Tokens from MESH_* environment variables were refreshed; the rotated refresh token lives in this process only. ' +
        'Update MESH_REFRESH_TOKEN before the next deploy (`npx mesh-auth print-tokens` prints fresh lines), or use MESH_API_KEY for servers.',
    );
    this.#onTokensRefreshed?.({ ...tokens });
  }

  /** Forgets the tokens for this process: `load()` then answers null even though the `MESH_*` variables are still set. */
  async clear(): Promise<void> {
    this.#inMemory = null;
    this.#cleared = true;
  }

  describe(): string {
    return this.#inMemory
      ? 'environment (MESH_ACCESS_TOKEN, ...; refreshed tokens held in memory)'
      : 'environment (MESH_ACCESS_TOKEN, MESH_REFRESH_TOKEN, MESH_TOKEN_EXPIRES_AT)';
  }
}
