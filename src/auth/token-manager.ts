/**
 * "Give me a valid access token", fast and correctly: memory cache first (no I/O on the hot
 * path), refresh ahead of expiry, one refresh at a time in this process (single flight) and
 * across processes (a lock file), the rotated refresh token persisted before the new access token
 * is handed out, and a clean seam for the interactive login.
 */
import { KeychainError, ReauthenticationRequiredError } from '../errors/mesh-error.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import { type BackendAuth, refreshRefused } from './backend-auth.js';
import type { SkewClock } from './clock.js';
import type { TokenLock } from './token-lock.js';
import { tokenSetFromReply } from './token-set.js';
import type { TokenSet, TokenStore } from './token-store.js';
import { untilAborted } from './until-aborted.js';

/** The Python SDK's mark on a token set that came from the device flow (auth.py 1.5.5). */
export const DEVICE_FLOW_SOURCE = 'device_flow';

/**
 * The backend refreshes device-flow tokens as the native application that issued them (Auth0
 * binds a refresh token to its client), everything else as the web application.
 */
export function clientTypeOf(tokens: TokenSet): 'device' | 'web' {
  return tokens.auth_source === DEVICE_FLOW_SOURCE ? 'device' : 'web';
}

/** Runs a login and returns its tokens; provided by the AuthFlow where a person can answer. */
export type LoginSeam = (signal?: AbortSignal) => Promise<TokenSet>;

export interface TokenManagerOptions {
  store: TokenStore;
  backendAuth: BackendAuth;
  clock: SkewClock;
  /** Refresh this many seconds before expiry (never earlier than half the lifetime). @default 300 */
  refreshAheadSeconds?: number;
  /** Refresh at all; when false an expired token needs a new login. @default true */
  autoRefresh?: boolean;
  /** Cross-process lock for stores shared between processes (file, keychain). */
  lock?: TokenLock;
  /** The interactive login, when a person can answer it (TTY, not headless). */
  login?: LoginSeam;
  logger?: InternalLogger;
}

export interface GetTokenOptions {
  signal?: AbortSignal;
  /**
   * Refresh even if the cached token looks fresh, unless it is no longer `staleToken` (another
   * caller refreshed already). Used after a 401/404: never more than one refresh per failure.
   */
  forceRefresh?: boolean;
  staleToken?: string;
}

/** What to run or set when no login can happen here. */
export const REAUTH_HINT =
  'Run `npx mesh-auth` to log in. On a server or in CI, set MESH_API_KEY (a key from `npx mesh-env --api-key`), ' +
  'or MESH_TOKEN_FROM_ENV=true with MESH_ACCESS_TOKEN/MESH_REFRESH_TOKEN (from `npx mesh-auth print-tokens`).';

interface Cached {
  tokens: TokenSet;
  /** Corrected epoch ms after which the token is refreshed (or, without autoRefresh, given up). */
  refreshAtMs: number;
  expiresAtMs: number;
}

export class TokenManager {
  readonly #store: TokenStore;
  readonly #backendAuth: BackendAuth;
  readonly #clock: SkewClock;
  readonly #refreshAheadSeconds: number;
  readonly #autoRefresh: boolean;
  readonly #lock: TokenLock | undefined;
  readonly #login: LoginSeam | undefined;
  readonly #logger: InternalLogger;
  #cached: Cached | undefined;
  #loaded = false;
  #pending: Promise<TokenSet> | undefined;

