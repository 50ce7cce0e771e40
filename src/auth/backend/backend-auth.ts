/**
 * Every auth endpoint of the Mesh backend, in one place (backend-contract.md v2, "Auth
 * endpoints"): `/auth/config` (and `?flow=device`), `/auth/get-auth-url`, `/auth/exchange-token`,
 * `/auth/refresh-token`, `/auth/validate`, and the backend's own device endpoints when it
 * advertises `device_flow`. Sent through the client's HttpClient (pool, breaker); every response
 * teaches the clock the backend's time (its `Date` header); every non-2xx becomes the error
 * `errorFromResponse` makes of it.
 */
import { randomUUID } from 'node:crypto';
import { auth0DomainValue } from '../../config/parsers.js';
import { AbortError, MeshError, NetworkError, ResponseValidationError } from '../../errors/mesh-error.js';
import {
  isFiniteNumber,
  kindOf,
  optionalString,
  type ReplyShape,
  ReplyShapeError,
  replyShape,
  requiredText,
  textOrUndefined,
} from '../../http/hand-checks.js';
import type { HttpClient, HttpResponse } from '../../http/http-client.js';
import type { Operation } from '../../http/operation.js';
import { readReply } from '../../http/reply-body.js';
import { errorFromResponse } from '../../http/response-errors.js';
import { untilAborted } from '../../http/waiting.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import type { SkewClock } from '../tokens/clock.js';
import { type TokenReply, tokenReplySchema } from '../tokens/token-set.js';

/** Which application `/auth/config` describes: the web login's, or the device flow's (`?flow=device`). */
export type AuthFlowKind = 'web' | 'device';

/** A backend's Auth0 settings and advertised extensions (contract part B). */
export interface BackendAuthConfig {
  /** Origin, e.g. `https://tenant.us.auth0.com` (a bare host name is read as https). */
  domain: string;
  clientId: string;
  audience?: string;
  scope?: string;
  /** Extensions the backend advertises (`pkce`, `device_flow`, ...); empty when none. */
  capabilities: ReadonlySet<string>;
}

/** What a backend's device endpoints (or Auth0's) answer to "start a device login". */
export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  /** Seconds the code lives. */
  expires_in: number;
  /** Seconds between polls. */
  interval: number;
}

/** One poll of a device login: tokens, or the OAuth error code (authorization_pending, slow_down, ...). */
export type DevicePoll = { tokens: TokenReply } | { error: string; description?: string };

export type BackendValidation =
  | { kind: 'valid' }
  | { kind: 'invalid'; reason: string }
  /** 404/405/501, another status, or a network failure: the deployment cannot say; validate locally. */
  | { kind: 'unavailable'; reason: string };

export interface GetAuthUrlBody {
  redirect_uri: string;
  scope: string;
  state: string;
  /** Only to a backend that advertises `pkce`: the deployed one drops it and Auth0 then refuses the code. */
  code_challenge?: string;
  code_challenge_method?: 'S256';
}

export interface ExchangeBody {
  code: string;
  redirect_uri: string;
  /** Only with `pkce` advertised. */
  code_verifier?: string;
  /** Only when headless (the Python SDK's rule). */
  extended_lifetime?: true;
}

export interface BackendAuthOptions {
  http: HttpClient;
  clock: SkewClock;
  /** Per-attempt bound for the refresh and the exchange, ms. @default the HttpClient's */
  timeout?: number;
  logger?: InternalLogger;
}

const EMPTY: ReadonlySet<string> = Object.freeze(new Set<string>());
/** `/auth/config` is a small static document: no reason to wait long for it. */
const CONFIG_TIMEOUT_MS = 10_000; // 10 s
/** The Python SDK's bound on `/auth/validate` (client.py 1.5.6). */
const VALIDATE_TIMEOUT_MS = 3_000; // 3 s
const DEFAULT_DEVICE_INTERVAL_S = 5; // RFC 8628 §3.2
const DEFAULT_DEVICE_EXPIRES_S = 900; // Auth0's and the Python SDK's default

// The reply checks below are written by hand (http/hand-checks.ts): zod is not loaded for a login's
// or a refresh's replies. Each keeps the fields it does not know, as a loose zod object did.

interface ConfigReply {
  domain: string;
  client_id: string;
  audience: string | undefined;
  scope: string | undefined;
  capabilities: unknown[] | undefined;
}

