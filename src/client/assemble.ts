/**
 * The composition root: everything a client needs, built once from the resolved configuration.
 * The HTTP client (one pool, one breaker), one clock, the backend's auth endpoints (one
 * `/auth/config`), the store and its lock, the token manager, the validator, the login flow, the
 * call flow, and the one `login()` (flow, then store, then register) that both `MeshClient.login`
 * and a call needing a login go through. `MeshClient` is the public API over these parts and
 * wires nothing itself.
 */
import { channel } from 'node:diagnostics_channel';
import { mkdir } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { BackendAuth } from '../auth/backend/backend-auth.js';
import { type Credentials, providedCredentials, staticCredentials } from '../auth/credentials.js';
import { createTokenStore, type TokenStoreDependencies } from '../auth/stores/create-token-store.js';
import type { TokenSet, TokenStore } from '../auth/stores/token-store.js';
import { SkewClock } from '../auth/tokens/clock.js';
import { JwksCache } from '../auth/tokens/jwks.js';
import { TokenManager, withUserId } from '../auth/tokens/token-manager.js';
import { TokenValidator } from '../auth/tokens/validator.js';
import { DEFAULT_PROFILE } from '../config/profiles.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { ConfigError } from '../errors/mesh-error.js';
import type { AuthFlow, LoginOptions } from '../flow/auth-flow.js';
import { CircuitBreaker } from '../http/circuit-breaker.js';
import { HttpClient } from '../http/http-client.js';
import type { Transport } from '../http/transport.js';
import { type HeadlessVerdict, isInteractive } from '../internal/headless.js';
import { createLogger, type InternalLogger } from '../internal/logger.js';
import { ApiCaller } from './api-caller.js';
import { resolveConfig } from './configuration.js';
import type { MeshClientOptions } from './options.js';
import type { CredentialKind, Profile, TokenProvider } from './types.js';

/** A refresh must not wait a whole request timeout while other processes wait on the lock. */
export const REFRESH_TIMEOUT_CAP_MS = 30_000; // 30 s

/**
 * The plain channel on which every completed login publishes its timings (`LoginEvent`), for the
 * login benchmark and tests; not public since issue 22 (the public trace is the `mesh-sdk:login`
 * tracing channel, internal/tracing.ts).
 */
export const LOGIN_CHANNEL = 'mesh-sdk:login';

/** What `mesh-sdk:login` carries: how the login went, never a token. */
export interface LoginEvent {
  method: 'browser' | 'device';
  /** Browser logins: ms from the callback's arrival to the tokens stored. */
  callbackToStoredMs?: number;
  /** Browser logins: ms the backend's code exchange took (within `callbackToStoredMs`). */
  exchangeMs?: number;
}

const loginChannel = channel(LOGIN_CHANNEL);

/** The token side of a client in the default (login) mode. */
export interface LoginSession {
  manager: TokenManager;
  store: TokenStore;
  headless: HeadlessVerdict;
  /** The one login: the flow, then the store, then `/auth/profile` (the backend meets the user). */
  login(options?: LoginOptions): Promise<Profile>;
}

/** Everything a MeshClient delegates to. */
export interface ClientParts {
  config: ResolvedConfig;
  logger: InternalLogger;
  http: HttpClient;
  backendAuth: BackendAuth;
  validator: TokenValidator;
  credentials: Credentials;
  api: ApiCaller;
  /** Which credential the client uses (`authStatus()` says it, and the client's first debug line). */
  credential: CredentialKind;
  /** Present in the default (login) mode; absent with `apiKey`, `authToken` or `tokenProvider`. */
  session: LoginSession | undefined;
}

/** What a test or an embedding may set besides the public options. */
export interface AssemblyOverrides extends Pick<TokenStoreDependencies, 'tokenDirectory' | 'keychain'> {
  /** Local clock, ms. */
  localNow?: () => number;
  /** The HTTP client's transport (the CLI's node:http one); the user's `dispatcher` option wins. @default undici */
  transport?: Transport;
}

let warnedAuthToken = false;