  constructor(options: TokenManagerOptions) {
    this.#store = options.store;
    this.#backendAuth = options.backendAuth;
    this.#clock = options.clock;
    this.#refreshAheadSeconds = options.refreshAheadSeconds ?? 300;
    this.#autoRefresh = options.autoRefresh ?? true;
    this.#lock = options.lock;
    this.#login = options.login;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Where tokens are kept, for status output. */
  describeStore(): string {
    return this.#store.describe();
  }

  /** A valid access token: from memory when fresh, else refreshed (or logged in) first. */
  getAccessToken(options: GetTokenOptions = {}): Promise<string> {
    const cached = this.#cached;
    if (cached && !options.forceRefresh && this.#clock.now() < cached.refreshAtMs) {
      return Promise.resolve(cached.tokens.access_token);
    }
    return this.#slowPath(options).then((tokens) => tokens.access_token);
  }

  /** The current token set (refreshing first if needed). */
  async getTokenSet(options: GetTokenOptions = {}): Promise<TokenSet> {
    await this.getAccessToken(options);
    return { ...(this.#cached as Cached).tokens };
  }

  /**
   * The current token set as it is (this process's, else the store's), never refreshed and never
   * a login; null when there is none. For judging a token without changing it (`validateToken`).
   * The store is read without caching, so a concurrent first `getAccessToken()` is unaffected.
   */
  async peekTokenSet(): Promise<TokenSet | null> {
    if (this.#cached) return { ...this.#cached.tokens };
    return this.#store.load();
  }

  /** Stores a token set from a login (exchange or device flow) and caches it. */
  async setTokens(tokens: TokenSet): Promise<void> {
    await this.#store.save(tokens);
    this.#remember(tokens);
  }

  /** Forgets the tokens here and in the store. */
  async clear(): Promise<void> {
    this.#cached = undefined;
    this.#loaded = true;
    await this.#store.clear();
  }

  /** Whether tokens exist (without refreshing or logging in). */
  async hasTokens(): Promise<boolean> {
    if (this.#cached) return true;
    return (await this.#store.load()) !== null;
  }

  #remember(tokens: TokenSet): void {
    const expiresAtMs = tokens.expires_at * 1000;
    // Refresh ahead, but never before half the lifetime: a 60 s token is not refreshed on every call.
    const lifetimeMs = Math.max(0, expiresAtMs - this.#clock.now());
    const aheadMs = Math.min(this.#refreshAheadSeconds * 1000, lifetimeMs / 2);
    const refreshAtMs = this.#autoRefresh ? expiresAtMs - aheadMs : expiresAtMs;
    this.#cached = { tokens: { ...tokens }, refreshAtMs, expiresAtMs };
  }

  #slowPath(options: GetTokenOptions): Promise<TokenSet> {
    // Single flight: every concurrent caller shares one load/refresh. The shared work carries no
    // caller's signal (one caller giving up must not fail the others); each caller stops waiting
    // on its own signal instead.
    this.#pending ??= this.#obtain({ ...options, signal: undefined }).finally(() => {
      this.#pending = undefined;
    });
    return untilAborted(this.#pending, options.signal, 'Waiting for a token was aborted.');
  }

  async #obtain(options: GetTokenOptions): Promise<TokenSet> {
    if (!this.#loaded) {
      this.#loaded = true;
      const stored = await this.#store.load();
      if (stored) this.#remember(stored);
    }
    const cached = this.#cached;
    const forced =
      options.forceRefresh === true && (options.staleToken === undefined || cached?.tokens.access_token === options.staleToken);
    if (cached && !forced && this.#clock.now() < cached.refreshAtMs) return cached.tokens;
    if (!cached) return this.#loginOrThrow('you are not logged in', options.signal);
    if (!this.#autoRefresh) {
      if (!forced && this.#clock.now() < cached.expiresAtMs) return cached.tokens;
      return this.#loginOrThrow('the access token has expired and AUTO_REFRESH is off', options.signal);
    }
    return this.#refresh(cached.tokens, options.signal);
  }

  async #refresh(current: TokenSet, signal?: AbortSignal): Promise<TokenSet> {
    const held = await this.#lock?.acquire(signal);
    try {
      // Another process may have refreshed while we waited for the lock: adopt its tokens.
      const stored = held ? await this.#store.load() : null;
      if (stored && stored.access_token !== current.access_token && stored.refresh_token !== current.refresh_token) {
        this.#remember(stored);
        const adopted = this.#cached as Cached;
        if (this.#clock.now() < adopted.refreshAtMs) {
          this.#logger.debug('Adopted tokens another process refreshed.');
          return adopted.tokens;
        }
        current = stored;
      }
      const refreshToken = current.refresh_token;
      if (!refreshToken) return await this.#loginOrThrow('the access token has expired and there is no refresh token', signal);
      let next: TokenSet;
      try {
        const reply = await this.#backendAuth.refresh(refreshToken, { clientType: clientTypeOf(current), signal });
        // The same family: `auth_source` (so the next refresh says `device` again) and unknown fields kept.
        next = tokenSetFromReply(reply, this.#clock.nowSeconds(), current);
      } catch (error) {
        if (refreshRefused(error)) {
          return await this.#loginOrThrow(
            'the backend refused the refresh token (revoked, expired or already used)',
            signal,
            error,
          );
        }
        throw error;
      }
      await this.#persist(next);
      this.#logger.debug(`Refreshed the access token; it expires at ${new Date(next.expires_at * 1000).toISOString()}.`);
      return next;
    } finally {
      await held?.release();
    }
  }

  /**
   * Saves before the new access token is handed out; a failed save keeps the set in memory, loudly.
   * A KeychainError only reaches here from `tokenStore: 'keychain'` (under `auto` the layered store
   * falls back to the file itself): that policy fails closed, so the caller gets the error, and the
   * set stays in memory for this process (the rotated refresh token must not be lost).
   */
  async #persist(tokens: TokenSet): Promise<void> {
    this.#remember(tokens);
    try {
      await this.#store.save(tokens);
    } catch (error) {
      if (error instanceof KeychainError) {
        throw new KeychainError(
          `${error.message} The new tokens are kept in memory for this process only; they were not written anywhere else (tokenStore "keychain" never falls back to a file).`,
          { hint: error.hint, cause: error },
        );
      }
      this.#logger.warn(
        `Could not save the refreshed tokens to ${this.#store.describe()} (${(error as Error).message}). ` +
          'They are kept in memory for this process; other processes will need `npx mesh-auth`.',
      );
    }
  }

  async #loginOrThrow(why: string, signal?: AbortSignal, cause?: unknown): Promise<TokenSet> {
    if (this.#login) {
      this.#logger.debug(`Logging in: ${why}.`);
      const tokens = await this.#login(signal);
      await this.#persist(tokens);
      return tokens;
    }
    this.#cached = undefined;
    throw new ReauthenticationRequiredError(`Mesh needs you to log in again: ${why}.`, { hint: REAUTH_HINT, cause });
  }
}