const configReply: ReplyShape<ConfigReply> = replyShape((body) => ({
  ...body,
  domain: requiredText(body, 'domain'),
  client_id: requiredText(body, 'client_id'),
  audience: textOrUndefined(body.audience),
  scope: textOrUndefined(body.scope),
  // Absent, malformed or full of unknown names: none of it makes the config unusable.
  capabilities: Array.isArray(body.capabilities) ? body.capabilities : undefined,
}));

const ASCII_TAB_OR_NEWLINE = /[\t\n\r]/g;
/** An absolute URL, trimmed (tabs and line breaks dropped, as the URL parser itself drops them). */
const authUrlReply: ReplyShape<{ auth_url: string }> = replyShape((body) => {
  const raw = body.auth_url;
  const trimmed = typeof raw === 'string' ? raw.trim() : undefined;
  if (trimmed === undefined || !URL.canParse(trimmed)) throw new ReplyShapeError(`auth_url: expected a URL, got ${kindOf(raw)}`);
  return { ...body, auth_url: trimmed.replace(ASCII_TAB_OR_NEWLINE, '') };
});

const positiveOr = (value: unknown, fallback: number) => (isFiniteNumber(value) && value > 0 ? value : fallback);

/** RFC 8628 §3.2, with the defaults a missing `interval`/`expires_in` gets. */
export const deviceAuthorizationSchema: ReplyShape<DeviceAuthorization> = replyShape((body) => ({
  ...body,
  device_code: requiredText(body, 'device_code'),
  user_code: requiredText(body, 'user_code'),
  verification_uri: requiredText(body, 'verification_uri'),
  verification_uri_complete: textOrUndefined(body.verification_uri_complete),
  expires_in: positiveOr(body.expires_in, DEFAULT_DEVICE_EXPIRES_S),
  interval: positiveOr(body.interval, DEFAULT_DEVICE_INTERVAL_S),
}));

/** An OAuth error body (RFC 6749 §5.2). */
export const oauthErrorSchema: ReplyShape<{ error: string; error_description?: string }> = replyShape((body) => ({
  ...body,
  error: requiredText(body, 'error'),
  error_description: optionalString(body, 'error_description'),
}));

/** A backend auth endpoint: declared as the API's calls are (http/operation.ts), its reply checked by hand. */
type AuthEndpoint<T = unknown> = Operation<ReplyShape<T>>;
/** One whose 2xx reply is read (all but /auth/validate, which answers by its status). */
type CheckedEndpoint<T> = AuthEndpoint<T> & { reply: ReplyShape<T> };

const CONFIG: CheckedEndpoint<ConfigReply> = {
  name: 'authConfig',
  what: 'Reading the login settings (GET /auth/config)',
  method: 'GET',
  paths: ['/auth/config'],
  reply: configReply,
  timeout: CONFIG_TIMEOUT_MS,
  maxRetries: 1,
};
const AUTH_URL: CheckedEndpoint<{ auth_url: string }> = {
  name: 'authUrl',
  what: 'Preparing the login URL',
  method: 'POST',
  paths: ['/auth/get-auth-url'],
  reply: authUrlReply,
  timeout: CONFIG_TIMEOUT_MS,
};
/**
 * A code is good once: the HttpClient repeats this POST only where it cannot have been processed
 * (connection refused, 429), never after an attempt that may have used the code up.
 */
const EXCHANGE: CheckedEndpoint<TokenReply> = {
  name: 'exchange',
  what: 'Exchanging the login code',
  method: 'POST',
  paths: ['/auth/exchange-token'],
  reply: tokenReplySchema,
};
const REFRESH: CheckedEndpoint<TokenReply> = {
  name: 'refresh',
  what: 'Refreshing the access token',
  method: 'POST',
  paths: ['/auth/refresh-token'],
  reply: tokenReplySchema,
};
/** Status only; no answer within 3 s is `unavailable`, never retried (the local checks answer instead). */
const VALIDATE: AuthEndpoint = {
  name: 'validate',
  what: 'Validating the token',
  method: 'GET',
  paths: ['/auth/validate'],
  timeout: VALIDATE_TIMEOUT_MS,
  maxRetries: 0,
};
const DEVICE_CODE: CheckedEndpoint<DeviceAuthorization> = {
  name: 'deviceCode',
  what: 'Starting the device login',
  method: 'POST',
  paths: ['/auth/device-code'],
  reply: deviceAuthorizationSchema,
};
/** One poll: the device flow polls again at its interval, never the HTTP layer. */
const TOKEN_STATUS: CheckedEndpoint<TokenReply> = {
  name: 'tokenStatus',
  what: 'Checking the device login',
  method: 'POST',
  paths: ['/auth/token-status'],
  reply: tokenReplySchema,
  maxRetries: 0,
};

