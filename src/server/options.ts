/**
 * The options of `createVerifier`, settled once: each given option, else the client's own
 * configuration (the same `AUTH0_DOMAIN`, `AUTH0_AUDIENCE` and `MESH_API_URL` a `MeshClient`
 * reads, through config/resolve.ts), else a default. Checked here and frozen; nothing below reads an
 * option twice or an environment variable at all.
 */
import { inspectConfig } from '../config/resolve.js';

/**
 * A shared cache for the issuer's key set, so that isolates (Cloudflare Workers, Lambdas) that
 * start cold do not each fetch it: Workers KV, Redis or anything with these two methods. Values are
 * JSON strings of public keys only; a failing store is skipped (the keys are then fetched).
 *
 * @example
 * const store: JwksStore = { get: (key) => env.KV.get(key), set: (key, value, ttl) => env.KV.put(key, value, { expirationTtl: ttl }) };
 */
export interface JwksStore {
  /** The value stored under `key`, or null/undefined when there is none. */
  get(key: string): Promise<string | null | undefined>;
  /** Stores `value` under `key` for at least `ttlSeconds` (a store may keep it longer). */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
}

/** How the issuer's key set (JWKS) is cached. All durations in seconds unless named otherwise. */
export interface JwksOptions {
  /**
   * Refresh the set in the background this long before it expires (never earlier than half its
   * lifetime), so that no request waits for a fetch while the set is fresh.
   * @default 60
   */
  refreshAheadSeconds?: number;
  /**
   * When the issuer cannot be reached, keep verifying with the expired set for this long past its
   * expiry; after that every verification is a 503 `verifier_unavailable` until the issuer answers.
   * @default 86400 (one day, as Auth0's `stale-if-error`)
   */
  maxStaleSeconds?: number;
  /**
   * Least time between two fetches caused by unknown key ids, and after a failed fetch: a flood of
   * tokens with made-up `kid`s costs the issuer one request per cool-down. Also the shortest
   * lifetime a set is given, whatever its `Cache-Control` says.
   * @default 30
   */
  cooldownSeconds?: number;
  /**
   * The set's lifetime when the issuer's reply has no `Cache-Control: max-age`.
   * @default 600
   */
  defaultMaxAgeSeconds?: number;
  /**
   * Bound on one fetch (discovery or key set), milliseconds.
   * @default 5000
   */
  timeout?: number;
  /** A cache shared across isolates or processes. @default none: per verifier, in memory */
  store?: JwksStore;
}

/** How `mesh_` API keys are checked (through the backend's `GET /auth/profile`). */
export interface ApiKeyOptions {
  /**
   * How long an accepted key stays accepted without asking the backend again: the longest a revoked
   * key keeps working.
   * @default 60
   */
  ttlSeconds?: number;
  /** How long a refused key stays refused without asking again. @default 5 */
  negativeTtlSeconds?: number;
  /** Most keys remembered (accepted and refused together); the oldest go first. @default 10000 */
  maxEntries?: number;
  /** Bound on one backend call, milliseconds. @default 5000 */
  timeout?: number;
  /** The scopes an API-key identity holds, for `requiredScopes`. @default [] (a route requiring scopes refuses keys with 403) */
  scopes?: string[];
}

/** DPoP (RFC 9449) proof checks, for tokens bound to a key (`cnf.jkt`). */
export interface DpopOptions {
  /** Refuse tokens that are not DPoP-bound (sent as Bearer). @default false */
  required?: boolean;
  /** How old a proof's `iat` may be; also how long its `jti` is remembered against replays. @default 60 */
  iatWindowSeconds?: number;
  /** Most proof ids remembered against replay. @default 100000 */
  maxReplayEntries?: number;
  /** Algorithms a proof may be signed with. @default ['ES256', 'RS256', 'PS256', 'EdDSA'] */
  algorithms?: string[];
}

