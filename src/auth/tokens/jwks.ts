/**
 * The issuer's signing keys (`<auth0 domain>/.well-known/jwks.json`) for local signature checks:
 * fetched on first use through the client's dispatcher (proxies), kept for 10 minutes, and
 * fetched again when a token names a key id the cached set lacks (Auth0 rotated its key), at most
 * once per cool-down: a flood of tokens with made-up key ids costs the issuer one request per
 * 30 s, not one per token. A failed fetch is remembered for the cool-down too, so an unreachable
 * issuer does not slow every validation by a timeout.
 */
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { ErrorCode } from '../../errors/codes.js';
import { MeshError } from '../../errors/mesh-error.js';
import { readBodyText } from '../../http/reply-body.js';
import { requestTo, type Transport } from '../../http/transport.js';
import { untilAborted } from '../../http/waiting.js';
import { SDK_VERSION } from '../../version.js';

export interface JwksOptions {
  /** e.g. `https://tenant.us.auth0.com/.well-known/jwks.json`. */
  url: string;
  /** The client's transport (pool, HTTPS_PROXY), made on first need. @default one over undici's global dispatcher */
  transport?: () => Promise<Transport>;
  /** Monotonic ms for the cache age and the cool-down (injectable for tests). @default performance.now */
  now?: () => number;
  /** Least time between two fetches caused by unknown key ids, or after a failed fetch, ms. @default 30 000 */
  cooldownMs?: number;
  /** Age after which the set is fetched again before use, ms. @default 600 000 */
  maxAgeMs?: number;
  /** Bound on one fetch, ms. @default 5 000 */
  timeoutMs?: number;
}

/** Why the issuer's keys could not be had; the signature then stays unverified (never thrown to users). */
export class JwksUnavailableError extends Error {}

/** A transport over undici's global dispatcher (where no client's transport is given: tests, a bare validator). */
const globalTransport = () => import('../../http/undici-transport.js').then(({ globalTransport }) => globalTransport());

/** A JWKS larger than this is not Auth0's (a handful of keys is a few KB). */
const MAX_JWKS_BYTES = 512 * 1024;

interface KeySet {
  lookup: JWTVerifyGetKey;
  fetchedAt: number;
}

export class JwksCache {
  readonly url: string;
  readonly #options: JwksOptions;
  readonly #now: () => number;
  #set: KeySet | undefined;
  #fetching: Promise<KeySet> | undefined;
  /** When the last fetch caused by an unknown key id started. */
  #lastRefetchAt: number | undefined;
  #failure: { at: number; reason: string } | undefined;

  constructor(options: JwksOptions) {
    this.url = options.url;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * A key resolver for `jwtVerify`: the cached set (loaded when missing or old); on a key id the
   * set lacks, one fetch per cool-down, shared by every token waiting on it.
   * @throws JwksUnavailableError when no key set can be had; jose's JWKSNoMatchingKey when the
   * issuer has no such key.
   */
  resolver(signal?: AbortSignal): JWTVerifyGetKey {
    return async (header, token) => {
      let set = await this.#current(signal);
      for (;;) {
        try {
          return await set.lookup(header, token);
        } catch (error) {
          if (!(error instanceof (await import('jose')).errors.JWKSNoMatchingKey)) throw error;
          const newer = await this.#newerThan(set, signal);
          if (!newer) throw error;
          set = newer;
        }
      }
    };
  }

  async #current(signal?: AbortSignal): Promise<KeySet> {
    const set = this.#set;
    if (set && this.#now() - set.fetchedAt < (this.#options.maxAgeMs ?? 600_000)) return set;
    try {
      return await this.#fetchShared(signal);
    } catch (error) {
      // An old set beats none: Auth0 keeps a key published long after it stops signing with it.
      if (set && error instanceof JwksUnavailableError) return set;
      throw error;
    }
  }

  /** A set fetched after `seen`, or undefined when the cool-down forbids asking the issuer again. */
  async #newerThan(seen: KeySet, signal?: AbortSignal): Promise<KeySet | undefined> {
    if (this.#set && this.#set !== seen) return this.#set;
    if (this.#fetching) return untilAborted(this.#fetching, signal, 'Fetching the issuer keys was aborted.');
    const now = this.#now();
    if (this.#lastRefetchAt !== undefined && now - this.#lastRefetchAt < this.#cooldown()) return undefined;
    this.#lastRefetchAt = now;
    return this.#fetchShared(signal);
  }

  #cooldown(): number {
    return this.#options.cooldownMs ?? 30_000;
  }

  /** One fetch at a time; it carries no caller's signal (one caller giving up must not fail the others). */
  #fetchShared(signal?: AbortSignal): Promise<KeySet> {
    const failure = this.#failure;
    if (!this.#fetching && failure && this.#now() - failure.at < this.#cooldown()) {
      return Promise.reject(new JwksUnavailableError(failure.reason));
    }
    this.#fetching ??= this.#fetch()
      .then(
        (set) => {
          this.#set = set;
          this.#failure = undefined;
          return set;
        },
        (error: unknown) => {
          const reason = error instanceof JwksUnavailableError ? error.message : String(error);
          this.#failure = { at: this.#now(), reason };
          throw new JwksUnavailableError(reason, { cause: error });
        },
      )
      .finally(() => {
        this.#fetching = undefined;
      });
    return untilAborted(this.#fetching, signal, 'Fetching the issuer keys was aborted.');
  }

  async #fetch(): Promise<KeySet> {
    const origin = new URL(this.url).origin;
    const timeoutMs = this.#options.timeoutMs ?? 5_000;
    let status: number;
    let text: string;
    try {
      const transport = await (this.#options.transport ?? globalTransport)();
      const response = await transport.request(
        requestTo(new URL(this.url), {
          method: 'GET',
          headers: { accept: 'application/json', 'user-agent': `mesh-sdk/${SDK_VERSION} node/${process.versions.node}` },
          signal: AbortSignal.timeout(timeoutMs),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        }),
      );
      status = response.statusCode;
      // Read within bounds: a key set is a few kilobytes, and it must arrive within the same timeout.
      text = await readBodyText(response.body, { maxBytes: MAX_JWKS_BYTES, remainingMs: timeoutMs, what: 'the issuer keys' });
    } catch (error) {
      if (error instanceof MeshError && error.code === ErrorCode.RESPONSE_TOO_LARGE) {
        throw new JwksUnavailableError(`the issuer's keys at ${origin} are not a key set (too large)`);
      }
      const code = (error as { code?: string; name?: string }).code ?? (error as Error).name;
      const why = code === 'TimeoutError' || code === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : code;
      throw new JwksUnavailableError(`the issuer's keys at ${origin} could not be fetched (${why})`);
    }
    if (status !== 200) throw new JwksUnavailableError(`the issuer's keys at ${origin} answered HTTP ${status}`);
    let lookup: JWTVerifyGetKey;
    try {
      lookup = (await import('jose')).createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
    } catch {
      throw new JwksUnavailableError(`the issuer's keys at ${origin} are not a key set`);
    }
    return { lookup, fetchedAt: this.#now() };
  }
}
