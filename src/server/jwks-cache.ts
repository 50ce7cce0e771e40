/**
 * The issuer's signing keys, cached so that a warm verification never waits on the network:
 *
 * - one fetch at a time (single flight), shared by every request that needs it;
 * - a set lives as long as its reply's `Cache-Control: max-age` says (`defaultMaxAgeSeconds` when
 *   silent; never shorter than the cool-down) and is refreshed in the background from
 *   `refreshAheadSeconds` before it expires (never before half its lifetime);
 * - a token naming a key id the set lacks (a rotation) fetches again, at most once per cool-down:
 *   a flood of made-up `kid`s costs the issuer one request per cool-down;
 * - when the issuer cannot be reached the expired set keeps serving for `maxStaleSeconds`, then
 *   every verification is a `VerifierUnavailableError` (503, never 401) until it answers; after a
 *   failed fetch nobody asks again before the cool-down, so an outage does not make each request
 *   wait for a timeout;
 * - with a `store`, isolates share the set: a cold one reads it before asking the issuer.
 *
 * jose's createRemoteJWKSet has single flight and a cool-down, but no refresh ahead of expiry (the
 * request that finds the set expired waits), no serving of an expired set when the issuer fails,
 * ignores Cache-Control and cannot share its cache.
 */
import { type CryptoKey, importJWK, type JWK } from 'jose';
import { boundedGet, FetchFailure, maxAgeOf } from './bounded-fetch.js';
import { refused, VerifierUnavailableError } from './errors.js';
import { checkedUrl, type VerifierSettings } from './options.js';

/** A key set is a few KB; anything this large is not one. */
const MAX_JWKS_BYTES = 512 * 1024;
const MAX_STORE_TTL_SECONDS = 7 * 24 * 3600;

interface KeyEntry {
  readonly jwk: JWK;
  /** Imported keys by algorithm (a JWK without `alg` may serve several). */
  readonly imported: Map<string, Promise<CryptoKey>>;
  /** The same, once imported: the warm path returns it without a promise. */
  readonly ready: Map<string, CryptoKey>;
}

interface KeySet {
  readonly keys: readonly JWK[];
  readonly byKid: ReadonlyMap<string, KeyEntry>;
  readonly withoutKid: readonly KeyEntry[];
  /** Epoch ms. */
  readonly fetchedAt: number;
  readonly expiresAt: number;
  /** From here on a request starts a background refresh. */
  readonly refreshAt: number;
}

/** What a store holds: the public keys and their timing. */
interface StoredSet {
  v: 1;
  keys: JWK[];
  fetchedAt: number;
  expiresAt: number;
}

const KTY_OF_ALG: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };

/** Whether a published key may verify `alg`: its type fits, its own `alg` (when set) is this one, and it signs. */
function fits(jwk: JWK, alg: string): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  return KTY_OF_ALG[alg.slice(0, 2)] === jwk.kty;
}

export class JwksCache {
  readonly #settings: VerifierSettings;
  #jwksUri: string | undefined;
  #set: KeySet | undefined;
  #inflight: Promise<KeySet> | undefined;
  /** When the last fetch failed (epoch ms), and why; cleared by a success. */
  #failure: { at: number; reason: string } | undefined;
  /** When the last fetch caused by an unknown key id started. */
  #lastKidFetchAt: number | undefined;

  constructor(settings: VerifierSettings) {
    this.#settings = settings;
    this.#jwksUri = settings.jwksUri;
  }

  /** The store key of this issuer's set. */
  get storeKey(): string {
    return `mesh-sdk:jwks:${this.#settings.issuer}`;
  }

  /**
   * The key to verify a token signed with `alg` (already checked to be allowed) by key `kid`.
   * @throws VerificationError `token_signature` when the issuer has no such key;
   *   VerifierUnavailableError when no usable key set can be had.
   */
  keyFor(alg: string, kid: string | undefined): CryptoKey | Promise<CryptoKey> {
    // The warm path: a fresh set, the key imported already; no promise, no await.
    const set = this.#set;
    const now = this.#now();
    if (set && kid !== undefined && now < set.refreshAt) {
      const entry = set.byKid.get(kid);
      const ready = entry?.ready.get(alg);
      if (ready && fits((entry as KeyEntry).jwk, alg)) return ready;
    }
    return this.#keyForSlow(alg, kid);
  }

