/**
 * Composes the token machinery from resolved configuration: the store its policy selects, the
 * backend's auth API, a skew-corrected clock, the validator. MeshClient (and the CLIs) use this.
 */
import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from '../config/resolve.js';
import { HttpClient } from '../http/http-client.js';
import { createLogger, type InternalLogger } from '../internal/logger.js';
import { AuthApi } from './auth-api.js';
import { SkewClock } from './clock.js';
import { createTokenStore, type TokenStoreDependencies, type TokenStoreSelection } from './create-token-store.js';
import { type LoginSeam, TokenManager } from './token-manager.js';
import { TokenValidator } from './validator.js';

export interface TokenMachinery {
  manager: TokenManager;
  validator: TokenValidator;
  selection: TokenStoreSelection;
  clock: SkewClock;
  logger: InternalLogger;
}

export interface TokenMachineryOptions extends TokenStoreDependencies {
  /** The client's HttpClient, to share its pool, retries and breaker. @default a new one */
  http?: HttpClient;
  dispatcher?: Dispatcher;
  login?: LoginSeam;
  /** Local clock, ms (tests). */
  localNow?: () => number;
}

export function createTokenMachinery(config: ResolvedConfig, options: TokenMachineryOptions = {}): TokenMachinery {
  const logger = options.logger ?? createLogger({ debug: config.debug, logger: config.logger });
  const clock = new SkewClock(options.localNow);
  const selection = createTokenStore(config, { ...options, logger });
  // A refresh must not wait a whole request timeout while other processes wait on the lock.
  const http =
    options.http ??
    new HttpClient({
      baseUrl: config.apiUrl,
      timeout: config.timeout,
      maxRetries: config.maxRetries,
      dispatcher: options.dispatcher,
      logger,
    });
  const authApi = new AuthApi({ http, clock, timeout: Math.min(config.timeout, 30_000) });
  const manager = new TokenManager({
    store: selection.store,
    authApi,
    clock,
    lock: selection.lock,
    login: options.login,
    refreshAheadSeconds: config.refreshAheadSeconds,
    autoRefresh: config.autoRefresh,
    extendedLifetime: selection.headless.headless && config.extendedTokenLifetime,
    logger,
  });
  const validator = new TokenValidator({
    clock,
    audience: config.auth0.audience,
    issuer: `${config.auth0.domain}/`,
    jwksUrl: `${config.auth0.domain}/.well-known/jwks.json`,
    authApi,
  });
  return { manager, validator, selection, clock, logger };
}