/** The HTTP client of a configuration: one pool and one breaker for every call of the client. */
export function httpClientFor(
  config: ResolvedConfig,
  options: { dispatcher?: Dispatcher; transport?: Transport; breaker?: CircuitBreaker; logger?: InternalLogger } = {},
): HttpClient {
  return new HttpClient({
    baseUrl: config.apiUrl,
    timeout: config.timeout,
    maxRetries: config.maxRetries,
    maxResponseBytes: config.maxResponseBytes,
    dispatcher: options.dispatcher,
    transport: options.transport,
    breaker: options.breaker,
    logger: options.logger,
  });
}

/** The backend's auth endpoints, with the refresh bound every process waiting on the lock can afford. */
export function backendAuthFor(config: ResolvedConfig, http: HttpClient, clock: SkewClock, logger?: InternalLogger): BackendAuth {
  return new BackendAuth({ http, clock, timeout: Math.min(config.timeout, REFRESH_TIMEOUT_CAP_MS), logger });
}

/** The validator of a configuration: the Auth0 tenant's issuer and keys, and the backend's /auth/validate. */
export function validatorFor(
  config: ResolvedConfig,
  clock: SkewClock,
  backendAuth: BackendAuth,
  http?: HttpClient,
): TokenValidator {
  return new TokenValidator({
    clock,
    audience: config.auth0.audience,
    issuer: `${config.auth0.domain}/`,
    // Through the client's transport, so that the keys are reachable behind HTTPS_PROXY too.
    jwks: new JwksCache({ url: `${config.auth0.domain}/.well-known/jwks.json`, transport: http && (() => http.transport()) }),
    backendAuth,
  });
}

/** Which credentials the options name: at most one of apiKey, authToken and tokenProvider. */
/** The reauthentication hint for a token store of the caller's own, which `npx mesh-auth` never fills. */
function customStoreHint(store: string): string {
  return (
    `Your token store (${store}) holds no usable login, and \`npx mesh-auth\` does not fill it: ` +
    'log in through this client at a terminal (`await client.login()` saves to your store), or save a token set into it yourself.'
  );
}

function givenCredentials(
  options: MeshClientOptions,
  config: ResolvedConfig,
): { credentials: Credentials; kind: CredentialKind } | undefined {
  const explicit = [options.apiKey, options.authToken, options.tokenProvider].filter((value) => value !== undefined);
  if (explicit.length > 1) {
    throw new ConfigError('Give only one of apiKey, authToken and tokenProvider.', { hint: 'Remove all but one of them.' });
  }
  if (options.tokenProvider) {
    // Plain JavaScript passes a function as often as the object: say so, not a TypeError at the first call.
    if (typeof (options.tokenProvider as Partial<TokenProvider>).getAccessToken !== 'function') {
      throw new ConfigError('The option tokenProvider is invalid: it has no getAccessToken() method.', {
        hint: 'Pass an object: { getAccessToken: async () => token }.',
      });
    }
    return { credentials: providedCredentials(options.tokenProvider), kind: 'tokenProvider' };
  }
  if (options.authToken !== undefined) {
    if (!warnedAuthToken) {
      warnedAuthToken = true;
      process.emitWarning(
        'The authToken option of MeshClient is deprecated; use the default login (`npx mesh-auth`) or apiKey.',
        {
          type: 'DeprecationWarning',
          code: 'MESH_DEP_AUTH_TOKEN',
        },
      );
    }
    return { credentials: staticCredentials(options.authToken, 'authToken'), kind: 'authToken' };
  }
  if (config.apiKey !== undefined) return { credentials: staticCredentials(config.apiKey, 'apiKey'), kind: 'apiKey' };
  return undefined;
}

/**
 * Builds a client's parts. Resolves and validates the configuration (a bad value throws
 * `ConfigError`); does no I/O.
 */
