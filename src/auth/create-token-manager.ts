/**
 * Composes the token machinery from resolved configuration: the store its policy selects, the
 * backend's auth endpoints (BackendAuth), a skew-corrected clock, the validator. MeshClient (and
 * the CLIs) use this.
 */
import type { Dispatcher } from 'undici';
import type { ResolvedConfig } from '../config/resolve.js';
import { HttpClient } from '../http/http-client.js';
import { createLogger, type InternalLogger } from '../internal/logger.js';
import { BackendAuth } from './backend-auth.js';
import { SkewClock } from './clock.js';
import { createTokenStore, type TokenStoreDependencies, type TokenStoreSelection } from './create-token-store.js';
import { JwksCache } from './jwks.js';
import { type LoginSeam, TokenManager } from './token-manager.js';
import { TokenValidator } from './validator.js';

export interface TokenMachinery {
  manager: TokenManager;
  validator: TokenValidator;
  selection: TokenStoreSelection;
  clock: SkewClock;
  backendAuth: BackendAuth;
  logger: InternalLogger;
}

export interface TokenMachineryOptions extends TokenStoreDependencies {
  /** The client's HttpClient, to share its pool, retries and breaker. @default a new one */
  http?: HttpClient;
  dispatcher?: Dispatcher;
  /** The client's BackendAuth (and its clock), so that one `/auth/config` serves the whole client. @default a new one */
  backendAuth?: BackendAuth;
  clock?: SkewClock;
  login?: LoginSeam;
  /** Local clock, ms (tests). */
  localNow?: () => number;
}

/** A refresh must not wait a whole request timeout while other processes wait on the lock. */
export const REFRESH_TIMEOUT_CAP_MS = 30_000; // 30 s

/** The validator for a configuration: the Auth0 tenant's issuer and keys, and the backend's /auth/validate. */
export function validatorFor(
  config: ResolvedConfig,
  clock: SkewClock,
  backendAuth: BackendAuth,
  dispatcher?: Dispatcher,
): TokenValidator {
  return new TokenValidator({
    clock,
    audience: config.auth0.audience,
    issuer: `${config.auth0.domain}/`,
    // Through the client's dispatcher, so that the keys are reachable behind HTTPS_PROXY too.
    jwks: new JwksCache({ url: `${config.auth0.domain}/.well-known/jwks.json`, dispatcher }),
    backendAuth,
  });
}

export function createTokenMachinery(config: ResolvedConfig, options: TokenMachineryOptions = {}): TokenMachinery {
  const logger = options.logger ?? createLogger({ debug: config.debug, logger: config.logger });
  const clock = options.clock ?? new SkewClock(options.localNow);
  const selection = createTokenStore(config, { ...options, logger });
  const backendAuth =
    options.backendAuth ??
    new BackendAuth({
      http:
        options.http ??
        new HttpClient({
          baseUrl: config.apiUrl,
          timeout: config.timeout,
          maxRetries: config.maxRetries,
          dispatcher: options.dispatcher,
          logger,
        }),
      clock,
      timeout: Math.min(config.timeout, REFRESH_TIMEOUT_CAP_MS),
      logger,
    });
  const manager = new TokenManager({
    store: selection.store,
    backendAuth,
    clock,
    lock: selection.lock,
    login: options.login,
    refreshAheadSeconds: config.refreshAheadSeconds,
    autoRefresh: config.autoRefresh,
    logger,
  });
  const validator = validatorFor(config, clock, backendAuth, options.http?.dispatcher ?? options.dispatcher);
  return { manager, validator, selection, clock, backendAuth, logger };
}
