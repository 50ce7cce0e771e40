import type { TokenSet } from '../auth/stores/token-store.js';
import type { ValidationResult } from '../auth/tokens/validator.js';
import { defaultModelFor, type ResolvedConfig } from '../config/resolve.js';
import { ConfigError } from '../errors/mesh-error.js';
import type { LoginOptions } from '../flow/auth-flow.js';
import type { RateLimitInfo } from '../http/http-client.js';
import type { Transport } from '../http/transport.js';
import type { InternalLogger } from '../internal/logger.js';
import { ApiKeys, defaultApiKeyName, unsupported } from './api-keys.js';
import { type AssemblyOverrides, assembleClient, type ClientParts, type LoginSession } from './assemble.js';
import { readAuthStatus } from './auth-status.js';
import { type ChatDefaults, chatBody, chatTarget, sendChat } from './chat.js';
import { readChatStream } from './chat-stream.js';
import type { GeneratedImage, GenerateImageOptions, ImageInput } from './images/types.js';
import { CHAT_STREAM } from './operations.js';
import type { MeshClientOptions } from './options.js';
import { importPythonTokens, type PythonImportOptions } from './python-import.js';
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

/** What the next client is built with beyond its options: set around one construction by {@link clientWith}. */
let nextOverrides: AssemblyOverrides | undefined;

/**
 * A client built with what the public options do not offer (the CLI's node:http transport). Not
 * exported from the package: the construction is synchronous, so the overrides reach that client only.
 */
