/**
 * What a client knows of its backend, in one owner: the extensions it advertises (`GET
 * /auth/config` `capabilities`, contract part B) and the user's profile there (`GET
 * /auth/profile`: it registers the user and gives the `userId` of the stored keys).
 *
 * Neither is fetched in series before a call that does not need it. The user id is remembered with
 * the token set (credentials.rememberedUserId), so a new process with a stored login sends its first
 * key call at once; a call that needs no user id (chat, images, API keys) goes out while the profile
 * registers beside it, and a chat the backend answers 404 because the registration had not landed
 * yet registers once more and retries (as the Python client does after a 404). The capabilities are
 * read beside the first POST and asked only when that POST fails (may it be retried?).
 */
import type { Credentials } from '../auth/credentials.js';
import { AbortError, AuthenticationError } from '../errors/mesh-error.js';
import { untilAborted } from '../http/waiting.js';
import type { InternalLogger } from '../internal/logger.js';
import type { Profile } from './types.js';

export interface BackendFactsOptions {
  credentials: Credentials;
  /** One read of `/auth/profile` with this credential. */
  readProfile(credential: string): Promise<Profile>;
  /** The backend's advertised extensions; a failure counts as none. */
  capabilities(): Promise<ReadonlySet<string>>;
  logger: InternalLogger;
}

export class BackendFacts {
  readonly #credentials: Credentials;
  readonly #readProfile: (credential: string) => Promise<Profile>;
  readonly #capabilities: () => Promise<ReadonlySet<string>>;
  readonly #logger: InternalLogger;
  /** The advertised extensions, once read (undefined until then: nothing is fetched to learn them but by `advertises`). */
  advertised: ReadonlySet<string> | undefined;
  /**
   * The user's id at the backend once known (a profile read, or the id the token set remembers):
   * a plain field, read by every key call without an await.
   */
  userIdNow: string | undefined;
  /** The profile: read once per client (single flight), forgotten when the read fails. */
  #profile: Promise<Profile> | undefined;
  /** The latest profile read and the credential it was read with. */
  #lastRead: { credential: string; profile: Promise<Profile> } | undefined;

  constructor(options: BackendFactsOptions) {
    this.#credentials = options.credentials;
    this.#readProfile = options.readProfile;
    this.#capabilities = options.capabilities;
    this.#logger = options.logger;
  }

  /** Whether the backend advertises `capability`: read once, beside whatever asks first. */
  advertises(capability: string): Promise<boolean> {
    return this.#capabilities().then(
      (advertised) => {
        this.advertised = advertised;
        return advertised.has(capability);
      },
      () => false,
    );
  }

  /**
   * Before a call with `credential`: when the user is not known to be registered (no profile read,
   * no id remembered with the tokens), the profile is read in the background; the call does not wait.
   */
  meet(credential: string): void {
    if (this.userIdNow !== undefined) return;
    const remembered = this.#credentials.rememberedUserId?.(credential);
    if (remembered !== undefined) {
      this.userIdNow = remembered;
      return;
    }
    if (this.#profile !== undefined) return;
    this.profile(undefined, { credential }).catch((error: unknown) => {
      this.#logger.debug(`Registering through /auth/profile failed: ${(error as Error).message}`);
    });
  }

  /** The `userId` of the stored keys: the profile's `id` (never a token claim), remembered with the tokens. */
  async userId(signal?: AbortSignal): Promise<string> {
    if (this.userIdNow !== undefined && !signal?.aborted) return this.userIdNow;
    const credential = await this.#credentials.token(signal);
    const remembered = this.#credentials.rememberedUserId?.(credential);
    if (remembered !== undefined) {
      this.userIdNow = remembered;
      return remembered;
    }
    return (await this.profile(signal, { credential })).id;
  }

  /**
   * The user's profile, read once per client and shared by concurrent callers; `fresh` reads it
   * again (after a login, or to register once more). The shared read carries no caller's signal
   * (each caller stops waiting on its own); the HTTP timeout bounds it.
   */
  profile(signal?: AbortSignal, options: { fresh?: boolean; credential?: string } = {}): Promise<Profile> {
    if (options.fresh || this.#profile === undefined) {
      const reading = this.#read(options.fresh === true, options.credential);
      this.#profile = reading;
      reading.then(
        (profile) => {
          if (this.#profile === reading) this.userIdNow = profile.id;
        },
        () => {
          if (this.#profile === reading) this.#profile = undefined; // try again with the next call
        },
      );
    }
    return untilAborted(this.#profile, signal, 'Reading the profile was aborted.');
  }

  /**
   * Registers once more after a 404 that a registration may cure: waits for a read still in
   * flight (the one started beside the first call), else reads afresh.
   */
  async registerAgain(signal?: AbortSignal): Promise<void> {
    const inFlight = this.#profile !== undefined && this.userIdNow === undefined;
    await this.profile(signal, { fresh: !inFlight });
  }

  /**
   * One read of /auth/profile, unless `fresh` is false and the profile was just read with this very
   * credential: a call that needed a login waits for its token while the login registers with it,
   * and that registration answers the call too (one request, not two).
   */
  async #read(fresh: boolean, given: string | undefined): Promise<Profile> {
    const credential = given ?? (await this.#credentials.token());
    const last = this.#lastRead;
    if (!fresh && last?.credential === credential) return last.profile;
    const profile = this.#readProfile(credential);
    this.#lastRead = { credential, profile };
    profile.then(
      (read) => this.#credentials.rememberUserId?.(credential, read.id, read.email),
      () => {
        if (this.#lastRead?.profile === profile) this.#lastRead = undefined; // a failed read answers no one else
      },
    );
    return profile;
  }

  /** Forgets the user (after a logout or an import: the next user may be someone else). */
  forgetUser(): void {
    this.#profile = undefined;
    this.#lastRead = undefined;
    this.userIdNow = undefined;
  }
}

/** A registration failure that the call itself must report (no login, given up); any other is the call's to meet. */
export function mustReport(error: unknown): boolean {
  return error instanceof AuthenticationError || error instanceof AbortError;
}
