import { AuthApi } from '../auth/auth-api.js';
import { SkewClock } from '../auth/clock.js';
import { createTokenMachinery, type TokenMachinery } from '../auth/create-token-manager.js';
import { LayeredStore } from '../auth/stores/layered-store.js';
import type { TokenSet } from '../auth/token-store.js';
import { TokenValidator, type ValidationResult } from '../auth/validator.js';
import type { MeshClientOptions } from '../config/options.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.js';
import { ConfigError } from '../errors/mesh-error.js';
import { AuthFlow, type LoginOptions } from '../flow/auth-flow.js';
import { LoginApi } from '../flow/login-api.js';
import { CircuitBreaker } from '../http/circuit-breaker.js';
import { HttpClient, type RateLimitInfo } from '../http/http-client.js';
import { createLogger } from '../internal/logger.js';
import { ApiCaller } from './api-caller.js';
import { readAuthStatus } from './auth-status.js';
import { readChatStream } from './chat-stream.js';
import { type Credentials, managedCredentials, providedCredentials, staticCredentials } from './credentials.js';
import { apiKeysReply, chatReply, createdApiKeyReply, keyReply, keysReply, profileReply, successReply } from './schemas.js';
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

/** API-key creation can be very slow on a struggling deployment (seeds: gotchas). */
const API_KEY_TIMEOUT_MS = 120_000;

let warnedAuthToken = false;

function toMessages(input: string | ChatMessage[]): ChatMessage[] {
  return typeof input === 'string' ? [{ role: 'user', content: input }] : input;
}