export function clientWith(options: MeshClientOptions, overrides: AssemblyOverrides): MeshClient {
  nextOverrides = overrides;
  try {
    return new MeshClient(options);
  } finally {
    nextOverrides = undefined;
  }
}

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
  /** Everything this client delegates to, built once by the composition root (assemble.ts). */
  readonly #parts: ClientParts;
  #apiKeys: ApiKeys | undefined;
  /** What a chat names when the caller does not say: the configuration's, built once. */
  readonly #chatDefaults: ChatDefaults;

  constructor(options: MeshClientOptions = {}) {
    this.#parts = assembleClient(options, nextOverrides);
    const config = this.#parts.config;
    this.config = config;
    this.#chatDefaults = {
      defaultModel: config.defaultModel,
      defaultProvider: config.defaultProvider,
      modelFor: (provider) => defaultModelFor(config, provider),
    };
  }

  /** The rate-limit headers of the latest reply. */
  get rateLimit(): RateLimitInfo | undefined {
    return this.#parts.api.lastRateLimit;
  }

  /**
   * Sends a message (or a conversation) and returns the whole reply. Always names a model and a
   * provider (`config.defaultModel`/`defaultProvider`, or the provider the model belongs to).
   * @example const { content } = await client.chat('What is 5 + 7?');
   */
  async chat(input: string | ChatMessage[], options: ChatOptions = {}): Promise<ChatResponse> {
    // Without images the body is built inside sendChat: no await here, no image code loaded.
    const prepared = options.images === undefined ? undefined : await this.#chatBodyWithImages(input, options, false);
    return sendChat(this.#parts.api, input, options, this.#chatDefaults, prepared);
  }

  /**
   * Streams a reply as text deltas, on the chat path this client last saw answer. `break` or an
   * aborted signal closes the connection; a cut stream throws `StreamInterruptedError` with the
   * text that arrived (`partialText`).
   * @example for await (const delta of client.chatStream('Tell me a story')) process.stdout.write(delta);
   */
  async *chatStream(input: string | ChatMessage[], options: ChatOptions = {}): AsyncGenerator<string, ChatStreamResult> {
    const body =
      options.images === undefined
        ? chatBody(input, options, this.#chatDefaults, true)
        : await this.#chatBodyWithImages(input, options, true);
    const { signal, timeout, maxRetries, temperature, maxTokens } = options;
    const trace = { model: body.model as string, temperature, maxTokens };
    const opened = await this.#parts.api.open(CHAT_STREAM, { body, signal, timeout, maxRetries, trace });
    return yield* readChatStream(opened.response, {
      signal: options.signal,
      idleMs: this.config.streamIdleTimeout,
      maxBytes: this.config.maxResponseBytes,
      trace: opened.trace,
    });
  }

  /** The chat body with its images read and laid out; the image code is loaded by the first chat with images. */
  async #chatBodyWithImages(
    input: string | ChatMessage[],
    options: ChatOptions,
    stream: boolean,
  ): Promise<Record<string, unknown>> {
    const defaults = this.#chatDefaults;
    const { chatBodyWithImages } = await import('./images/chat-images.js');
    return chatBodyWithImages(
      chatBody(input, options, defaults, stream),
      { provider: chatTarget(options, defaults).provider, modelNamed: options.model !== undefined },
      options.images as ImageInput | ImageInput[],
      { ...this.#imageIo(), timeout: options.timeout ?? this.config.timeout, signal: options.signal },
    );
  }

  /** Downloads go through the client's transport (proxies apply), never with its credentials. */
  #imageIo(): { transport: () => Promise<Transport>; logger: InternalLogger } {
    return { transport: () => this.#parts.http.transport(), logger: this.#parts.logger };
  }

  /**
   * Generates images from a prompt (`POST /api/v1/images/generate`), or edits `image` with it
   * (`/api/v1/images/vision`). Defaults: provider `openai` with `dall-e-3`, google with
   * `gemini-2.0-flash-exp-image-generation`. Waits up to 180 s per attempt by default, and is not
   * retried after it may have been processed (a generation costs credits). With `saveTo`, the
   * images are written there (a URL reply downloaded without any Mesh credential) and `path` is set.
   * @example const [image] = await client.generateImage('A lighthouse at dawn', { size: '1024x1024' });
   * @example await client.generateImage('Make it night', { image: './lighthouse.png', saveTo: './night.png' });
   */
  async generateImage(prompt: string, options: GenerateImageOptions = {}): Promise<GeneratedImage[]> {
    const { generateImages } = await import('./images/generate.js');
    return generateImages(prompt, options, {
      ...this.#imageIo(),
      api: this.#parts.api,
      defaultProvider: this.config.defaultProvider,
      timeout: this.config.timeout,
    });
  }

  /** Names of the stored provider keys. */
  async listKeys(options: RequestOptions = {}): Promise<string[]> {
    return new StoredKeys(this.#parts.api).list(requestOf(options));
  }

  /** Stores (or replaces) a provider key, e.g. `storeKey('openai_key', 'sk-...')`. */
  async storeKey(name: string, value: string, options: RequestOptions = {}): Promise<void> {
    await new StoredKeys(this.#parts.api).store(name, value, requestOf(options));
  }

  /** A stored key's value. @throws NotFoundError when there is no key of that name. */
  async getKey(name: string, options: RequestOptions = {}): Promise<string> {
    return new StoredKeys(this.#parts.api).get(name, requestOf(options));
  }

  /**
   * Stores a commitment to `value` as `name` (the backend's ZKP key storage); the value never
   * leaves this machine. The commitment is an unsalted hash of the name and value: anyone who
   * reads it can test guesses, so use it for high-entropy values (docs/client.md "ZKP key storage").
   * @example const { commitment } = await client.storeKeyZkp('signing_key', secret);
   */
  async storeKeyZkp(
    name: string,
    value: string,
    options: RequestOptions = {},
  ): Promise<{ commitment: string; storagePath: string }> {
    const { ZkpKeys } = await import('./zkp.js'); // loaded by the first ZKP call, not at import
    return new ZkpKeys(this.#parts.api).store(name, value, requestOf(options));
  }

  /**
   * Whether `value` is the one stored with `storeKeyZkp(name, value)`: false for another value.
   * @throws NotFoundError when nothing is stored as `name`.
   * @example if (!(await client.verifyKey('signing_key', secret))) throw new Error('not the stored key');
   */
  async verifyKey(name: string, value: string, options: RequestOptions = {}): Promise<boolean> {
    const { ZkpKeys } = await import('./zkp.js');
    return new ZkpKeys(this.#parts.api).verify(name, value, requestOf(options));
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
    this.#apiKeys ??= new ApiKeys(this.#parts.api);
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
    return this.#parts.api.facts.profile(options.signal, { fresh: true });
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
      credentials: this.#parts.credentials,
      manager: this.#parts.session?.manager,
      validator: this.#parts.validator,
      http: this.#parts.http,
      signal,
    });
  }

  /**
   * Logs in: the browser on a desktop (a loopback callback on `callbackPort`), the device flow
   * when headless or asked; stores the tokens and meets the backend through `/auth/profile`.
   * Each login is traced on the `mesh-sdk:login` tracing channel and as an OpenTelemetry span (docs/observability.md).
   * @example const me = await client.login(); console.log(`Logged in as ${me.email}`);
   */
  async login(options: LoginOptions = {}): Promise<Profile> {
    return this.#session('login() needs the default credentials').login(options);
  }

  /**
   * The current token set, refreshed first when due (never a login: throws
   * ReauthenticationRequiredError when there is none). For `mesh-auth token` and `print-tokens`.
   */
  async tokenSet(options: Pick<RequestOptions, 'signal'> = {}): Promise<TokenSet> {
    return this.#session('This client holds no tokens').manager.getTokenSet({ signal: options.signal, allowLogin: false });
  }

  /**
   * Who is logged in, until when, where the tokens are, and who vouched for them. Refreshes an
   * expired token it can refresh; never starts a login. `loggedIn` is false when there are no usable tokens.
   */
  async authStatus(options: Pick<RequestOptions, 'signal'> = {}): Promise<AuthStatus> {
    const { credentials, http, validator, session, config, credential } = this.#parts;
    return readAuthStatus({
      profile: config.profile,
      credential,
      manager: session?.manager,
      credentials,
      validate: (token, signal) =>
        credentials.kind === 'apiKey' ? validateApiKey(http, token, signal) : validator.validate(token, { signal }),
      store: () => this.describeTokenStore(),
      signal: options.signal,
    });
  }

  /**
   * Copies the login in a Python SDK headless token file (`.mesh_token.json`) into this client's own
   * store, once, and answers the file's full path. Nothing reads such a file unless named (a cloned
   * repository could carry one): this is the explicit way to bring a Python login over. With
   * `remove`, the file is deleted afterwards, so the two SDKs do not each hold the same rotating
   * refresh token (the first to refresh would leave the other's copy spent).
   * @throws TokenStoreError when the file is missing, not a token set, not this user's, or for another deployment.
   * @example await client.importPythonTokens('./.mesh_token.json', { remove: true });
   */
  async importPythonTokens(path: string, options: PythonImportOptions = {}): Promise<string> {
    const session = this.#session('Importing a login needs the default credentials');
    const source = await importPythonTokens(path, session.manager, this.config, options);
    this.#parts.api.facts.forgetUser(); // the imported login may be someone else
    return source;
  }

  /** Forgets the stored tokens everywhere this configuration keeps them; answers where that was. */
  async logout(): Promise<string[]> {
    const { session } = this.#parts;
    if (!session) return [];
    const places = session.store.places?.() ?? [session.store.describe()];
    await session.manager.clear();
    this.#parts.api.facts.forgetUser(); // the next login may be someone else
    return places;
  }

  /** Where tokens are kept, e.g. "file /home/me/.mesh/token.json"; `apiKey`/`authToken`/`tokenProvider` otherwise. */
  describeTokenStore(): string {
    return this.#parts.session?.manager.describeStore() ?? 'none (credentials given directly)';
  }

  /**
   * Lets a token refresh in flight finish and be saved, then closes pooled connections. The client
   * is not usable afterwards. A program that ends with `process.exit()` should await this first.
   */
  async close(): Promise<void> {
    await this.#parts.session?.manager.settle();
    await this.#parts.http.close();
  }

  #session(what: string): LoginSession {
    const { session } = this.#parts;
    if (session) return session;
    throw new ConfigError(`${what}: this client was given apiKey, authToken or tokenProvider.`, {
      hint: 'Create the client without them to log in.',
    });
  }
}

function requestOf(options: RequestOptions): Pick<RequestOptions, 'signal' | 'timeout' | 'maxRetries'> {
  return { signal: options.signal, timeout: options.timeout, maxRetries: options.maxRetries };
}