/** The options of `createVerifier` and of every `meshAuth` middleware. */
export interface VerifierOptions {
  /**
   * Who issues the tokens, exactly as their `iss` says.
   * @default `https://<AUTH0_DOMAIN>/`: the client's `auth0.domain` setting (env `AUTH0_DOMAIN`)
   */
  issuer?: string;
  /**
   * The audience the tokens must be issued for.
   * @default the client's `auth0.audience` setting (env `AUTH0_AUDIENCE`)
   */
  audience?: string;
  /**
   * Where the issuer publishes its keys.
   * @default the `jwks_uri` of the issuer's discovery document (`<issuer>.well-known/openid-configuration`)
   */
  jwksUri?: string;
  /**
   * The Mesh backend that checks API keys.
   * @default the client's `apiUrl` setting (env `MESH_API_URL`)
   */
  apiUrl?: string;
  /** Accept `mesh_` API keys (`Authorization: ApiKey <key>` or `x-api-key`). @default false */
  acceptApiKeys?: boolean;
  /** Scopes every request must hold (the token's `scope` and Auth0's `permissions`). @default [] */
  requiredScopes?: string[];
  /** Leeway for `exp`, `nbf` and a DPoP proof's `iat`, seconds. @default 5 */
  clockTolerance?: number;
  /** Signature algorithms accepted on access tokens. @default ['RS256', 'PS256', 'ES256'] */
  algorithms?: string[];
  jwks?: JwksOptions;
  apiKeys?: ApiKeyOptions;
  dpop?: DpopOptions;
  /** The realm named in `WWW-Authenticate` challenges. @default 'mesh' */
  realm?: string;
  /** The environment for the defaults above. @default process.env where there is one */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `fetch` to use (a proxy, a test). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** The clock, epoch milliseconds (tests). @default Date.now */
  now?: () => number;
}

/** Everything settled: what the verifier's parts read. */
export interface VerifierSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string | undefined;
  readonly apiUrl: string;
  readonly acceptApiKeys: boolean;
  readonly requiredScopes: readonly string[];
  readonly clockTolerance: number;
  readonly algorithms: readonly string[];
  readonly jwks: Readonly<Required<Omit<JwksOptions, 'store'>>> & { readonly store: JwksStore | undefined };
  readonly apiKeys: Readonly<Required<ApiKeyOptions>>;
  readonly dpop: Readonly<Required<DpopOptions>>;
  readonly realm: string;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Thrown for an option that cannot work; the message names it and what was expected. */
export class VerifierConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'VerifierConfigError';
  }
}

function bad(option: string, expected: string): never {
  throw new VerifierConfigError(`mesh-sdk/server: option ${option} is invalid; expected ${expected}.`);
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/** An https URL (http only on loopback), without credentials or fragment. */
export function checkedUrl(raw: unknown, option: string): string {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    bad(option, 'an absolute URL');
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname));
  if (!secure || url.username || url.password || url.hash)
    bad(option, 'an https:// URL (http:// only on loopback), without credentials');
  return url.href;
}

function seconds(value: unknown, fallback: number, option: string, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) bad(option, `a number of seconds >= ${min}`);
  return value;
}

function count(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) bad(option, 'a whole number >= 1');
  return value;
}

function words(value: unknown, fallback: readonly string[], option: string, allowed?: readonly string[]): readonly string[] {
  if (value === undefined) return Object.freeze([...fallback]);
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '' || /\s/.test(item))) {
    bad(option, 'an array of words');
  }
  if (allowed)
    for (const item of value as string[]) if (!allowed.includes(item)) bad(option, `algorithms among ${allowed.join(', ')}`);
  return Object.freeze([...(value as string[])]);
}

/** A realm goes inside a quoted-string of a header: printable ASCII without quote or backslash. */
function realmOf(value: unknown): string {
  if (typeof value !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value))
    bad('realm', 'printable ASCII without " or \\');
  return value;
}

function defaultEnv(): Readonly<Record<string, string | undefined>> {
  // No `process` on Workers or in a browser-like runtime: no environment, only the defaults.
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}