const encode = encodeURIComponent;

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
      const interactive = options.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY);
      this.#machinery = createTokenMachinery(this.config, {
        env: options.env,
        logger,
        http: this.#http,
        // When a call needs a login and a person can answer: run it (once; the manager single-flights it).
        login: interactive ? (signal) => (this.#flow as AuthFlow).login({ signal }) : undefined,
      });
      const { clock, selection } = this.#machinery;
      this.#flow = new AuthFlow({
        config: this.config,
        api: new LoginApi(this.#http),
        clock,
        headless: selection.headless,
        env: options.env,
        logger,
        ...options.loginUi,
      });
      this.#credentials = managedCredentials(this.#machinery.manager);
    }
    this.#validator = this.#machinery?.validator ?? this.#standaloneValidator();
    this.#api = new ApiCaller({ http: this.#http, credentials: this.#credentials, validator: this.#validator, logger });
  }

  #standaloneValidator(): TokenValidator {
    const clock = new SkewClock();
    const { auth0 } = this.config;
    return new TokenValidator({
      clock,
      audience: auth0.audience,
      issuer: `${auth0.domain}/`,
      jwksUrl: `${auth0.domain}/.well-known/jwks.json`,
      authApi: new AuthApi({ http: this.#http, clock }),
    });
  }

  /** The rate-limit headers of the latest reply. */
  get rateLimit(): RateLimitInfo | undefined {
    return this.#api.lastRateLimit;
  }

  /**
   * Sends a message (or a conversation) and returns the whole reply.
   * @example const { content } = await client.chat('What is 5 + 7?');
   */
  async chat(input: string | ChatMessage[], options: ChatOptions = {}): Promise<ChatResponse> {
    const { data, response } = await this.#api.call(
      { method: 'POST', path: '/api/v1/chat', body: this.#chatBody(input, options, false), ...requestOf(options) },
      chatReply,
      'Chat',
    );
    const { usage } = data;
    return {
      id: data.id,
      content: data.content,
      model: data.model,
      provider: data.provider,
      usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens },
      requestId: response.requestId,
      rateLimit: response.rateLimit,
    };
  }

  /**
   * Streams a reply as text deltas. `break` or an aborted signal closes the connection; a cut
   * stream throws `StreamInterruptedError` with the text that arrived (`partialText`).
   * @example for await (const delta of client.chatStream('Tell me a story')) process.stdout.write(delta);
   */
  async *chatStream(input: string | ChatMessage[], options: ChatOptions = {}): AsyncGenerator<string, ChatStreamResult> {
    const response = await this.#api.send(
      { method: 'POST', path: '/api/v1/chat', body: this.#chatBody(input, options, true), stream: true, ...requestOf(options) },
      'Chat stream',
    );
    return yield* readChatStream(response, options.signal);
  }

  #chatBody(input: string | ChatMessage[], options: ChatOptions, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = { messages: toMessages(input), stream };
    if (options.model !== undefined) body.model = options.model;
    if (options.provider !== undefined) body.provider = options.provider;
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    return body;
  }

  /** Names of the stored provider keys. */
  async listKeys(options: RequestOptions = {}): Promise<string[]> {
    return (await this.#api.call({ method: 'GET', path: '/api/v1/keys', ...requestOf(options) }, keysReply, 'Listing keys')).data
      .keys;
  }

  /** Stores (or replaces) a provider key, e.g. `storeKey('openai_key', 'sk-...')`. */
  async storeKey(name: string, value: string, options: RequestOptions = {}): Promise<void> {
    await this.#api.call(
      { method: 'POST', path: '/api/v1/keys', body: { key_name: name, key_value: value }, ...requestOf(options) },
      successReply,
      'Storing a key',
    );
  }

  /** A stored key's value. @throws NotFoundError when there is no key of that name. */
  async getKey(name: string, options: RequestOptions = {}): Promise<string> {
    const path = `/api/v1/keys/${encode(name)}`;
    return (await this.#api.call({ method: 'GET', path, ...requestOf(options) }, keyReply, `Reading key "${name}"`)).data
      .key_value;
  }

  /** @throws NotFoundError when there is no key of that name. */
  async deleteKey(name: string, options: RequestOptions = {}): Promise<void> {
    const path = `/api/v1/keys/${encode(name)}`;
    await this.#api.call({ method: 'DELETE', path, ...requestOf(options) }, successReply, `Deleting key "${name}"`);
  }

  /**
   * Creates a Mesh API key (`mesh_...`, shown once) for a server or CI. Waits up to 120 s by
   * default: creation can be slow on a struggling deployment, and a retry is safe (Idempotency-Key).
   */
  async generateApiKey(name: string, options: RequestOptions = {}): Promise<CreatedApiKey> {
    const { data } = await this.#api.call(
      { method: 'POST', path: '/api/v1/api-keys', body: { name }, ...requestOf({ timeout: API_KEY_TIMEOUT_MS, ...options }) },
      createdApiKeyReply,
      'Creating an API key',
    );
    return { id: data.id, name: data.name, key: data.key, createdAt: data.created_at };
  }

  async listApiKeys(options: RequestOptions = {}): Promise<ApiKeyInfo[]> {
    const { data } = await this.#api.call(
      { method: 'GET', path: '/api/v1/api-keys', ...requestOf(options) },
      apiKeysReply,
      'Listing API keys',
    );
    return data.api_keys.map((k) => ({ id: k.id, name: k.name, createdAt: k.created_at, lastUsedAt: k.last_used_at }));
  }

  /** @throws NotFoundError when there is no API key with that id. */
  async revokeApiKey(id: string, options: RequestOptions = {}): Promise<void> {
    const path = `/api/v1/api-keys/${encode(id)}`;
    await this.#api.call({ method: 'DELETE', path, ...requestOf(options) }, successReply, 'Revoking an API key');
  }

  /** The logged-in user's profile. */
  async profile(options: RequestOptions = {}): Promise<Profile> {
    return (
      await this.#api.call({ method: 'GET', path: '/auth/profile', ...requestOf(options) }, profileReply, 'Reading the profile')
    ).data.profile;
  }

  /** Whether the current credential is good, and who answered (`backend`, or `local` when the backend cannot say). */
  async validateToken(options: Pick<RequestOptions, 'signal'> = {}): Promise<ValidationResult> {
    const token = await this.#credentials.token(options.signal);
    return this.#validator.validate(token, { signal: options.signal });
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
      validator: this.#validator,
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
