import type { RateLimitInfo } from '../http/http-client.js';

export type { RateLimitInfo };

/** One part of a message's content: text, an image, or another part the backend understands. */
export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: string; [field: string]: unknown };

/** One message of a conversation: who speaks, and what they say. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  /** Text, or an array of parts (e.g. text and images), sent as given. */
  content: string | ChatContentPart[];
}

/** Per-call options of every method. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Per-attempt timeout, ms. @default the client's `timeout` */
  timeout?: number;
  /** @default the client's `maxRetries` */
  maxRetries?: number;
}

/**
 * An image for a chat or an edit.
 * - a string: a file path, a `data:` URL (base64), or an `http(s)://` URL that the SDK downloads
 *   itself (at most 32 MiB, through the client's dispatcher so proxies apply, never with a Mesh credential);
 * - a `URL`: `file:` or `http(s):`, as above;
 * - bytes: a `Uint8Array` (a `Buffer`), an `ArrayBuffer`, a `Blob`, or `{ data, mediaType }`.
 *
 * The media type is read from the bytes (JPEG, PNG, GIF or WebP); a stated one (a `data:` URL's,
 * a Blob's `type`, `mediaType`) must agree with them.
 * @example await client.chat('What is in this picture?', { images: ['./cat.jpg', 'https://example.com/dog.png'] });
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Blob | { data: Uint8Array; mediaType?: string };

export interface ChatOptions extends RequestOptions {
  /** @default the client's `defaultModel` (`gpt-4o`); with only `provider: 'anthropic'`, `claude-3-7-sonnet-20250219` */
  model?: string;
  /** @default inferred from `model` (claude -> anthropic, gpt/o1/o3/o4 -> openai, gemini -> google), else the client's `defaultProvider` (`openai`) */
  provider?: string;
  temperature?: number;
  maxTokens?: number;
  /**
   * Images for the last user message (at most 5): paths, `data:` or http(s) URLs, or bytes. Laid
   * out as the provider expects; scaled down to 1.15 MP and 1568 px with the optional `sharp`.
   * Without a `model`, a default that cannot see images becomes the provider's vision model.
   * Read (and checked) before anything is sent: a bad image throws `ImageInputError`.
   */
  images?: ImageInput | ImageInput[];
  /** Asks the model to think first: sends `"thinking": true`. Unset or false: nothing is sent. */
  thinking?: boolean;
}

/** The tokens a chat consumed, as the backend reports them. */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** A chat reply. `id` and `usage` are `undefined` when the backend did not send them: nothing is invented. */
export interface ChatResponse {
  id: string | undefined;
  content: string;
  /** The model that answered, as the backend says; when its reply does not say (an OpenAI-shaped reply may not), the model this call asked for. */
  model: string;
  /** The provider, as the backend says; else the one this call asked for (every chat names one). */
  provider: string;
  usage: ChatUsage | undefined;
  /** The backend's X-Request-Id, to quote in a bug report. */
  requestId: string | undefined;
  rateLimit: RateLimitInfo | undefined;
}

/** What a finished stream returns (the value of the iterator's last `next()`). */
export interface ChatStreamResult {
  content: string;
  usage: ChatUsage | undefined;
}

/** An existing Mesh API key as a listing describes it, without the key itself (the deployed backend offers no listing: `listApiKeys` rejects). */
export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** A new Mesh API key. `id` and `createdAt` are `undefined` when the backend answered with the key alone. */
export interface CreatedApiKey {
  id: string | undefined;
  name: string;
  /** `mesh_...`: shown once; the backend keeps only its hash. */
  key: string;
  createdAt: string | undefined;
}

/** The user as the backend knows them; `id` is the `userId` of the stored keys. */
export interface Profile {
  id: string;
  email?: string;
  name?: string;
  credits?: number;
}

/**
 * Which credential a client uses: `login` (the stored login of its profile: `npx mesh-auth`),
 * `env` (tokens from `MESH_ACCESS_TOKEN`/`MESH_REFRESH_TOKEN`, `MESH_TOKEN_FROM_ENV`), `apiKey`
 * (`MESH_API_KEY`), `tokenProvider` (your `TokenProvider`), `authToken` (the deprecated fixed token).
 */
export type CredentialKind = 'login' | 'env' | 'apiKey' | 'tokenProvider' | 'authToken';

/** What `client.authStatus()` finds. */
export interface AuthStatus {
  loggedIn: boolean;
  /** The client's profile (`default` unless one was named): whose login this is. */
  profile: string;
  /** Which credential the client uses. */
  credential: CredentialKind;
  /**
   * Who is logged in: the `email` claim of the stored ID token, when the login returned one
   * (decoded, not verified: it is the client's own stored token, used only to name the person),
   * else the address the backend's profile gave for this login, kept with the tokens.
   */
  email?: string;
  /** Where the tokens are, e.g. "file /home/me/.mesh/token.json". */
  store: string;
  /** The token's `sub`. */
  subject?: string;
  /** Epoch seconds. */
  expiresAt?: number;
  validation?: import('../auth/tokens/validator.js').ValidationResult;
  /** Why not logged in. */
  reason?: string;
}

/** Supplies bearer tokens from elsewhere (a vault, your own OAuth code). */
export interface TokenProvider {
  /** The bearer token for the next request; asked again once after a 401, and the request is sent again if the token differs. */
  getAccessToken(): Promise<string>;
}