export function assembleClient(options: MeshClientOptions = {}, overrides: AssemblyOverrides = {}): ClientParts {
  const config = resolveConfig(options);
  const logger = createLogger({ debug: config.debug, logger: options.logger });
  const http = httpClientFor(config, {
    dispatcher: options.dispatcher,
    transport: overrides.transport,
    breaker: new CircuitBreaker(options.circuitBreaker),
    logger,
  });
  // One clock learns the backend's time for the refresh, the validator and the login alike.
  const clock = new SkewClock(overrides.localNow);
  const backendAuth = backendAuthFor(config, http, clock, logger);
  const validator = validatorFor(config, clock, backendAuth, http);
  const capabilities = () => backendAuth.capabilities();

  const given = givenCredentials(options, config);
  if (given) {
    logger.debug(firstDebugLine(config, given.kind, 'none (credentials given directly)'));
    const api = new ApiCaller({ http, credentials: given.credentials, validator, logger, capabilities });
    const { credentials, kind: credential } = given;
    return { config, logger, http, backendAuth, validator, credentials, credential, api, session: undefined };
  }

  const env = options.env ?? process.env;
  const selection = createTokenStore(config, {
    env,
    logger,
    tokenDirectory: overrides.tokenDirectory,
    keychain: overrides.keychain,
  });
  const credential: CredentialKind = config.tokenStore === 'env' ? 'env' : 'login';
  logger.debug(firstDebugLine(config, credential, selection.store.describe()));
  logger.debug(`Headless: ${selection.headless.headless} (${selection.headless.reason}).`);
  // The login machinery (openid-client, the listener, the device flow) is loaded by the first
  // login, not at import: most runs of a program never log in.
  let flow: Promise<AuthFlow> | undefined;
  const loginFlow = () =>
    (flow ??= import('../flow/auth-flow.js').then(
      ({ AuthFlow }) =>
        new AuthFlow({
          config,
          backendAuth,
          dispatcher: () => http.dispatcher(),
          clock,
          headless: selection.headless,
          env: options.env,
          logger,
          ...options.loginUi,
        }),
    ));
  const interactive = options.interactive ?? isInteractive({ env, stdin: process.stdin, stderr: process.stderr });
  const manager = new TokenManager({
    store: selection.store,
    backendAuth,
    clock,
    // The policy's lock (a file beside the store), or the one a shared store brings (Redis).
    lock: selection.lock ?? selection.store.lock,
    // The one login (below), when a call needs one and a person can answer it.
    login: interactive ? async (signal) => (await login({ signal })).tokens : undefined,
    refreshAheadSeconds: config.refreshAheadSeconds,
    autoRefresh: config.autoRefresh,
    logger,
    // `npx mesh-auth` fills the SDK's own stores, never a store of yours.
    reauthHint: typeof config.tokenStore === 'object' ? customStoreHint(selection.store.describe()) : undefined,
  });
  const credentials: Credentials = manager;
  const api = new ApiCaller({ http, credentials, validator, logger, capabilities });
  const login = async (loginOptions: LoginOptions = {}): Promise<{ tokens: TokenSet; profile: Profile }> => {
    const { tokens, callback } = await (await loginFlow()).login(loginOptions);
    // The backend meets the user with the new token (never a trip through the manager), and the
    // tokens are stored once, with the user's id: nothing writes the store again behind the caller.
    let profile: Profile;
    try {
      profile = await api.facts.profile(loginOptions.signal, { fresh: true, credential: tokens.access_token });
    } catch (error) {
      await manager.setTokens(tokens); // a login is never lost to a failed registration
      throw error;
    }
    await manager.setTokens(withUserId(tokens, profile.id, profile.email));
    // A named profile's folder exists once it has logged in, whichever store holds its tokens, so
    // that `mesh-auth status --all` finds it (its lock lives there too).
    if (config.profile !== DEFAULT_PROFILE) await mkdir(selection.directory, { recursive: true, mode: 0o700 }).catch(() => {});
    const storedAt = performance.now();
    if (loginChannel.hasSubscribers) {
      const event: LoginEvent = callback
        ? { method: 'browser', callbackToStoredMs: storedAt - callback.arrivedAt, exchangeMs: callback.exchangeMs }
        : { method: 'device' };
      loginChannel.publish(event);
    }
    return { tokens, profile };
  };
  const session: LoginSession = {
    manager,
    store: selection.store,
    headless: selection.headless,
    login: async (loginOptions) => (await login(loginOptions)).profile,
  };
  return { config, logger, http, backendAuth, validator, credentials, credential, api, session };
}

/** The first debug line of a client: which profile, which credential, which store (never a secret). */
export function firstDebugLine(config: ResolvedConfig, credential: CredentialKind, store: string): string {
  const from = config.sources.profile ?? 'default';
  return `Profile ${config.profile} (from ${from === 'file' ? config.configFile : from}); credential: ${credential}; tokens: ${store}; API ${config.apiUrl}.`;
}
