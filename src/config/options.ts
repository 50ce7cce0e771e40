import type { Dispatcher } from 'undici';
import type { TokenStore } from '../auth/token-store.js';
import type { TokenProvider } from '../client/types.js';
import type { AuthFlowCallbacks } from '../flow/auth-flow.js';
import type { CircuitBreakerOptions } from '../http/circuit-breaker.js';
import type { TokenStoreKind } from './parsers.js';

/** Where debug and warning lines go. The default writes to stderr; every line is redacted first. */
export interface Logger {
  debug(message: string): void;
  warn(message: string): void;
}

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
 * Options for `MeshClient`. Each is resolved once, at construction: the option if given, else its
 * environment variable, else the default. A bad value throws `ConfigError` naming it.
 */
export interface MeshClientOptions {
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
   * file), `file`, `env`, `memory`, or your own `TokenStore`.
   * @default 'auto' (env `MESH_TOKEN_STORE`; `MESH_TOKEN_FROM_ENV=true` means `env`)
   */
  tokenStore?: TokenStoreKind | TokenStore;
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
  /** Where debug and warning lines go. @default stderr */
  logger?: Logger;
  /**
   * Per-request timeout in milliseconds.
   * @default 60000
   */
  timeout?: number;
  /**
   * Retries for a failed request that is safe to retry.
   * @default 2
   */
  maxRetries?: number;
  /**
   * Supplies bearer tokens from your own code instead of the built-in login (no refresh by mesh-sdk).
   * Exclusive with `apiKey` and `authToken`.
   */
  tokenProvider?: TokenProvider;
  /**
   * A fixed bearer token.
   * @deprecated Use the default login (`npx mesh-auth`), `apiKey`, or a `tokenProvider`.
   */
  authToken?: string;
  /**
   * The undici Dispatcher for every request (your proxy or agent).
   * @default an EnvHttpProxyAgent: keep-alive, honouring HTTPS_PROXY, HTTP_PROXY and NO_PROXY
   */
  dispatcher?: Dispatcher;
  /** After `threshold` consecutive failures, fail fast for `cooldownMs`. @default { threshold: 5, cooldownMs: 30000 } */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * Whether a person can answer a login when a call needs one (then it runs, once).
   * @default stdin and stderr are both TTYs and no CI variable (`CI`, `GITHUB_ACTIONS`, ...) is set
   */
  interactive?: boolean;
  /** How the login talks to the person: URL and device-code display, the browser opener. @default stderr and the system browser */
  loginUi?: AuthFlowCallbacks;
  /** The environment to read instead of `process.env` (tests, embedding). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}
