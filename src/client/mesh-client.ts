import { BackendAuth } from '../auth/backend-auth.js';
import { SkewClock } from '../auth/clock.js';
import { createTokenMachinery, REFRESH_TIMEOUT_CAP_MS, type TokenMachinery, validatorFor } from '../auth/create-token-manager.js';
import { isInteractive } from '../auth/headless.js';
import { LayeredStore } from '../auth/stores/layered-store.js';
import type { TokenSet } from '../auth/token-store.js';
import type { TokenValidator, ValidationResult } from '../auth/validator.js';
import type { MeshClientOptions } from '../config/options.js';
import { defaultModelFor, type ResolvedConfig, resolveConfig } from '../config/resolve.js';
import { ConfigError } from '../errors/mesh-error.js';
import { AuthFlow, type LoginOptions } from '../flow/auth-flow.js';
import { CircuitBreaker } from '../http/circuit-breaker.js';
import { HttpClient, type RateLimitInfo } from '../http/http-client.js';
import { createLogger } from '../internal/logger.js';
import { ApiCaller } from './api-caller.js';
import { ApiKeys, defaultApiKeyName, unsupported } from './api-keys.js';
import { readAuthStatus } from './auth-status.js';
import { CHAT_PATHS, type ChatDefaults, chatBody, chatResponseOf } from './chat.js';
import { readChatStream } from './chat-stream.js';
import { type Credentials, managedCredentials, providedCredentials, staticCredentials } from './credentials.js';
import { PathMemory, sendWithFallback } from './path-fallback.js';
import { StoredKeys } from './stored-keys.js';
import type {
  ApiKeyInfo,
  AuthStatus,
  ChatMessage,
  ChatOptions,
  ChatResponse,
  ChatStreamResult,
  CreatedApiKey,
  Profile,
  RequestOptions,
} from './types.js';
import { validateApiKey, validateToken } from './validate-token.js';

let warnedAuthToken = false;

/**
 * The Mesh client. Construction resolves and validates all configuration (options, then
 * environment, then defaults) and throws `ConfigError` on a bad value; it does no I/O. Tokens are
 * loaded, refreshed and stored on first use.
 *
 * @example
 * import { MeshClient } from 'mesh-sdk';
 * const client = new MeshClient();
 * const reply = await client.chat('What is 5 + 7?');
 * console.log(reply.content);
 */
export class MeshClient {
  /** The resolved, frozen configuration. */
  readonly config: ResolvedConfig;
  readonly #http: HttpClient;
  readonly #api: ApiCaller;
  readonly #validator: TokenValidator;
  readonly #credentials: Credentials;
  readonly #machinery: TokenMachinery | undefined;
  #flow: AuthFlow | undefined;
  /** Which chat path this deployment answered on (streams use it too). */
  readonly #chatPaths = new PathMemory(CHAT_PATHS);
  #apiKeys: ApiKeys | undefined;