  async #keyForSlow(alg: string, kid: string | undefined): Promise<CryptoKey> {
    const set = await this.#usable();
    let entry = this.#pick(set, alg, kid);
    if (!entry && kid !== undefined) {
      const newer = await this.#afterUnknownKid(set, kid);
      if (newer) entry = this.#pick(newer, alg, kid);
    }
    if (!entry) {
      throw refused(
        'token_signature',
        kid === undefined
          ? `the token names no key id and the issuer publishes no single ${alg} key`
          : `the issuer publishes no ${alg} key with the token's key id`,
      );
    }
    let imported = entry.imported.get(alg);
    if (!imported) {
      imported = importJWK(entry.jwk, alg) as Promise<CryptoKey>;
      entry.imported.set(alg, imported);
      imported.then(
        (key) => entry.ready.set(alg, key),
        () => entry.imported.delete(alg),
      );
    }
    try {
      return await imported;
    } catch (error) {
      throw refused('token_signature', `the issuer's key for the token cannot verify ${alg}`, error);
    }
  }

  /** Fetches the set now unless one is fresh (a warm-up at start, so the first request does not wait). */
  async warm(): Promise<void> {
    await this.#usable();
  }

  #now(): number {
    return this.#settings.now();
  }

  #cooldownMs(): number {
    return this.#settings.jwks.cooldownSeconds * 1000;
  }

  #failedRecently(now: number): boolean {
    return this.#failure !== undefined && now - this.#failure.at < this.#cooldownMs();
  }

  #pick(set: KeySet, alg: string, kid: string | undefined): KeyEntry | undefined {
    if (kid !== undefined) {
      const entry = set.byKid.get(kid);
      return entry && fits(entry.jwk, alg) ? entry : undefined;
    }
    const candidates = [...set.byKid.values(), ...set.withoutKid].filter((entry) => fits(entry.jwk, alg));
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  /** A set to verify with now: fresh (a background refresh started when due), or stale within bounds. */
  async #usable(): Promise<KeySet> {
    const now = this.#now();
    const set = this.#set;
    if (set && now < set.expiresAt) {
      if (now >= set.refreshAt && !this.#inflight && !this.#failedRecently(now)) {
        this.#refresh(undefined).catch(() => {}); // in the background: nobody waits for it
      }
      return set;
    }
    if (this.#failedRecently(now)) return this.#staleOr(set, now);
    try {
      return await this.#refresh(undefined);
    } catch {
      return this.#staleOr(set, this.#now());
    }
  }

  /** The expired set while it is within `maxStaleSeconds`, else a 503. */
  #staleOr(set: KeySet | undefined, now: number): KeySet {
    if (set && now - set.expiresAt <= this.#settings.jwks.maxStaleSeconds * 1000) return set;
    throw this.#unavailable(
      set ? `the issuer's keys expired more than ${this.#settings.jwks.maxStaleSeconds} s ago` : 'no issuer keys yet',
    );
  }

  #unavailable(what: string): VerifierUnavailableError {
    const reason = this.#failure ? `: ${this.#failure.reason}` : '';
    const wait = this.#failure ? (this.#failure.at + this.#cooldownMs() - this.#now()) / 1000 : undefined;
    return new VerifierUnavailableError(`mesh-sdk/server cannot verify tokens: ${what}${reason}`, {
      retryAfter: wait,
    });
  }

  /** After a key id the set lacks: a newer set, or undefined when the cool-down forbids asking. */
  async #afterUnknownKid(seen: KeySet, kid: string): Promise<KeySet | undefined> {
    if (this.#set && this.#set !== seen) return this.#set;
    if (this.#inflight) {
      // A fetch under way (a background refresh, another token's): share it first.
      const shared = await this.#inflight.catch(() => undefined);
      if (shared?.byKid.has(kid)) return shared;
    }
    const now = this.#now();
    if (this.#lastKidFetchAt !== undefined && now - this.#lastKidFetchAt < this.#cooldownMs()) return this.#set;
    if (this.#failedRecently(now)) throw this.#unavailable(`a key the set lacks cannot be fetched`);
    if (this.#inflight) return this.#set; // another caller started one since: it is theirs to wait for
    this.#lastKidFetchAt = now;
    try {
      return await this.#refresh(kid);
    } catch {
      // The issuer may have rotated its key and be down: that is not the caller's fault.
      throw this.#unavailable(`a key the set lacks cannot be fetched`);
    }
  }

  /** One load at a time: the store first (another isolate may have fetched), then the issuer. */
  #refresh(wantedKid: string | undefined): Promise<KeySet> {
    this.#inflight ??= this.#load(wantedKid)
      .then(
        (set) => {
          this.#set = set;
          this.#failure = undefined;
          return set;
        },
        (error: unknown) => {
          const reason = error instanceof FetchFailure ? error.message : 'the key set could not be read';
          this.#failure = { at: this.#now(), reason };
          throw error;
        },
      )
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  async #load(wantedKid: string | undefined): Promise<KeySet> {
    const stored = await this.#fromStore();
    const known = this.#set;
    const now = this.#now();
    if (
      stored &&
      (!known || stored.fetchedAt > known.fetchedAt) &&
      now < stored.refreshAt &&
      (wantedKid === undefined || stored.byKid.has(wantedKid))
    ) {
      return stored;
    }
    const fetched = await this.#fetchFromIssuer();
    await this.#toStore(fetched);
    return fetched;
  }

  async #jwksUriNow(): Promise<string> {
    if (this.#jwksUri !== undefined) return this.#jwksUri;
    const issuer = this.#settings.issuer;
    const discovery = `${issuer.replace(/\/?$/, '/')}.well-known/openid-configuration`;
    const reply = await boundedGet(this.#settings.fetch, discovery, {
      timeoutMs: this.#settings.jwks.timeout,
      maxBytes: 256 * 1024,
      what: "the issuer's discovery document",
    });
    if (reply.status === 404) {
      // No discovery: the place Auth0 (and most issuers) publish their keys.
      this.#jwksUri = `${issuer.replace(/\/?$/, '/')}.well-known/jwks.json`;
      return this.#jwksUri;
    }
    if (reply.status !== 200) throw new FetchFailure(`the issuer's discovery document answered HTTP ${reply.status}`);
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      document = JSON.parse(reply.text) as typeof document;
    } catch {
      throw new FetchFailure("the issuer's discovery document is not JSON");
    }
    // OpenID Connect Discovery 1.0 §4.3: the document must name the issuer it was asked for.
    if (document.issuer !== issuer) throw new FetchFailure("the issuer's discovery document names another issuer");
    try {
      this.#jwksUri = checkedUrl(document.jwks_uri, 'jwks_uri');
    } catch {
      throw new FetchFailure("the issuer's discovery document has no usable jwks_uri");
    }
    return this.#jwksUri;
  }

  async #fetchFromIssuer(): Promise<KeySet> {
    const url = await this.#jwksUriNow();
    const reply = await boundedGet(this.#settings.fetch, url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      timeoutMs: this.#settings.jwks.timeout,
      maxBytes: MAX_JWKS_BYTES,
      what: "the issuer's keys",
    });
    if (reply.status !== 200) throw new FetchFailure(`the issuer's keys at ${new URL(url).origin} answered HTTP ${reply.status}`);
    let keys: JWK[];
    try {
      keys = publicKeysOf(JSON.parse(reply.text));
    } catch {
      throw new FetchFailure(`the issuer's keys at ${new URL(url).origin} are not a key set`);
    }
    const { cooldownSeconds, defaultMaxAgeSeconds } = this.#settings.jwks;
    const maxAge = Math.min(Math.max(maxAgeOf(reply.headers) ?? defaultMaxAgeSeconds, cooldownSeconds), MAX_STORE_TTL_SECONDS);
    const fetchedAt = this.#now();
    return this.#setOf(keys, fetchedAt, fetchedAt + maxAge * 1000);
  }

  #setOf(keys: JWK[], fetchedAt: number, expiresAt: number): KeySet {
    const byKid = new Map<string, KeyEntry>();
    const withoutKid: KeyEntry[] = [];
    for (const jwk of keys) {
      const entry: KeyEntry = { jwk, imported: new Map(), ready: new Map() };
      if (typeof jwk.kid === 'string') byKid.set(jwk.kid, entry);
      else withoutKid.push(entry);
    }
    const lifetime = expiresAt - fetchedAt;
    const ahead = Math.min(this.#settings.jwks.refreshAheadSeconds * 1000, lifetime / 2);
    return { keys, byKid, withoutKid, fetchedAt, expiresAt, refreshAt: expiresAt - ahead };
  }

  /** Reads the shared set, bounded in time; a failing or slow store counts as empty. */
  async #fromStore(): Promise<KeySet | undefined> {
    const store = this.#settings.jwks.store;
    if (!store) return undefined;
    try {
      const text = await withinTime(store.get(this.storeKey), this.#settings.jwks.timeout);
      if (typeof text !== 'string') return undefined;
      const stored = JSON.parse(text) as StoredSet;
      if (stored?.v !== 1 || !Number.isFinite(stored.fetchedAt) || !Number.isFinite(stored.expiresAt)) return undefined;
      return this.#setOf(publicKeysOf({ keys: stored.keys }), stored.fetchedAt, stored.expiresAt);
    } catch {
      return undefined;
    }
  }

  async #toStore(set: KeySet): Promise<void> {
    const store = this.#settings.jwks.store;
    if (!store) return;
    const stored: StoredSet = { v: 1, keys: [...set.keys], fetchedAt: set.fetchedAt, expiresAt: set.expiresAt };
    const ttl = Math.ceil((set.expiresAt - this.#now()) / 1000 + this.#settings.jwks.maxStaleSeconds);
    try {
      await withinTime(
        store.set(this.storeKey, JSON.stringify(stored), Math.min(Math.max(ttl, 60), MAX_STORE_TTL_SECONDS)),
        this.#settings.jwks.timeout,
      );
    } catch {
      // The store is an optimisation: this isolate has the set either way.
    }
  }
}

/** The signing keys of a JWKS document: public keys only (a private part is dropped, never kept). */
function publicKeysOf(document: unknown): JWK[] {
  const keys = (document as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error('not a key set');
  const found: JWK[] = [];
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) continue;
    const jwk = key as JWK;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') continue; // never a shared secret
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicPart } = jwk;
    found.push(publicPart);
  }
  return found;
}

function withinTime<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the store did not answer in time')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
