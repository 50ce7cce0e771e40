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

export interface ChatOptions extends RequestOptions {
  /** @default the client's `defaultModel` (`gpt-4o`); with only `provider: 'anthropic'`, `claude-3-7-sonnet-20250219` */
  model?: string;
  /** @default inferred from `model` (claude -> anthropic, gpt/o1/o3/o4 -> openai, gemini -> google), else the client's `defaultProvider` (`openai`) */
  provider?: string;
  temperature?: number;
  maxTokens?: number;
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

/** What `client.authStatus()` finds. */
export interface AuthStatus {
  loggedIn: boolean;
  /** Where the tokens are, e.g. "file /home/me/.mesh/token.json". */
  store: string;
  /** The token's `sub`. */
  subject?: string;
  /** Epoch seconds. */
  expiresAt?: number;
  validation?: import('../auth/validator.js').ValidationResult;
  /** Why not logged in. */
  reason?: string;
}

/** Supplies bearer tokens from elsewhere (a vault, your own OAuth code). */
export interface TokenProvider {
  /** The bearer token for the next request; asked again once after a 401, and the request is sent again if the token differs. */
  getAccessToken(): Promise<string>;
}
