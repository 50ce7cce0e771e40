/** What every route of the reference backend can reach: settings, counters, data, the provider. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from './faults.js';
import type { Reply } from './http.js';
import type { BackendState } from './state.js';

/** Switches a test may flip while the backend runs. */
export interface BackendSettings {
  /** Serve `GET /auth/validate`; off: 404, as some deployments do. @default true */
  validateEndpoint: boolean;
  /** Serve `GET /auth/config`. @default true */
  configEndpoint: boolean;
  /** Serve `GET /auth/get-auth-url`. @default true */
  authUrlEndpoint: boolean;
  /** Serve the device flow. @default true */
  deviceFlow: boolean;
  /** How `/api/v1/*` and `/auth/profile` answer a missing or bad credential. @default 404 */
  authFailureStatus: 404 | 401;
  /** Status for a refresh answered `invalid_grant` (the contract allows 400 or 401). @default 400 */
  refreshInvalidGrantStatus: 400 | 401;
  /** Seconds between device-flow polls, as advertised; a faster poll gets `slow_down`. @default 5 */
  deviceInterval: number;
  /** Enforce at least this many seconds between polls, whatever was advertised (to test `slow_down`). @default 0 */
  devicePollFloor: number;
  /** Requests per user per minute on `/api/v1/*`. @default 1000 */
  rateLimitPerMinute: number;
  /** Pause between streamed chat deltas, ms. @default 2 */
  streamDelayMs: number;
  /** Make the provider unreachable for the backend's token calls (502s). @default false */
  auth0Unreachable: boolean;
}

export interface BackendCounters {
  exchanges: number;
  refreshes: number;
  refreshFailures: number;
  validations: number;
  profiles: number;
  deviceCodes: number;
  tokenStatusPolls: number;
  /** Requests per route, keyed "METHOD /route/pattern". */
  requests: Record<string, number>;
}

export interface AuthorityInfo {
  origin: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  audience: string;
}

export interface Principal {
  sub: string;
  via: 'jwt' | 'api_key';
  exp: number | null;
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
  /** Verifies a bearer credential (JWT or `mesh_` key); undefined when it is not good. */
  authenticate(credential: string | undefined): Promise<Principal | undefined>;
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
}

/** A route answers with a Reply, or writes the response itself (streams) and returns nothing. */
export type Handler = (request: RouteRequest, backend: Backend) => Promise<Reply | undefined>;

export interface Route {
  method: string;
  /** e.g. `/api/v1/keys/:name` */
  pattern: string;
  handler: Handler;
  /** Needs a bearer credential; a bad one gets `authFailureStatus`. */
  auth?: boolean;
  /** Errors in the OAuth shape (`error_description`). */
  oauth?: boolean;
}