/**
 * Settles the options: each given one checked, the rest from the client's configuration or a
 * default. Only the three settings the verifier uses are read from the configuration, so a bad
 * unrelated variable (say `MESH_TOKEN_STORE`) does not stop a server from starting.
 *
 * @throws VerifierConfigError or the client's ConfigError naming the bad value.
 */
export function settleOptions(options: VerifierOptions = {}): VerifierSettings {
  const { config, problems } = inspectConfig({
    env: options.env ?? defaultEnv(),
    ...(options.apiUrl === undefined ? {} : { apiUrl: options.apiUrl }),
    ...(options.audience === undefined ? {} : { auth0: { audience: options.audience } }),
  });
  const problem = problems.find((p) => ['apiUrl', 'auth0.domain', 'auth0.audience'].includes(p.setting));
  if (problem) throw problem.error;
  const issuer = options.issuer === undefined ? `${config.auth0.domain}/` : checkedUrl(options.issuer, 'issuer');
  const jwks = options.jwks ?? {};
  const apiKeys = options.apiKeys ?? {};
  const dpop = options.dpop ?? {};
  if (jwks.store !== undefined && (typeof jwks.store?.get !== 'function' || typeof jwks.store?.set !== 'function')) {
    bad('jwks.store', 'an object with get(key) and set(key, value, ttlSeconds)');
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') bad('fetch', 'a fetch function (none is global here)');
  const settings: VerifierSettings = {
    issuer,
    audience: config.auth0.audience,
    jwksUri: options.jwksUri === undefined ? undefined : checkedUrl(options.jwksUri, 'jwksUri'),
    apiUrl: config.apiUrl,
    acceptApiKeys: options.acceptApiKeys ?? false,
    requiredScopes: words(options.requiredScopes, [], 'requiredScopes'),
    clockTolerance: seconds(options.clockTolerance, 5, 'clockTolerance'),
    algorithms: words(options.algorithms, ['RS256', 'PS256', 'ES256'], 'algorithms', TOKEN_ALGORITHMS),
    jwks: Object.freeze({
      refreshAheadSeconds: seconds(jwks.refreshAheadSeconds, 60, 'jwks.refreshAheadSeconds'),
      maxStaleSeconds: seconds(jwks.maxStaleSeconds, 86_400, 'jwks.maxStaleSeconds'),
      cooldownSeconds: seconds(jwks.cooldownSeconds, 30, 'jwks.cooldownSeconds'),
      defaultMaxAgeSeconds: seconds(jwks.defaultMaxAgeSeconds, 600, 'jwks.defaultMaxAgeSeconds'),
      timeout: seconds(jwks.timeout, 5_000, 'jwks.timeout', 1),
      store: jwks.store,
    }),
    apiKeys: Object.freeze({
      ttlSeconds: seconds(apiKeys.ttlSeconds, 60, 'apiKeys.ttlSeconds'),
      negativeTtlSeconds: seconds(apiKeys.negativeTtlSeconds, 5, 'apiKeys.negativeTtlSeconds'),
      maxEntries: count(apiKeys.maxEntries, 10_000, 'apiKeys.maxEntries'),
      timeout: seconds(apiKeys.timeout, 5_000, 'apiKeys.timeout', 1),
      scopes: [...words(apiKeys.scopes, [], 'apiKeys.scopes')],
    }),
    dpop: Object.freeze({
      required: dpop.required ?? false,
      iatWindowSeconds: seconds(dpop.iatWindowSeconds, 60, 'dpop.iatWindowSeconds'),
      maxReplayEntries: count(dpop.maxReplayEntries, 100_000, 'dpop.maxReplayEntries'),
      algorithms: [...words(dpop.algorithms, ['ES256', 'RS256', 'PS256', 'EdDSA'], 'dpop.algorithms', TOKEN_ALGORITHMS)],
    }),
    realm: options.realm === undefined ? 'mesh' : realmOf(options.realm),
    // Called as a plain function: some runtimes refuse a `fetch` called as a method of another object.
    fetch: (input, init) => fetchImpl(input, init),
    now: options.now ?? Date.now,
  };
  return Object.freeze(settings);
}
