// The data settings only: config is the ground floor and imports nothing from the layers above
// (the objects a client is wired with, such as a TokenStore or a Dispatcher, are in
// client/options.ts).
import type { Logger } from '../internal/logger.js';
import type { RedisUrl, TokenStoreKind } from './parsers.js';

// The public index has always exported `Logger` from here; it is declared with the logger itself.
export type { Logger } from '../internal/logger.js';

/** Auth0 settings. The SDK only sends the browser to Auth0; the backend redeems the code. */
export interface Auth0Options {
  /**
   * Auth0 tenant: a host name (https assumed) or an origin; http only for loopback.
   * @default 'dev-hzpwy8oqs2ojss6r.us.auth0.com' (env `AUTH0_DOMAIN`)
   */
  domain?: string;
  /**
   * The backend's Auth0 application id, put in the authorize URL.
   * @default 'Ky6gtf5PPUs1IpIFdm91ttQs4Oxpj0Nq' (env `AUTH0_CLIENT_ID`)
   */
  clientId?: string;
  /**
   * The API audience the access token is issued for.
   * @default 'https://mesh-abh5.onrender.com' (env `AUTH0_AUDIENCE`)
   */
  audience?: string;
}

/**
 * The data settings of a client: plain values, each resolved once by `resolveConfig`: the option
 * if given, else its environment variable, else the default. A bad value throws `ConfigError`
 * naming it. `MeshClientOptions` adds the objects a client is wired with.
 */
