/**
 * "Give me a valid access token", fast and correctly: memory cache first (no I/O on the hot
 * path), refresh ahead of expiry, one refresh at a time in this process (single flight) and
 * across processes (a lock file), the rotated refresh token persisted before the new access token
 * is handed out, and a clean seam for the interactive login.
 */
import { KeychainError, ReauthenticationRequiredError } from '../../errors/mesh-error.js';
import { untilAborted } from '../../http/waiting.js';
import { holdSignals } from '../../internal/held-signals.js';
import { decodeJwt } from '../../internal/jwt.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import type { BackendAuth } from '../backend/backend-auth.js';
import type { Credentials } from '../credentials.js';
import { intentOf } from '../locks/refresh-intent.js';
import type { TokenLock } from '../locks/token-lock.js';
import type { TokenSet, TokenStore } from '../stores/token-store.js';
import { TokenStoreConflictError } from '../stores/token-store-conflict.js';
import type { SkewClock } from './clock.js';
import { rotate } from './rotation.js';
import { extraFieldsOf, withExtraFields } from './token-set.js';

export { clientTypeOf, DEVICE_FLOW_SOURCE } from './rotation.js';

/**
 * Runs a login, stores its tokens (through `setTokens`) and returns them; provided by the
 * composition root where a person can answer.
 */
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
  /** What to do when no login can happen here. @default REAUTH_HINT (the CLI's login fills the default stores) */
  reauthHint?: string;
}

export interface GetTokenOptions {
  signal?: AbortSignal;
  /**
   * Refresh even if the cached token looks fresh, unless it is no longer `staleToken` (another
   * caller refreshed already). Used after a 401/404: never more than one refresh per failure.
   */
  forceRefresh?: boolean;
  staleToken?: string;
  /** Never start a login for this call (status, `mesh-auth token`): no tokens is ReauthenticationRequiredError. @default true */
  allowLogin?: boolean;
}

/** What to run or set when no login can happen here. */
export const REAUTH_HINT =
  'Run `npx mesh-auth` to log in. On a server or in CI, set MESH_API_KEY (a key from `npx mesh-env --api-key`), ' +
  'or MESH_TOKEN_FROM_ENV=true with MESH_ACCESS_TOKEN/MESH_REFRESH_TOKEN (from `npx mesh-auth print-tokens`).';

interface Cached {
  tokens: TokenSet;
  /** Corrected epoch ms after which the token is refreshed (or, without autoRefresh, given up). */
  refreshAtMs: number;
  /**
   * Until when the token is handed out while a refresh runs in the background (the refresh-ahead
   * window): its expiry less a margin for the request it goes out with. Equal to `refreshAtMs`
   * without autoRefresh (no background refresh).
   */
  serveUntilMs: number;
  expiresAtMs: number;
}

/** What the token manager's own work carries besides a caller's options. */
interface ObtainOptions extends GetTokenOptions {
  /** A refresh ahead of expiry nobody waits for: never a login, and a failure forgets nothing. */
  background?: boolean;
}

/**
 * The stored set's field holding the backend's user id for the set's subject, and the e-mail address
 * its profile gave (`{ id, sub, email? }`): not secret, carried through refreshes like any field of
 * the set, absent from a new login's set. The address names the person in `authStatus()` when the
 * login returned no ID token with one, without asking the profile again.
 */
export const USER_FIELD = 'mesh_user';

/** What the set keeps of the backend's user (USER_FIELD). */
interface UserEntry {
  id: string;
  sub: string;
  email?: string;
}

