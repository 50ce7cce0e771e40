// The public options of MeshClient: the data settings of config/options.ts plus the objects a
// client is wired with. They live here, above every layer they name, so config stays the ground floor.
import type { Dispatcher } from 'undici';
import type { TokenStore } from '../auth/stores/token-store.js';
import type { ConfigOptions } from '../config/options.js';
import type { TokenStoreKind } from '../config/parsers.js';
import type { AuthFlowCallbacks } from '../flow/auth-flow.js';
import type { CircuitBreakerOptions } from '../http/circuit-breaker.js';
import type { Logger } from '../internal/logger.js';
import type { TokenProvider } from './types.js';

/**
 * Options for `MeshClient`. Each is resolved once, at construction: the option if given, else its
 * environment variable, else the default. A bad value throws `ConfigError` naming it.
 */
export interface MeshClientOptions extends Omit<ConfigOptions, 'tokenStore'> {
  /**
   * Where tokens are kept: `auto` (keychain, else file with a warning), `keychain` (never a plain
   * file), `file`, `env`, `memory`, or your own `TokenStore`.
   * @default 'auto' (env `MESH_TOKEN_STORE`; `MESH_TOKEN_FROM_ENV=true` means `env`)
   */
  tokenStore?: TokenStoreKind | TokenStore;
  /** Where debug and warning lines go. @default stderr */
  logger?: Logger;
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
  /** How the login talks to the person: URL and device-code display, the browser opener. @default stderr and the system browser */
  loginUi?: AuthFlowCallbacks;
}