export interface ConfigOptions {
  /**
   * The profile: a login of its own (its own tokens in every store, its own refresh lock) and,
   * optionally, settings of its own in the user configuration file (docs/profiles.md). Resolved
   * once, at construction. A name has letters, digits, `.`, `_` and `-` only, 1 to 64 of them,
   * and is not `.` or `..`; empty means `default`.
   * @default the configuration file's `defaultProfile` (set by `mesh-auth use <name>`), else 'default': today's storage (env `MESH_PROFILE`)
   */
  profile?: string;
  /**
   * The user configuration file: `{ "defaultProfile", "profiles": { "<name>": { apiUrl, auth0Domain,
   * auth0ClientId, auth0Audience, defaultProvider, defaultModel, tokenStore } } }`. Never a file of
   * the working directory; refused when another user owns it or may write it.
   * @default '~/.mesh/config.json' (env `MESH_CONFIG_FILE`)
   */
  configFile?: string;
  /**
   * The Mesh backend.
   * @default 'https://mesh-abh5.onrender.com' (env `MESH_API_URL`)
   */
  apiUrl?: string;
  /** Auth0 settings; each falls back to its env var, then the backend's `/auth/config`, then the default. */
  auth0?: Auth0Options;
  /**
   * Port of the loopback login callback (`http://localhost:<port>/callback`); it must be registered in Auth0.
   * @default 8000 (env `AUTH0_CALLBACK_PORT`)
   */
  callbackPort?: number;
  /**
   * Refresh the access token ahead of expiry and after a 401/404.
   * @default true (env `AUTO_REFRESH`)
   */
  autoRefresh?: boolean;
  /**
   * Seconds before expiry at which a token is refreshed ahead of time.
   * @default 300 (env `MESH_REFRESH_AHEAD_SECONDS`)
   */
  refreshAheadSeconds?: number;
  /**
   * Force headless mode (device login, file store) on or off.
   * @default auto-detect: CI, a hosting platform (Render, Kubernetes, Lambda, Cloud Run), a container, SSH or no display (env `MESH_HEADLESS`: a boolean, or `auto`)
   */
  headless?: boolean;
  /**
   * Where tokens are kept: `auto` (keychain, else file with a warning), `keychain` (never a plain
   * file), `file`, `env`, `memory`, or a Redis URL (`redis://[user:password@]host:port/db`,
   * `rediss://` for TLS): one token set shared by every instance of a deployment, with a
   * fleet-wide refresh lock (needs the `redis` package; see docs/fleets.md).
   * @default 'auto' (env `MESH_TOKEN_STORE`; `MESH_TOKEN_FROM_ENV=true` means `env`, or, with a Redis URL, seed an empty key from the environment's tokens)
   */
  tokenStore?: TokenStoreKind | RedisUrl;
  /**
   * The Redis key holding the token set, with a Redis `tokenStore`.
   * @default `mesh-sdk:tokens:` and 16 hex characters of sha256(apiUrl, audience): one key per deployment (env `MESH_TOKEN_STORE_KEY`)
   */
  tokenStoreKey?: string;
  /**
   * A 256-bit key, 64 hex characters (`openssl rand -hex 32`), the same on every instance: a Redis
   * store seals the token set with it (AES-256-GCM). Checked at construction; never shown.
   * @default none: the set is stored in the clear, with a one-time warning (env `MESH_TOKEN_KEY`)
   */
  tokenSealingKey?: string;
  /**
   * Directory of `token.json` (and its lock) for the file store.
   * @default '~/.mesh' (env `MESH_TOKEN_DIR`)
   */
  tokenDirectory?: string;
  /**
   * Ask for extended token lifetimes when logging in headless.
   * @default true (env `MESH_EXTENDED_TOKEN_LIFETIME`)
   */
  extendedTokenLifetime?: boolean;
  /**
   * A Mesh API key (`mesh_` and the rest, e.g. `mesh_pk_...`): no login at all.
   * @default none (env `MESH_API_KEY`)
   */
  apiKey?: string;
  /**
   * The provider a chat names when the caller names none (sent lower case).
   * @default 'openai' (env `DEFAULT_PROVIDER`)
   */
  defaultProvider?: string;
  /**
   * The model a chat names when the caller names neither model nor provider.
   * @default the default provider's model: `defaultAnthropicModel` for `anthropic`, else `defaultOpenaiModel` (env `DEFAULT_MODEL`)
   */
  defaultModel?: string;
  /**
   * The model for provider `openai`, and for a provider without a default of its own.
   * @default 'gpt-4o' (env `DEFAULT_OPENAI_MODEL_OVERRIDE`, then `DEFAULT_OPENAI_MODEL`)
   */
  defaultOpenaiModel?: string;
  /**
   * The model for provider `anthropic`.
   * @default 'claude-3-7-sonnet-20250219' (env `DEFAULT_ANTHROPIC_MODEL_OVERRIDE`, then `DEFAULT_ANTHROPIC_MODEL`)
   */
  defaultAnthropicModel?: string;
  /**
   * Debug output to the logger.
   * @default false (env `DEBUG`: `true`, `1`, `yes`, `y`, `on` or a pattern naming mesh such as `mesh*`)
   */
  debug?: boolean;
  /**
   * The Python SDK's headless token file (`.mesh_token.json`) to share with a Python program on
   * this machine: read when mesh-sdk's own stores hold nothing, and written back in place, so one
   * login serves both. Never looked for in the working directory unless named here (a cloned
   * repository could plant one). To copy a set from it once instead: `npx mesh-auth import-python`.
   * @default none (env `MESH_PYTHON_TOKEN_FILE`)
   */
  pythonTokenFile?: string;
  /**
   * Per-request timeout in milliseconds: the whole attempt, headers and body (a stream's body is
   * bounded by `streamIdleTimeout` instead).
   * @default 60000
   */
  timeout?: number;
  /**
   * Retries for a failed request that is safe to retry. All their waits together stay within 60 s;
   * a server asking (`Retry-After`) for more than 60 s is not retried.
   * @default 2
   */
  maxRetries?: number;
  /**
   * The largest reply body read, in bytes (and the most a stream may send in all); a larger one is
   * dropped with a `ResponseValidationError` (code `response_too_large`).
   * @default 33554432 (32 MiB)
   */
  maxResponseBytes?: number;
  /**
   * How long a streamed reply may go without a chunk of content (keep-alives do not count), in
   * milliseconds; then it ends with a `StreamInterruptedError` (code `stream_idle_timeout`).
   * @default 60000
   */
  streamIdleTimeout?: number;
  /**
   * Whether a person can answer a login when a call needs one (then it runs, once).
   * @default stdin and stderr are both TTYs and no CI variable (`CI`, `GITHUB_ACTIONS`, ...) is set
   */
  interactive?: boolean;
  /** The environment to read instead of `process.env` (tests, embedding). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A token store as config sees it: the shape of the SDK's `TokenStore` (auth/stores/token-store.ts),
 * declared here because config sits below auth. `resolveConfig` checks only that the four
 * methods exist; the store itself is used by the auth layer.
 */
export interface CustomTokenStore {
  /** The stored token set, or null when there is none (`TokenStore.load`). */
  load(): Promise<unknown>;
  /** Stores a token set in place of any earlier one (`TokenStore.save`). */
  save(tokens: never): Promise<void>;
  /** Removes the stored tokens (`TokenStore.clear`). */
  clear(): Promise<void>;
  /** Where the tokens live, for status output (`TokenStore.describe`). */
  describe(): string;
}

/**
 * What `resolveConfig` and `inspectConfig` read: the data settings, a token store given as an
 * object, and the logger. A `MeshClientOptions` fits (its other fields are not read here).
 */
export interface ConfigInput extends Omit<ConfigOptions, 'tokenStore'> {
  tokenStore?: ConfigOptions['tokenStore'] | CustomTokenStore;
  logger?: Logger;
}