/** A token's `sub`, or undefined when it is not a JWT or has none. */
function subjectOf(accessToken: string): string | undefined {
  try {
    const { sub } = decodeJwt(accessToken).payload;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** The user entry a set keeps for this token's subject. */
function userEntryIn(tokens: TokenSet, accessToken: string): UserEntry | undefined {
  const entry = extraFieldsOf(tokens)[USER_FIELD] as { id?: unknown; sub?: unknown; email?: unknown } | undefined;
  if (typeof entry?.id !== 'string' || typeof entry.sub !== 'string' || entry.sub !== subjectOf(accessToken)) return undefined;
  return { id: entry.id, sub: entry.sub, ...(typeof entry.email === 'string' ? { email: entry.email } : {}) };
}

/** The entry for `userId` (and its address, when the profile gave one) for the subject `sub`. */
function userEntry(userId: string, sub: string, email: string | undefined): UserEntry {
  return { id: userId, sub, ...(email?.includes('@') ? { email } : {}) };
}

/** `tokens` with the backend's user id (and e-mail address) for their subject kept beside them (a login's set, before it is stored). */
export function withUserId(tokens: TokenSet, userId: string, email?: string): TokenSet {
  const sub = subjectOf(tokens.access_token);
  if (sub === undefined) return tokens;
  return withExtraFields(tokens, { ...extraFieldsOf(tokens), [USER_FIELD]: userEntry(userId, sub, email) });
}

/** A token is not handed out in its last seconds (or tenth of its life): the request it rides must arrive before it expires. */
const EXPIRY_MARGIN_MS = 5000;
/** Waits between failed background refreshes: 1 s, doubling, at most a minute; the expiry is the last word. */
const BACKGROUND_RETRY_FIRST_MS = 1000;
/** A background refresh starts this long after the call that found the token due (at most a quarter of what is left of its window). */
const BACKGROUND_START_DELAY_MS = 1000;
const BACKGROUND_RETRY_MAX_MS = 60_000;

/** The token manager is the credentials of a client in the default (login) mode. */
export class TokenManager implements Credentials {
  readonly kind = 'bearer';
  readonly refusedHint = 'Run `npx mesh-auth` to log in again.';
  readonly #store: TokenStore;
  readonly #backendAuth: BackendAuth;
  readonly #clock: SkewClock;
  readonly #refreshAheadSeconds: number;
  readonly #autoRefresh: boolean;
  readonly #lock: TokenLock | undefined;
  readonly #login: LoginSeam | undefined;
  readonly #logger: InternalLogger;
  readonly #reauthHint: string;
  #cached: Cached | undefined;
  #loaded = false;
  #pending: Promise<TokenSet> | undefined;
  /** A background refresh is due once the work in flight ends (the first load found a token in the window). */
  #backgroundDue = false;
  /** Failed background refreshes in a row, and when the next may start (corrected epoch ms). */
  #backgroundFailures = 0;
  #backgroundRetryAtMs = 0;
  /** The timer that starts the next background refresh. */
  #backgroundTimer: NodeJS.Timeout | undefined;
  /** The latest write of the user id into the stored set (rememberUserId): `settle()` waits for it too. */
  #userSave: Promise<void> | undefined;

  constructor(options: TokenManagerOptions) {
    this.#store = options.store;
    this.#backendAuth = options.backendAuth;
    this.#clock = options.clock;
    this.#refreshAheadSeconds = options.refreshAheadSeconds ?? 300;
    this.#autoRefresh = options.autoRefresh ?? true;
    this.#lock = options.lock;
    this.#login = options.login;
    this.#logger = options.logger ?? silentLogger;
    this.#reauthHint = options.reauthHint ?? REAUTH_HINT;
  }

  /** Where tokens are kept, for status output. */
  describeStore(): string {
    return this.#store.describe();
  }

  /**
   * A valid access token: from memory while fresh; inside the refresh-ahead window the current one,
   * with one refresh started in the background (nobody waits for it); only a token about to expire
   * is refreshed (or, with nobody to log in, reported) before it is handed out.
   */
  getAccessToken(options: GetTokenOptions = {}): Promise<string> {
    const cached = this.#cached;
    if (cached && !options.forceRefresh) {
      // The clock's own arithmetic, inline: the hot path does not leave this file.
      const now = this.#clock.localNow() + this.#clock.offsetMs;
      if (now < cached.refreshAtMs) return Promise.resolve(cached.tokens.access_token);
      if (now < cached.serveUntilMs) {
        this.#refreshInBackground();
        return Promise.resolve(cached.tokens.access_token);
      }
    }
    return this.#slowPath(options).then((tokens) => tokens.access_token);
  }

  /** The credential for the next request (Credentials). */
  token(signal?: AbortSignal): Promise<string> {
    return this.getAccessToken({ signal });
  }

  /** After the backend refused `stale`: a refreshed token, or undefined when refreshing gave the same one (Credentials). */
  async renew(stale: string, signal?: AbortSignal): Promise<string | undefined> {
    const next = await this.getAccessToken({ forceRefresh: true, staleToken: stale, signal });
    return next === stale ? undefined : next;
  }

  /** The backend's user id the current set remembers for this token (Credentials). */
  rememberedUserId(accessToken: string): string | undefined {
    return this.#rememberedEntry(accessToken)?.id;
  }

  /** The e-mail address the backend's profile gave for this token's user, as the current set remembers it. */
  rememberedEmail(accessToken: string): string | undefined {
    return this.#rememberedEntry(accessToken)?.email;
  }

  #rememberedEntry(accessToken: string): UserEntry | undefined {
    const tokens = this.#cached?.tokens;
    return tokens?.access_token === accessToken ? userEntryIn(tokens, accessToken) : undefined;
  }

  /**
   * Keeps the backend's user id (and the profile's e-mail address) with the stored set
   * (Credentials): under the refresh lock, written into the set only while the store still holds
   * this token's family, so a rotation another process saved is never overwritten. Settles when the
   * write is done (or failed: that costs one `/auth/profile` later, and is only logged). A login
   * stores its set with them instead (withUserId).
   */
  rememberUserId(accessToken: string, userId: string, email?: string): Promise<void> {
    const sub = subjectOf(accessToken);
    const tokens = this.#cached?.tokens;
    if (sub === undefined || tokens?.access_token !== accessToken) return Promise.resolve();
    const entry = userEntry(userId, sub, email);
    const kept = userEntryIn(tokens, accessToken);
    if (kept?.id === entry.id && kept.email === entry.email) return Promise.resolve();
    this.#cached = {
      ...(this.#cached as Cached),
      tokens: withExtraFields(tokens, { ...extraFieldsOf(tokens), [USER_FIELD]: entry }),
    };
    if (this.#store.inProcessOnly) return Promise.resolve();
    const saving = this.#saveUserEntry(tokens, entry).catch((error: unknown) => {
      this.#logger.debug(`Could not keep the user id with the tokens (${(error as Error).message}).`);
    });
    this.#userSave = saving;
    return saving;
  }

  async #saveUserEntry(family: TokenSet, entry: UserEntry): Promise<void> {
    const held = await this.#lock?.acquire();
    try {
      const stored = await this.#store.load();
      const same =
        stored !== null &&
        (stored.access_token === family.access_token ||
          (family.refresh_token !== undefined && stored.refresh_token === family.refresh_token));
      const kept = same ? userEntryIn(stored, stored.access_token) : undefined;
      if (!same || (kept?.id === entry.id && kept.email === entry.email)) return;
      await this.#store.save(withExtraFields(stored, { ...extraFieldsOf(stored), [USER_FIELD]: entry }));
    } finally {
      await held?.release();
    }
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

  /**
   * Stores a token set from a login (exchange or device flow) and caches it. A login wins: when a
   * compare-and-set store reports that another process wrote since this one read, the store is
   * read again (which moves its compare-and-set point) and the login's set is written over it.
   */
  async setTokens(tokens: TokenSet): Promise<void> {
    try {
      await this.#store.save(tokens);
    } catch (error) {
      if (!(error instanceof TokenStoreConflictError)) throw error;
      await this.#store.load();
      await this.#store.save(tokens);
    }
    this.#remember(tokens);
  }

  /** Forgets the tokens here and in the store. */
  async clear(): Promise<void> {
    this.#cached = undefined;
    this.#loaded = true;
    await this.#store.clear();
  }

  /**
   * Waits for a refresh in flight (a background one included) to be saved, and for a write of the
   * user id, and starts no other. `MeshClient.close()` calls it: a program that exits after
   * `await client.close()` never cuts a refresh off between the rotation and the save.
   */
  async settle(): Promise<void> {
    if (this.#backgroundTimer) {
      clearTimeout(this.#backgroundTimer);
      this.#backgroundTimer = undefined;
    }
    await this.#pending?.catch(() => {});
    await this.#userSave;
  }

  /** Whether tokens exist (without refreshing or logging in). */
  async hasTokens(): Promise<boolean> {
    if (this.#cached) return true;
    const stored = await this.#store.load();
    // What the first getAccessToken() would read: kept, so that `status` reads the store once.
    if (!this.#loaded && stored) {
      this.#loaded = true;
      this.#remember(stored);
    }
    return stored !== null;
  }

  #remember(tokens: TokenSet): void {
    const expiresAtMs = tokens.expires_at * 1000;
    // Refresh ahead, but never before half the lifetime: a 60 s token is not refreshed on every call.
    const lifetimeMs = Math.max(0, expiresAtMs - this.#clock.now());
    const aheadMs = Math.min(this.#refreshAheadSeconds * 1000, lifetimeMs / 2);
    // A set carrying a refresh intent was stored by a process that died mid-refresh (or whose save
    // of the new set failed): finish that refresh first, before the old tokens are used at all.
    const unfinished = this.#autoRefresh && intentOf(tokens) !== undefined;
    const refreshAtMs = unfinished ? Number.NEGATIVE_INFINITY : this.#autoRefresh ? expiresAtMs - aheadMs : expiresAtMs;
    const serveUntilMs = this.#autoRefresh
      ? Math.max(refreshAtMs, unfinished ? refreshAtMs : expiresAtMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 10))
      : refreshAtMs;
    this.#cached = { tokens: { ...tokens }, refreshAtMs, serveUntilMs, expiresAtMs };
  }

  #slowPath(options: ObtainOptions): Promise<TokenSet> {
    // Single flight: every concurrent caller shares one load/refresh. The shared work carries no
    // caller's signal (one caller giving up must not fail the others); each caller stops waiting
    // on its own signal instead.
    if (!this.#pending) {
      const pending = this.#obtain({ ...options, signal: undefined }).finally(() => {
        this.#pending = undefined;
        if (this.#backgroundDue) {
          this.#backgroundDue = false;
          this.#refreshInBackground();
        }
      });
      pending.catch(() => {}); // a background attempt nobody joined must not be an unhandled rejection
      this.#pending = pending;
    }
    return untilAborted(this.#pending, options.signal, 'Waiting for a token was aborted.');
  }

  /**
   * One refresh ahead of expiry that nobody waits for (single flight with every other). A failure
   * keeps the current token, waits 1 s, 2 s, 4 s ... (at most a minute) before the next attempt,
   * and surfaces only when the token is about to expire: then the caller's own refresh reports it.
   */
  #refreshInBackground(): void {
    // Work in flight (a load or a refresh) brings the next token anyway; a failed attempt waits its turn.
    if (this.#pending || this.#backgroundTimer || this.#clock.now() < this.#backgroundRetryAtMs) return;
    // Started a moment later, on a timer that does not hold the process open: a script that ends
    // (or calls process.exit) right after its last call never starts a refresh it would cut off
    // mid-rotation (a rotated refresh token lost revokes the family). A program still running a
    // moment later, a server, refreshes here.
    const cached = this.#cached;
    const windowMs = cached ? cached.serveUntilMs - this.#clock.now() : 0;
    const delayMs = Math.max(0, Math.min(BACKGROUND_START_DELAY_MS, windowMs / 4));
    this.#backgroundTimer = setTimeout(() => {
      this.#backgroundTimer = undefined;
      this.#startBackgroundRefresh();
    }, delayMs);
    this.#backgroundTimer.unref();
  }

  #startBackgroundRefresh(): void {
    if (this.#pending) return;
    this.#slowPath({ background: true }).then(
      () => {
        this.#backgroundFailures = 0;
        this.#backgroundRetryAtMs = 0;
      },
      (error: Error) => {
        const waitMs = Math.min(BACKGROUND_RETRY_MAX_MS, BACKGROUND_RETRY_FIRST_MS * 2 ** this.#backgroundFailures);
        this.#backgroundFailures += 1;
        this.#backgroundRetryAtMs = this.#clock.now() + waitMs;
        this.#logger.debug(
          `A refresh ahead of expiry failed (${error.message}); the current token stays in use, next attempt in ${waitMs / 1000} s at the earliest.`,
        );
      },
    );
  }

  async #obtain(options: ObtainOptions): Promise<TokenSet> {
    if (!this.#loaded) {
      // Marked loaded only once the load worked: a store that failed once (Redis restarting) is
      // read again by the next call, instead of "not logged in" for the rest of the process.
      const stored = await this.#store.load();
      this.#loaded = true;
      if (stored) this.#remember(stored);
    }
    const cached = this.#cached;
    const forced =
      options.forceRefresh === true && (options.staleToken === undefined || cached?.tokens.access_token === options.staleToken);
    if (cached && !forced && this.#clock.now() < cached.refreshAtMs) return cached.tokens;
    if (cached && !forced && !options.background && this.#clock.now() < cached.serveUntilMs) {
      // Just loaded, inside the refresh-ahead window: hand it out, refresh once this work ends.
      this.#backgroundDue = true;
      return cached.tokens;
    }
    if (!cached) return this.#loginOrThrow('you are not logged in', options);
    if (!this.#autoRefresh) {
      if (!forced && this.#clock.now() < cached.expiresAtMs) return cached.tokens;
      return this.#loginOrThrow('the access token has expired and AUTO_REFRESH is off', options);
    }
    return this.#refresh(cached.tokens, options);
  }

  async #refresh(current: TokenSet, options: ObtainOptions): Promise<TokenSet> {
    const { signal } = options;
    const held = await this.#lock?.acquire(signal);
    // From here until the lock is given back, Ctrl-C or `docker stop` waits (2 s at most): a
    // process that died between the rotation and the save would leave a spent refresh token in the
    // store, and one that died holding a shared lock would make the others wait out its lease.
    const releaseSignals = holdSignals();
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
      } else if (stored && stored.refresh_token === current.refresh_token) {
        // The store's copy of the same family may carry the intent of a refresh that did not finish.
        current = stored;
      }
      if (!current.refresh_token) {
        releaseSignals(); // a login takes a person's time: Ctrl-C must not wait on it
        return await this.#loginOrThrow('the access token has expired and there is no refresh token', options);
      }
      const outcome = await rotate(current, {
        store: this.#store,
        backendAuth: this.#backendAuth,
        nowSeconds: () => this.#clock.nowSeconds(),
        logger: this.#logger,
        persist: (next) => this.#persist(next),
        signal,
      });
      if (outcome.kind === 'refused') {
        releaseSignals();
        return await this.#loginOrThrow(
          'the backend refused the refresh token (revoked, expired or already used)',
          options,
          outcome.error,
        );
      }
      if (outcome.kind === 'newer') {
        this.#logger.debug('Another process stored newer tokens while this one was about to refresh; using those.');
        this.#remember(outcome.tokens);
        return outcome.tokens;
      }
      this.#logger.debug(
        `Refreshed the access token; it expires at ${new Date(outcome.tokens.expires_at * 1000).toISOString()}.`,
      );
      return outcome.tokens;
    } finally {
      await held?.release();
      releaseSignals();
    }
  }

  /**
   * Saves before the new access token is handed out, and returns the set to use: `tokens`, or the
   * newer set another process stored meanwhile (a compare-and-set store refused ours: this process's
   * lock lease ran out mid-refresh and another process refreshed and wrote first; ours is never
   * written over it). A failed save keeps the set in memory, loudly.
   * A KeychainError only reaches here from `tokenStore: 'keychain'` (under `auto` the layered store
   * falls back to the file itself): that policy fails closed, so the caller gets the error, and the
   * set stays in memory for this process (the rotated refresh token must not be lost).
   */
  async #persist(tokens: TokenSet): Promise<TokenSet> {
    this.#remember(tokens);
    try {
      await this.#store.save(tokens);
    } catch (error) {
      if (error instanceof TokenStoreConflictError) return await this.#adoptNewer(tokens);
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
    return tokens;
  }

  /** After a refused compare-and-set: the store's newer set, or ours when the store has none. */
  async #adoptNewer(ours: TokenSet): Promise<TokenSet> {
    let stored: TokenSet | null;
    try {
      stored = await this.#store.load();
    } catch (error) {
      this.#logger.warn(
        `Another process stored newer tokens in ${this.#store.describe()}, and reading them failed (${(error as Error).message}). ` +
          'This process keeps its own in memory.',
      );
      return ours;
    }
    if (stored) {
      this.#logger.debug(
        `Another process stored newer tokens in ${this.#store.describe()} while this one refreshed; using those.`,
      );
      this.#remember(stored);
      return stored;
    }
    // The set vanished (e.g. Redis restarted without its data): nobody newer wrote, so store ours,
    // now compared against "absent".
    this.#logger.debug(`The tokens in ${this.#store.describe()} vanished while this process refreshed; storing its own.`);
    try {
      await this.#store.save(ours);
    } catch (error) {
      this.#logger.warn(
        `Could not save the refreshed tokens to ${this.#store.describe()} (${(error as Error).message}). They are kept in memory for this process.`,
      );
    }
    return ours;
  }

  async #loginOrThrow(why: string, options: ObtainOptions, cause?: unknown): Promise<TokenSet> {
    if (this.#login && options.allowLogin !== false && !options.background) {
      this.#logger.debug(`Logging in: ${why}.`);
      return this.#login(options.signal); // stores the tokens through setTokens
    }
    // A background refresh keeps the token it could not replace: it is good until it expires.
    if (!options.background) this.#cached = undefined;
    throw new ReauthenticationRequiredError(`Mesh needs you to log in again: ${why}.`, { hint: this.#reauthHint, cause });
  }
}
