import type { RateLimitInfo } from '../http/http-client.js';

export type { RateLimitInfo };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
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
  model?: string;
  provider?: string;
  temperature?: number;
  maxTokens?: number;
}

export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatResponse {
  id: string;
  content: string;
  model: string;
  provider: string;
  usage: ChatUsage;
  /** The backend's X-Request-Id, to quote in a bug report. */
  requestId: string | undefined;
  rateLimit: RateLimitInfo | undefined;
}

/** What a finished stream returns (the value of the iterator's last `next()`). */
export interface ChatStreamResult {
  content: string;
  usage: ChatUsage | undefined;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  /** `mesh_...`: shown once; the backend keeps only its hash. */
  key: string;
  createdAt: string;
}

export interface Profile {
  id: string;
  email: string;
  name: string;
  credits: number;
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
  getAccessToken(): Promise<string>;
}