  constructor(options: MeshClientOptions = {}) {
    this.config = resolveConfig(options);
    const logger = createLogger({ debug: this.config.debug, logger: this.config.logger });
    this.#http = new HttpClient({
      baseUrl: this.config.apiUrl,
      timeout: this.config.timeout,
      maxRetries: this.config.maxRetries,
      dispatcher: options.dispatcher,
      breaker: new CircuitBreaker(options.circuitBreaker),
      logger,
    });
    // One BackendAuth per client: one `/auth/config` (capabilities) serves the login, the
    // refresh and the API calls; one clock learns the backend's time for all of them.
    const clock = new SkewClock();
    const backendAuth = new BackendAuth({
      http: this.#http,
      clock,
      timeout: Math.min(this.config.timeout, REFRESH_TIMEOUT_CAP_MS),
      logger,
    });
    const explicit = [options.apiKey, options.authToken, options.tokenProvider].filter((value) => value !== undefined);
    if (explicit.length > 1) {
      throw new ConfigError('Give only one of apiKey, authToken and tokenProvider.', { hint: 'Remove all but one of them.' });
    }
    if (options.tokenProvider) {
      this.#credentials = providedCredentials(options.tokenProvider);
    } else if (options.authToken !== undefined) {
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
      this.#credentials = staticCredentials(options.authToken, 'authToken');
    } else if (this.config.apiKey !== undefined) {
      this.#credentials = staticCredentials(this.config.apiKey, 'apiKey');
    } else {
      const interactive =
        options.interactive ?? isInteractive({ env: options.env ?? process.env, stdin: process.stdin, stderr: process.stderr });
      this.#machinery = createTokenMachinery(this.config, {
        env: options.env,
        logger,
        http: this.#http,
        backendAuth,
        clock,
        // When a call needs a login and a person can answer: run it (once; the manager single-flights it).
        login: interactive ? (signal) => (this.#flow as AuthFlow).login({ signal }) : undefined,
      });
      const { selection } = this.#machinery;
      this.#flow = new AuthFlow({
        config: this.config,
        backendAuth,
        dispatcher: this.#http.dispatcher,
        clock,
        headless: selection.headless,
        env: options.env,
        logger,
        ...options.loginUi,
      });
      this.#credentials = managedCredentials(this.#machinery.manager);
    }
    this.#validator = this.#machinery?.validator ?? validatorFor(this.config, clock, backendAuth);
    this.#api = new ApiCaller({
      http: this.#http,
      credentials: this.#credentials,
      validator: this.#validator,
      logger,
      capabilities: () => backendAuth.capabilities(),
    });
  }

  /** The rate-limit headers of the latest reply. */
  get rateLimit(): RateLimitInfo | undefined {
    return this.#api.lastRateLimit;
  }

  /**
   * Sends a message (or a conversation) and returns the whole reply. Always names a model and a
   * provider (`config.defaultModel`/`defaultProvider`, or the provider the model belongs to).
   * @example const { content } = await client.chat('What is 5 + 7?');
   */
  async chat(input: string | ChatMessage[], options: ChatOptions = {}): Promise<ChatResponse> {
    const body = chatBody(input, options, this.#chatDefaults(), false);
    const response = await sendWithFallback(
      this.#api,
      this.#chatPaths,
      (path) => ({ method: 'POST', path, body, ...requestOf(options) }),
      'Chat',
      { registerOn404: true },
    );
    return chatResponseOf(response, body);
  }

  /**
   * Streams a reply as text deltas, on the chat path this client last saw answer. `break` or an
   * aborted signal closes the connection; a cut stream throws `StreamInterruptedError` with the
   * text that arrived (`partialText`).
   * @example for await (const delta of client.chatStream('Tell me a story')) process.stdout.write(delta);
   */
  async *chatStream(input: string | ChatMessage[], options: ChatOptions = {}): AsyncGenerator<string, ChatStreamResult> {
    const body = chatBody(input, options, this.#chatDefaults(), true);
    const response = await this.#api.send(
      { method: 'POST', path: this.#chatPaths.first, body, stream: true, ...requestOf(options) },
      'Chat stream',
    );
    return yield* readChatStream(response, options.signal);
  }

  #chatDefaults(): ChatDefaults {
    const { config } = this;
    return {
      defaultModel: config.defaultModel,
      defaultProvider: config.defaultProvider,
      modelFor: (provider) => defaultModelFor(config, provider),
    };
  }

  /** Names of the stored provider keys. */
  async listKeys(options: RequestOptions = {}): Promise<string[]> {
    return new StoredKeys(this.#api).list(requestOf(options));
  }

  /** Stores (or replaces) a provider key, e.g. `storeKey('openai_key', 'sk-...')`. */
  async storeKey(name: string, value: string, options: RequestOptions = {}): Promise<void> {
    await new StoredKeys(this.#api).store(name, value, requestOf(options));
  }

  /** A stored key's value. @throws NotFoundError when there is no key of that name. */
  async getKey(name: string, options: RequestOptions = {}): Promise<string> {
    return new StoredKeys(this.#api).get(name, requestOf(options));
  }

  /**
   * Not offered by the deployed Mesh backend (no endpoint): always rejects with
   * `UnsupportedByBackendError` (code `unsupported_by_backend`) and sends nothing.
   */
  async deleteKey(name: string, _options: RequestOptions = {}): Promise<void> {
    throw unsupported(
      `Deleting a stored key ("${name}")`,
      this.config.apiUrl,
      'Replace its value with storeKey(name, value) instead.',
    );
  }

  /**
   * Creates a Mesh API key (`mesh_...`, shown once) for a server or CI. Waits up to 360 s by
   * default (creation can take minutes on a struggling deployment); the POST is not retried
   * blindly: only when the backend advertises `idempotency_key`, with one key across attempts.
   * @example const { key } = await client.generateApiKey('render-production');
   */
  async generateApiKey(name: string = defaultApiKeyName(), options: RequestOptions = {}): Promise<CreatedApiKey> {
    this.#apiKeys ??= new ApiKeys(this.#api);
    return this.#apiKeys.create(name, requestOf(options));
  }

  /**
   * Not offered by the deployed Mesh backend (API keys are listed in the Mesh web interface):
   * always rejects with `UnsupportedByBackendError` and sends nothing.
   */
  async listApiKeys(_options: RequestOptions = {}): Promise<ApiKeyInfo[]> {
    throw unsupported('Listing API keys', this.config.apiUrl, 'List your API keys in the Mesh web interface.');
  }

  /**
   * Not offered by the deployed Mesh backend (API keys are revoked in the Mesh web interface):
   * always rejects with `UnsupportedByBackendError` and sends nothing.
   */
  async revokeApiKey(_id: string, _options: RequestOptions = {}): Promise<void> {
    throw unsupported('Revoking an API key', this.config.apiUrl, 'Revoke it in the Mesh web interface.');
  }

  /** The logged-in user's profile, read now (`id` is the `userId` of the stored keys). */
  async profile(options: RequestOptions = {}): Promise<Profile> {
    return this.#api.profile(options.signal, { fresh: true });
  }

  /**
   * Whether a token is good as it is, and who answered: `backend` (`/auth/validate`), or `local`
   * when the backend cannot say (then the signature is checked against the issuer's published
   * keys: `signature` says `verified`, `invalid`, or `unverified` and why). Judges `token` when
   * given, else the current one (the stored token set, read without refreshing); never refreshes,
   * never logs in: an expired or forged token answers `valid: false` with a `reason`, and no
   * stored token answers `{ valid: false, source: 'local', reason: 'no token: ...' }`. A Mesh API
   * key is checked through the profile, never sent to `/auth/validate`.
   * @example const { valid, reason } = await client.validateToken();
   * @example await client.validateToken(tokenFromElsewhere, { signal });
   */
  validateToken(options?: Pick<RequestOptions, 'signal'>): Promise<ValidationResult>;
  validateToken(token: string | undefined, options?: Pick<RequestOptions, 'signal'>): Promise<ValidationResult>;
  async validateToken(
    tokenOrOptions?: string | Pick<RequestOptions, 'signal'>,
    options: Pick<RequestOptions, 'signal'> = {},
  ): Promise<ValidationResult> {
    // validateToken({ signal }) is the 0.1 form: the current token.
    const given = typeof tokenOrOptions === 'string' ? tokenOrOptions : undefined;
    const { signal } = typeof tokenOrOptions === 'object' && tokenOrOptions !== null ? tokenOrOptions : options;
    return validateToken({
      token: given,
      credentials: this.#credentials,
      manager: this.#machinery?.manager,
      validator: this.#validator,
      http: this.#http,
      signal,
    });
  }

  /**
   * Logs in: the browser on a desktop (a loopback callback on `callbackPort`), the device flow
   * when headless or asked; stores the tokens and meets the backend through `/auth/profile`.
   * @example const me = await client.login(); console.log(`Logged in as ${me.email}`);
   */
  async login(options: LoginOptions = {}): Promise<Profile> {
    if (!this.#flow || !this.#machinery) {
      throw new ConfigError('login() needs the default credentials: this client was given apiKey, authToken or tokenProvider.', {
        hint: 'Create the client without them to log in.',
      });
    }
    const tokens = await this.#flow.login(options);
    await this.#machinery.manager.setTokens(tokens);
    const callback = this.#flow.lastCallback;
    this.lastLoginTimings = callback && {
      callbackToStoredMs: performance.now() - callback.arrivedAt,
      exchangeMs: callback.exchangeMs,
    };
    return this.#api.register(options.signal);
  }

  /** The last browser login: ms from the callback's arrival to the tokens stored, and the backend's exchange within it. */
  lastLoginTimings: { callbackToStoredMs: number; exchangeMs: number } | undefined;

  /**
   * The current token set, refreshed first when due (never a login: throws
   * ReauthenticationRequiredError when there is none). For `mesh-auth token` and `print-tokens`.
   */
  async tokenSet(options: Pick<RequestOptions, 'signal'> = {}): Promise<TokenSet> {
    if (!this.#machinery) throw new ConfigError('This client holds no tokens: it was given apiKey, authToken or tokenProvider.');
    return this.#machinery.manager.getTokenSet({ signal: options.signal });
  }

  /**
   * Who is logged in, until when, where the tokens are, and who vouched for them. Never starts a
   * login. `loggedIn` is false when there are no usable tokens.
   */
  async authStatus(options: Pick<RequestOptions, 'signal'> = {}): Promise<AuthStatus> {
    return readAuthStatus({
      manager: this.#machinery?.manager,
      credentials: this.#credentials,
      validate: (token, signal) =>
        this.#credentials.kind === 'apiKey'
          ? validateApiKey(this.#http, token, signal)
          : this.#validator.validate(token, { signal }),
      store: this.describeTokenStore(),
      signal: options.signal,
    });
  }

  /** Forgets the stored tokens everywhere this configuration keeps them; answers where that was. */
  async logout(): Promise<string[]> {
    if (!this.#machinery) return [];
    const { store } = this.#machinery.selection;
    const places = store instanceof LayeredStore ? store.places() : [store.describe()];
    await this.#machinery.manager.clear();
    this.#api.forgetProfile(); // the next login may be someone else
    return places;
  }

  /** Where tokens are kept, e.g. "file /home/me/.mesh/token.json"; `apiKey`/`authToken`/`tokenProvider` otherwise. */
  describeTokenStore(): string {
    return this.#machinery?.manager.describeStore() ?? 'none (credentials given directly)';
  }

  /** Closes pooled connections. The client is not usable afterwards. */
  async close(): Promise<void> {
    await this.#http.close();
  }
}

function requestOf(options: RequestOptions): Pick<RequestOptions, 'signal' | 'timeout' | 'maxRetries'> {
  return { signal: options.signal, timeout: options.timeout, maxRetries: options.maxRetries };
}
