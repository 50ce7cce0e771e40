/** What every route of the reference backend can reach: settings, counters, data, the provider. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from './faults.js';
import type { Reply } from './http.js';
import type { BackendState } from './state.js';

/** Contract v2 part B: the extensions a backend may advertise in `GET /auth/config`. */
export const CAPABILITIES = [
  'pkce',
  'device_flow',
  'request_id',
  'retry_after',
  'idempotency_key',
  'rate_limit_headers',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * Switches a test may flip while the backend runs. The defaults are the deployed backend
 * (contract v2 part A); each other value is one reading the contract lists as ambiguous.
 */
export interface BackendSettings {
  /** Part B extensions served and advertised. @default [] (env DEV_BACKEND_CAPABILITIES=all|a,b) */
  capabilities: string[];
  /** Serve `GET /auth/config`. @default true */
  configEndpoint: boolean;
  /** Serve `POST /auth/get-auth-url`; off: 404 (the SDK then builds the URL itself). @default true */
  authUrlEndpoint: boolean;
  /** Serve `GET /auth/validate`; off: 404, as some deployments do. @default true */
  validateEndpoint: boolean;
  /** Status of `/auth/validate` for a bad token (ambiguity 9). @default 401 */
  validateRejectStatus: 401 | 403;
  /** Status for a missing or bad credential on the routes that need one. @default 404 */
  authFailureStatus: 404 | 401;
  /** Status of a refused refresh (ambiguity 10). @default 400 */
  refreshFailureStatus: 400 | 401 | 403;
  /** A refresh reply without `refresh_token` (ambiguity 10). @default false */
  refreshOmitsRefreshToken: boolean;
  /** `/auth/profile` reply: `{"profile": {...}}` or the fields at the root (ambiguity 4). @default 'nested' */
  profileShape: 'nested' | 'flat';
  /** Which headers carry an API key: `Authorization: ApiKey`, `x-api-key`, or either (ambiguity 7). @default 'both' */
  apiKeyHeaders: 'both' | 'authorization' | 'x-api-key';
  /** Error bodies: `{"error": "text"}` or `{"error": {"message": "text"}}` (ambiguity 3). @default 'string' */
  errorShape: 'string' | 'object';
  /** Chat paths served: both, only `/v1/mesh/chat`, or only `/api/v1/chat/completions` (ambiguity 1). @default 'both' */
  chatPaths: 'both' | 'mesh' | 'completions';
  /** Chat answers 404 to a user who has not called `/auth/profile` yet. @default true */
  chatRequiresRegistration: boolean;
  /** Chat reply: OpenAI's, `{content}` or `{message: {content}}` (ambiguity 2). @default 'openai' */
  chatReplyShape: 'openai' | 'content' | 'message';
  /** getKey's value field (ambiguity 5). @default 'keyValue' */
  getKeyField: 'keyValue' | 'key';
  /** A missing key: 404, or 200 `{"success": false}` (ambiguity 5). @default 404 */
  missingKeyStatus: 404 | 200;
  /** listKeys names as stored (`<userId>_<name>`) or stripped (ambiguity 6). @default true */
  listKeysPrefixed: boolean;
  /** API-key creation path: `/v1/mesh/api-keys`, `/api/v1/api-keys`, or both (ambiguity 8). @default 'mesh' */
  apiKeysPath: 'mesh' | 'api' | 'both';
  /** API-key reply: `api_key` an object with the key inside, or the key string (ambiguity 8). @default 'object' */
  apiKeyReplyShape: 'object' | 'string';
  /** Requests per user per minute on the API routes; over it: 429. @default 1000 */
  rateLimitPerMinute: number;
  /** Pause between streamed chat chunks, ms. @default 2 */
  streamDelayMs: number;
  /** Wait this long before answering any request but `/__dev` (a deployment across a network), ms. @default 0 */
  latencyMs: number;
  /** Make the provider unreachable for the backend's token calls (502s). @default false */
  auth0Unreachable: boolean;
  /**
   * Refuse access tokens issued before this time (epoch s), unexpired or not: a session revoked on
   * the server's side, which a client learns only from a 404/401 (its JWT's `exp` says nothing). @default 0
   */
  rejectTokensIssuedBefore: number;
}

export interface BackendCounters {
  exchanges: number;
  refreshes: number;
  refreshFailures: number;
  /** Refreshes by the `client_type` they named. */
  refreshClientTypes: Record<string, number>;
  validations: number;
  profiles: number;
  chats: number;
  deviceCodes: number;
  tokenStatusPolls: number;
  /** Requests per route, keyed "METHOD /route/pattern" ("METHOD (no route)" for 404s). */
  requests: Record<string, number>;
  /**
   * Requests that carried an `Idempotency-Key` header, per route (keyed as `requests`), counted
   * whether or not `idempotency_key` is advertised: a test can assert a client sent none.
   */
  idempotencyKeys: Record<string, number>;
  /** `/auth/refresh-token` requests answered with an earlier reply (`idempotency_key`): the provider was not asked. */
  refreshReplays: number;
  /**
   * Requests whose JSON body had a top-level `null` field, per route (keyed as `requests`). The
   * Python client sends them (`"thinking": null`) and the backend reads them as unset; mesh-sdk
   * must send none, which a test asserts here.
   */
  nullFields: Record<string, number>;
  /** Images received in chat messages (every message, every layout), in chats that were answered. */
  chatImages: number;
  /** Chats answered that asked `"thinking": true`. */
  thinkingChats: number;
  /** Images made by `POST /api/v1/images/generate` (n per request). */
  imagesGenerated: number;
  /** Images made by `POST /api/v1/images/vision` (edits, n per request). */
  imagesEdited: number;
  /** `GET /__dev/images/<id>.png` downloads answered (the `url` replies of the image routes). */
  imageDownloads: number;
  /** Those downloads that carried a credential (`Authorization`, `x-api-key` or a cookie): a client must send none. */
  imageDownloadsWithCredentials: number;
}

export interface AuthorityInfo {
  origin: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The provider's public native application for the device flow. */
  deviceClientId: string;
  audience: string;
}

export interface Principal {
  sub: string;
  via: 'jwt' | 'api_key';
  exp: number | null;
  /** When the token was issued (epoch s); null for an API key. */
  iat: number | null;
  scope: string;
}

export interface Backend {
  settings: BackendSettings;
  counters: BackendCounters;
  state: BackendState;
  faults: FaultQueue;
  authority: AuthorityInfo;
  /** The provider's counters, when the stack wires them in (for `/__dev/counters`). */
  providerCounters?: () => unknown;
  /** Whether this part B extension is on now. */
  has(capability: Capability): boolean;
  /** The caller behind a request's credentials (Bearer JWT, or an API key per `apiKeyHeaders`). */
  authenticate(req: IncomingMessage): Promise<Principal | undefined>;
  /** Verifies an access token (never an API key). */
  verifyJwt(token: string | undefined): Promise<Principal | undefined>;
}

export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  body: unknown;
  requestId: string;
  /** Set on routes that require a credential. */
  principal?: Principal;
  /** Headers every reply to this request carries (rate-limit, request id), for streams. */
  headers: Record<string, string>;
}

/** A route answers with a Reply, or writes the response itself (streams) and returns nothing. */
export type Handler = (request: RouteRequest, backend: Backend) => Promise<Reply | undefined>;

export interface Route {
  method: string;
  /** e.g. `/api/v1/getKey` */
  pattern: string;
  handler: Handler;
  /** Needs a credential; a bad one gets `authFailureStatus`. */
  auth?: boolean;
  /** Counts against the per-user rate limit (and gets X-RateLimit-* with `rate_limit_headers`). */
  limited?: boolean;
  /** Served only while this holds (e.g. a capability or a path switch); else 404 as if absent. */
  when?: (backend: Backend) => boolean;
  /**
   * Who a request comes from, read from its body, for a route without credentials: part of the
   * idempotency scope, so one caller's key never replays another caller's answer.
   */
  idempotencyCaller?: (body: unknown) => string;
  /** Called when a request is answered with an earlier reply (`idempotency_key`), e.g. to count it. */
  onReplay?: (backend: Backend) => void;
  /** Largest JSON body accepted, bytes (413 over it). @default MAX_BODY_BYTES (1 MiB) */
  maxBodyBytes?: number;
}