/** What varies per call of an auth endpoint. */
interface AuthCall {
  query?: string;
  body?: unknown;
  token?: string;
  signal?: AbortSignal;
  timeout?: number;
  idempotencyKey?: string;
}

/** A 2xx body read with its endpoint's check. */
function read<T>(endpoint: CheckedEndpoint<T>, response: HttpResponse): Promise<T> {
  return readReply(endpoint.reply, response, endpoint.what);
}

const ok = (response: HttpResponse) => response.status >= 200 && response.status < 300;

/**
 * Whether a failed refresh means "log in again": the backend refused the refresh token (any 4xx:
 * `invalid_grant`, a revoked or reused token, a wrong client), as opposed to a failure worth
 * trying again later (5xx, 408, 429, the network).
 */
export function refreshRefused(error: unknown): boolean {
  if (!(error instanceof MeshError) || error.status === undefined) return false;
  return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
}

export class BackendAuth {
  readonly #options: BackendAuthOptions;
  readonly #logger: InternalLogger;
  readonly #configs = new Map<AuthFlowKind, Promise<BackendAuthConfig>>();
  #capabilities: Promise<ReadonlySet<string>> | undefined;

  constructor(options: BackendAuthOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** One call of `endpoint` (the HTTP layer's retries within it); the clock learns the backend's time from the reply. */
  async #send(endpoint: AuthEndpoint<unknown>, call: AuthCall): Promise<HttpResponse> {
    const { clock, http } = this.#options;
    const sentAt = clock.localNow();
    const response = await http.send({
      method: endpoint.method,
      path: call.query === undefined ? endpoint.paths[0] : `${endpoint.paths[0]}${call.query}`,
      body: call.body,
      token: call.token,
      signal: call.signal,
      timeout: call.timeout ?? endpoint.timeout,
      maxRetries: endpoint.maxRetries,
      idempotencyKey: call.idempotencyKey,
    });
    const date = response.headers.date;
    clock.learn(Array.isArray(date) ? date[0] : date, sentAt, clock.localNow());
    return response;
  }

  /**
   * The backend's Auth0 settings for a flow (`GET /auth/config`, `?flow=device`), fetched once
   * per client and flow (a failure is not remembered: the next call asks again).
   * @throws the error `errorFromResponse` makes of a non-2xx; ResponseValidationError without `domain`/`client_id`.
   */
  config(flow: AuthFlowKind = 'web', signal?: AbortSignal): Promise<BackendAuthConfig> {
    let pending = this.#configs.get(flow);
    if (!pending) {
      // Shared by every caller: no caller's signal, its own time bound instead.
      pending = this.#fetchConfig(flow);
      this.#configs.set(flow, pending);
      pending.catch(() => this.#configs.delete(flow));
    }
    return untilAborted(pending, signal, 'Reading the login settings was aborted.');
  }

  async #fetchConfig(flow: AuthFlowKind): Promise<BackendAuthConfig> {
    const { what } = CONFIG;
    const response = await this.#send(CONFIG, { query: flow === 'device' ? '?flow=device' : undefined });
    if (!ok(response)) throw errorFromResponse(response, what);
    const body = await read(CONFIG, response);
    const domain = auth0DomainValue.parse(body.domain);
    if (!domain.ok) {
      throw new ResponseValidationError(`${what}: the backend's domain is neither a host name nor a loopback http origin.`, {
        status: response.status,
        requestId: response.requestId,
      });
    }
    const names = (body.capabilities ?? []).filter((name): name is string => typeof name === 'string');
    return {
      domain: domain.value,
      clientId: body.client_id,
      audience: body.audience,
      scope: body.scope,
      capabilities: names.length === 0 ? EMPTY : Object.freeze(new Set(names)),
    };
  }

  /**
   * The extensions the backend advertises (contract part B), from `GET /auth/config`, fetched once
   * per client. A failed fetch or an absent array means none: the deployed backend's dialect.
   */
  capabilities(signal?: AbortSignal): Promise<ReadonlySet<string>> {
    this.#capabilities ??= this.config('web').then(
      (config) => config.capabilities,
      (error: unknown) => {
        this.#logger.debug(`No capabilities: /auth/config failed (${(error as Error).message}).`);
        return EMPTY;
      },
    );
    return untilAborted(this.#capabilities, signal, 'Reading the backend capabilities was aborted.');
  }

  /**
   * The authorization URL built by the backend (`POST /auth/get-auth-url`), or undefined when it
   * has no such endpoint (404): the caller then builds the same URL itself.
   */
  async authUrl(body: GetAuthUrlBody, signal?: AbortSignal): Promise<string | undefined> {
    const response = await this.#send(AUTH_URL, { body, signal });
    if (response.status === 404) return undefined;
    if (!ok(response)) throw errorFromResponse(response, AUTH_URL.what);
    return (await read(AUTH_URL, response)).auth_url;
  }

  /** Exchanges the login's code through the backend (it holds the application's secret). */
  async exchange(body: ExchangeBody, signal?: AbortSignal): Promise<TokenReply> {
    const response = await this.#send(EXCHANGE, { body, signal, timeout: this.#options.timeout });
    if (!ok(response)) throw errorFromResponse(response, EXCHANGE.what);
    return read(EXCHANGE, response);
  }

  /**
   * Exchanges a refresh token for a new token set. `clientType` is `device` for tokens from the
   * device flow (the backend refreshes them as the native application), else `web`. A reply
   * without `refresh_token` means "keep the old one" (the caller's job).
   * @throws the error `errorFromResponse` makes of a non-2xx; `refreshRefused(error)` tells "log in again" apart.
   */
  async refresh(
    refreshToken: string,
    options: { clientType: 'device' | 'web'; signal?: AbortSignal; idempotencyKey?: string },
  ): Promise<TokenReply> {
    const { what } = REFRESH;
    // A refresh token rotates: a refresh may only be repeated when the backend answers a repeat
    // once. The caller's key was saved with the token set before this request (refresh-intent.ts),
    // so a process that dies before saving the reply lets the next one resend this very refresh.
    const idempotent = (await this.capabilities(options.signal)).has('idempotency_key');
    const response = await this.#send(REFRESH, {
      body: { refresh_token: refreshToken, client_type: options.clientType },
      signal: options.signal,
      timeout: this.#options.timeout,
      idempotencyKey: idempotent ? (options.idempotencyKey ?? randomUUID()) : undefined,
    });
    if (!ok(response)) throw errorFromResponse(response, what);
    return read(REFRESH, response);
  }

  /**
   * Asks the backend whether an access token (a JWT, never an API key) is good: status only,
   * 200 valid, 401/403 invalid; anything else, or no answer within 3 s, `unavailable`.
   */
  async validate(token: string, signal?: AbortSignal): Promise<BackendValidation> {
    let response: HttpResponse;
    try {
      response = await this.#send(VALIDATE, { token, signal });
    } catch (error) {
      if (error instanceof AbortError || !(error instanceof NetworkError)) throw error;
      return { kind: 'unavailable', reason: error.message };
    }
    await response.body?.dump();
    const { status } = response;
    if (status === 200) return { kind: 'valid' };
    if (status === 401 || status === 403)
      return { kind: 'invalid', reason: `the backend says the token is not valid (HTTP ${status})` };
    if (status === 404 || status === 405 || status === 501)
      return { kind: 'unavailable', reason: `the backend has no /auth/validate (HTTP ${status})` };
    return { kind: 'unavailable', reason: `the backend answered /auth/validate with HTTP ${status}` };
  }

  /** Starts the backend's own device login (only when it advertises `device_flow`). */
  async deviceCode(signal?: AbortSignal): Promise<DeviceAuthorization> {
    const response = await this.#send(DEVICE_CODE, { body: {}, signal });
    if (!ok(response)) throw errorFromResponse(response, DEVICE_CODE.what);
    return read(DEVICE_CODE, response);
  }

  /** One poll of the backend's device login: tokens, or its OAuth error code. */
  async tokenStatus(deviceCode: string, signal?: AbortSignal): Promise<DevicePoll> {
    const { what } = TOKEN_STATUS;
    const response = await this.#send(TOKEN_STATUS, { body: { device_code: deviceCode }, signal });
    if (ok(response)) return { tokens: await read(TOKEN_STATUS, response) };
    const failure = oauthErrorSchema.safeParse(response.json);
    if (failure.success && response.status >= 400 && response.status < 500) {
      return { error: failure.data.error, description: failure.data.error_description };
    }
    throw errorFromResponse(response, what);
  }
}
