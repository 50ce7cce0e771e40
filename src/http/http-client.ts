/**
 * One pooled transport per client (undici by default, loaded by the first request: keep-alive,
 * HTTPS_PROXY/HTTP_PROXY/NO_PROXY through EnvHttpProxyAgent; or the user's own Dispatcher; or
 * node:http for the CLI; or fetch in an edge Worker: transport.ts), per-attempt timeouts, the caller's signal,
 * retries by the policy in retry-policy.ts, a circuit breaker per origin, redirects that never
 * carry a credential to another origin. Answers every status; mapping statuses to errors is the
 * caller's job (401/404 need the token's story first).
 */

import type { Dispatcher } from 'undici';
import {
  AbortError,
  CircuitOpenError,
  ConfigError,
  MeshError,
  NetworkError,
  RedirectRefusedError,
  TimeoutError,
} from '../errors/mesh-error.js';
import { malformedProxyVariable } from '../internal/environment.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import { oneLine } from '../internal/safe-text.js';
import { SDK_VERSION } from '../version.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { redirectTarget } from './redirect-policy.js';
import { announcedLength, DEFAULT_MAX_RESPONSE_BYTES, jsonOrUndefined, readBodyText, tooLarge } from './reply-body.js';
import { parseRetryAfter } from './retry-after.js';
import {
  errorCode,
  isRetryableError,
  isRetryableStatus,
  RETRY_DEFAULTS,
  type RetryContext,
  retryDelayMs,
} from './retry-policy.js';
import { type ReplyBody, requestTo, TIMEOUT_CODES, type Transport, type TransportRequest } from './transport.js';
import { sleep } from './waiting.js';

type UndiciTransports = typeof import('./undici-transport.js');

/** undici's transports when the package entry brought them in at import (see {@link useUndiciAtImport}). */
let undiciAtImport: UndiciTransports | undefined;

/**
 * Called by the package entry (src/index.ts), which imports undici-transport.js statically: a
 * client then makes its pool as it is built, and its first request waits for no module (undici is
 * loaded with the package, as the cold-start and first-call benches measure it). Code that does
 * not come through the entry (the CLI, whose commands use node:http) loads undici by its first
 * request that needs it, or never.
 */
export function useUndiciAtImport(transports: UndiciTransports): void {
  undiciAtImport = transports;
}

/** The fetch transport's maker when the Worker entry brought it in (see {@link useFetchAtImport}). */
let fetchAtImport: (() => Transport) | undefined;

/**
 * Called by the Worker entry (src/worker.ts, chosen by the `workerd`, `worker` and `browser` export
 * conditions): a client sends through the runtime's fetch (fetch-transport.ts) unless it is given a
 * transport or a dispatcher, and never loads undici.
 */
export function useFetchAtImport(make: () => Transport): void {
  fetchAtImport = make;
}

/** A reply's `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` headers; each absent when not sent. */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  /** Epoch seconds when the window resets. */
  reset?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path on the base URL, e.g. `/api/v1/listKeys?userId=...`. */
  path: string;
  body?: unknown;
  /** Bearer credential (an Auth0 access token): `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * A Mesh API key, sent as both `Authorization: ApiKey <key>` and `x-api-key: <key>` (newer and
   * older deployments read one each; backend-contract.md part A). Never sent as Bearer.
   */
  apiKey?: string;
  /**
   * Sent as `Idempotency-Key` on every attempt. With the key alone, the backend is known to honour
   * it (`idempotency_key` advertised): a POST that may have been processed is retried.
   */
  idempotencyKey?: string;
  /**
   * When the caller does not know yet whether the backend honours the key (a new process whose
   * `/auth/config` is being read beside this request): asked only when a POST failed in a way that
   * only an honoured key makes safe to retry, never before the request goes out.
   */
  keyHonoured?: () => Promise<boolean>;
  /** Per-attempt bound, ms. */
  timeout?: number;
  signal?: AbortSignal;
  maxRetries?: number;
  /** Leave a 2xx body unread (SSE); the timeout then covers the headers only. */
  stream?: boolean;
  /**
   * Which redirects are followed: `same-origin` (one to another origin is a `RedirectRefusedError`,
   * since a credential or a body must never travel there), or `none` (any redirect is refused, as
   * oauth4webapi sends token requests). @default `none` for `/auth/*` paths, else `same-origin`
   */
  redirects?: 'same-origin' | 'none';
  /** The largest body read, bytes. @default the client's `maxResponseBytes` */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  requestId: string | undefined;
  /** The parsed JSON body (undefined for an empty or non-JSON body, or a stream). */
  json: unknown;
  /** The raw body text (not for streams). */
  text: string;
  /** The unread body of a 2xx stream. */
  body?: ReplyBody;
  rateLimit: RateLimitInfo | undefined;
  /** How many attempts it took (1 = no retry). */
  attempts: number;
  /** How long the retries waited in all, ms (0 or absent: no retry). */
  waitedMs?: number;
}

export interface HttpClientOptions {
  baseUrl: string;
  /** Per-attempt timeout, ms. @default 60_000 */
  timeout?: number;
  /** @default 2 */
  maxRetries?: number;
  /** The largest reply body read, bytes. @default 32 MiB */
  maxResponseBytes?: number;
  /** All the retry waits of one call together, ms. @default 60 s (RETRY_DEFAULTS.maxTotalWaitMs) */
  maxRetryWaitMs?: number;
  /** The user's undici dispatcher (a pool, a proxy agent, a mock). */
  dispatcher?: Dispatcher;
  /** The SDK's own choice of transport (the CLI's node:http one); neither: undici's default pool. */
  transport?: Transport;
  breaker?: CircuitBreaker;
  logger?: InternalLogger;
  /** Random source for jitter (tests). */
  random?: () => number;
}

const MAX_REDIRECTS = 5;
/** How much of an error reply's body a debug line quotes. */
const EXCERPT_CHARS = 300;
const USER_AGENT = `mesh-sdk/${SDK_VERSION} node/${process.versions.node}`;

function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function numberHeader(headers: HttpResponse['headers'], name: string): number | undefined {
  const text = header(headers, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function rateLimitOf(headers: HttpResponse['headers']): RateLimitInfo | undefined {
  // Most replies carry none of them: three lookups and no allocation then.
  if (
    headers['x-ratelimit-limit'] === undefined &&
    headers['x-ratelimit-remaining'] === undefined &&
    headers['x-ratelimit-reset'] === undefined
  ) {
    return undefined;
  }
  const info = {
    limit: numberHeader(headers, 'x-ratelimit-limit'),
    remaining: numberHeader(headers, 'x-ratelimit-remaining'),
    reset: numberHeader(headers, 'x-ratelimit-reset'),
  };
  return info.limit === undefined && info.remaining === undefined && info.reset === undefined ? undefined : info;
}

/**
 * The start of an error reply's body on one line. A long body is cut between words, never inside
 * one: half a token no longer matches the logger's redaction patterns.
 */
function bodyExcerpt(text: string): string {
  const line = oneLine(text).replace(/\s+/g, ' ').trim();
  if (line.length <= EXCERPT_CHARS) return line;
  return `${line.slice(0, EXCERPT_CHARS).replace(/[^\s"',;{}[\]]*$/, '')}...`;
}

/** The credential's headers: an API key as both `ApiKey` and `x-api-key`, a token as Bearer. */
function addCredentialHeaders(headers: Record<string, string>, req: HttpRequest): void {
  if (req.apiKey !== undefined) {
    headers.authorization = `ApiKey ${req.apiKey}`;
    headers['x-api-key'] = req.apiKey;
  } else if (req.token !== undefined) {
    headers.authorization = `Bearer ${req.token}`;
  }
}

/** The headers of one attempt. */
function headersFor(req: HttpRequest, withAuth: boolean, hasBody: boolean, attempt: number): Record<string, string> {
  const headers: Record<string, string> = {
    accept: req.stream ? 'text/event-stream' : 'application/json',
    'user-agent': USER_AGENT,
  };
  if (withAuth) addCredentialHeaders(headers, req);
  if (hasBody) headers['content-type'] = 'application/json';
  if (req.idempotencyKey !== undefined) headers['idempotency-key'] = req.idempotencyKey;
  if (attempt > 1) headers['x-mesh-retry-count'] = String(attempt - 1);
  return headers;
}

/** Whether a first attempt's headers are the plain ones: accept JSON, agent, credential. */
function plainHeaders(req: HttpRequest): boolean {
  return !req.stream && req.body === undefined && req.idempotencyKey === undefined;
}

/** A POST may have been processed by the time it fails; see retry-policy.ts. Shared, never mutated. */
const IDEMPOTENT: RetryContext = { idempotent: true };
const NOT_IDEMPOTENT: RetryContext = { idempotent: false };

/** Whether the backend honours the key the request carries, once that is known (a failure to learn it: no). */
function honoured(keyHonoured: () => Promise<boolean>): Promise<RetryContext> {
  return keyHonoured().then(
    (yes) => (yes ? IDEMPOTENT : NOT_IDEMPOTENT),
    () => NOT_IDEMPOTENT,
  );
}

/** Drops a body unread: the connection closes (undici reports the abort as an error, which is expected here). */
function discard(body: ReplyBody): void {
  body.on('error', () => {});
  body.destroy();
}

function isTooLarge(error: unknown): boolean {
  return error instanceof MeshError && error.code === 'response_too_large';
}

export class HttpClient {
  readonly baseUrl: string;
  readonly origin: string;
  /** Set from the start when given; the default (undici) from the first request on. */
  #transport: Transport | undefined;
  #loadingTransport: Promise<Transport> | undefined;
  /** The user's dispatcher, or the undici pool made for the parts that need one (undici-transport.ts). */
  #dispatcher: Dispatcher | Promise<Dispatcher> | undefined;
  /** Whether the transport is the SDK's (closed with the client, its headers objects shared). */
  readonly #ownsTransport: boolean;
  readonly #timeout: number;
  readonly #maxRetries: number;
  readonly #maxResponseBytes: number;
  readonly #maxRetryWaitMs: number;
  readonly #breaker: CircuitBreaker;
  readonly #logger: InternalLogger;
  readonly #random: () => number;
  /**
   * The base URL's path prefix when `${origin}${prefix}${path}` is exactly `${baseUrl}${path}`:
   * then requests go to the dispatcher as origin + path, and nothing parses a URL per request.
   * Undefined otherwise (a base URL with a query, a fragment, or anything URL parsing rewrites).
   */
  readonly #pathPrefix: string | undefined;
  /** The plain headers of the last credential sent (one object per credential, not per request). */
  #plainHeaders: { apiKey: string | undefined; token: string | undefined; headers: Record<string, string> } | undefined;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl;
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    const byDefault = options.dispatcher === undefined && options.transport === undefined;
    // The default pool reads the proxy variables when the first request loads it: a malformed one
    // is refused now, as the client is built, before anything is read or sent. (fetch reads none.)
    const proxy = byDefault && fetchAtImport === undefined ? malformedProxyVariable() : undefined;
    if (proxy !== undefined) {
      throw new ConfigError(`${proxy} is set, but not to a URL.`, {
        hint: `Set ${proxy} to the proxy's URL (e.g. http://proxy.example:3128), or unset it.`,
      });
    }
    this.#ownsTransport = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher;
    this.#transport = options.dispatcher === undefined ? options.transport : undefined;
    if (byDefault && fetchAtImport !== undefined) this.#transport = fetchAtImport();
    else if (this.#transport === undefined && undiciAtImport !== undefined) this.#useUndici(undiciAtImport);
    const prefix = base.pathname.replace(/\/$/, '');
    this.#pathPrefix =
      base.search === '' && base.hash === '' && `${base.origin}${prefix}` === options.baseUrl ? prefix : undefined;
    this.#timeout = options.timeout ?? 60_000;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? RETRY_DEFAULTS.maxTotalWaitMs;
    this.#breaker = options.breaker ?? new CircuitBreaker();
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
  }

  /** Closes the pooled connections (only a transport this client made or was given by the SDK). */
  async close(): Promise<void> {
    if (!this.#ownsTransport) return;
    const transport = this.#transport ?? (await this.#loadingTransport?.catch(() => undefined));
    const dispatcher = await this.#dispatcher;
    await Promise.all([
      transport?.close(),
      dispatcher !== undefined && (dispatcher as unknown) !== transport ? dispatcher.close() : undefined,
    ]);
  }

  /** The transport, loaded (undici's, or one over the user's dispatcher) by the first request that needs it. */
  #loadTransport(): Promise<Transport> {
    this.#loadingTransport ??= import('./undici-transport.js').then((undici) => this.#useUndici(undici));
    return this.#loadingTransport;
  }

  /** The transport over the user's dispatcher, or over the default pool (made now). */
  #useUndici({ defaultDispatcher, dispatcherTransport }: UndiciTransports): Transport {
    const dispatcher = this.#dispatcher === undefined ? defaultDispatcher() : (this.#dispatcher as Dispatcher);
    this.#dispatcher ??= dispatcher;
    this.#transport = dispatcherTransport(dispatcher);
    return this.#transport;
  }

  /**
   * An undici dispatcher for the parts that speak undici themselves (the device login, image
   * downloads): the user's, or the pool this client's requests use, or (with the SDK's node:http
   * transport) a pool made now.
   */
  async dispatcher(): Promise<Dispatcher> {
    if (this.#dispatcher === undefined && this.#transport === undefined) await this.#loadTransport();
    this.#dispatcher ??= import('./undici-transport.js').then(({ defaultDispatcher }) => defaultDispatcher());
    return this.#dispatcher;
  }

  /** The transport for a one-off request of another part (the issuer's keys): the client's own. */
  async transport(): Promise<Transport> {
    return this.#transport ?? this.#loadTransport();
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const maxRetries = req.maxRetries ?? this.#maxRetries;
    // A POST may have been processed by the time it fails; only a backend that honours the
    // Idempotency-Key it carries answers a repeat once (backend-contract.md part B).
    let context =
      req.method !== 'POST' || (req.idempotencyKey !== undefined && req.keyHonoured === undefined) ? IDEMPOTENT : NOT_IDEMPOTENT;
    let waitedMs = 0;
    for (let attempt = 1; ; attempt++) {
      // A plain field read while every origin is healthy: the breaker is asked only after failures.
      const blocked = this.#breaker.failingOrigins.size === 0 ? 0 : this.#breaker.blockedFor(this.origin);
      if (blocked > 0) {
        throw new CircuitOpenError(
          `Too many consecutive failures reaching ${this.origin}; not trying again for ${Math.ceil(blocked / 1000)} s.`,
          {
            hint: 'The Mesh backend looks down. Wait, or check MESH_API_URL and your connection.',
          },
        );
      }
      const started = Date.now();
      let response: HttpResponse;
      try {
        response = await this.#attempt(req, attempt, waitedMs);
      } catch (error) {
        // A refused redirect or an oversized reply is the server's answer, not a failure to reach it.
        if (!(error instanceof RedirectRefusedError || isTooLarge(error))) this.#breaker.failure(this.origin);
        if (req.keyHonoured !== undefined && context === NOT_IDEMPOTENT) context = await honoured(req.keyHonoured);
        const delay = retryDelayMs(attempt, undefined, this.#random);
        const retryable =
          !(error instanceof AbortError) &&
          isRetryableError(error, context) &&
          attempt <= maxRetries &&
          delay !== undefined &&
          waitedMs + delay <= this.#maxRetryWaitMs;
        this.#logger.debug(
          `${req.method} ${req.path} failed (attempt ${attempt}, ${Date.now() - started} ms): ${(error as Error).message}`,
        );
        if (!retryable) throw error;
        await sleep(delay, req.signal, `${req.method} ${req.path} was aborted.`);
        waitedMs += delay;
        continue;
      }
      if (this.#logger.debugEnabled) {
        const id = response.requestId ? `, ${response.requestId}` : '';
        // A failure's own words say why it was retried or refused; the logger redacts the line.
        const said = response.status >= 400 && response.text !== '' ? `: ${bodyExcerpt(response.text)}` : '';
        this.#logger.debug(
          `${req.method} ${req.path} ${response.status} (attempt ${attempt}, ${Date.now() - started} ms${id})${said}`,
        );
      }
      if (response.status >= 500) this.#breaker.failure(this.origin);
      else if (this.#breaker.failingOrigins.size > 0) this.#breaker.success(this.origin);
      if (response.status >= 400 && req.keyHonoured !== undefined && context === NOT_IDEMPOTENT) {
        context = await honoured(req.keyHonoured);
      }
      if (response.status >= 400 && isRetryableStatus(response.status, context) && attempt <= maxRetries) {
        const retryAfter = parseRetryAfter(header(response.headers, 'retry-after'));
        const delay = retryDelayMs(attempt, retryAfter, this.#random);
        // A server asking for longer than the SDK waits by itself, or waits adding up past the
        // bound: the caller gets this reply now (its error says how long the server asked for).
        if (delay !== undefined && waitedMs + delay <= this.#maxRetryWaitMs) {
          await response.body?.dump();
          await sleep(delay, req.signal, `${req.method} ${req.path} was aborted.`);
          waitedMs += delay;
          continue;
        }
      }
      return response;
    }
  }

  /**
   * The first attempt's headers when they are the plain ones: the same object for every request
   * with this credential, when the dispatcher is ours (undici only reads it; a user's dispatcher
   * or interceptor might not). Anything else builds its own.
   */
  #headersFor(req: HttpRequest, withAuth: boolean, hasBody: boolean, attempt: number): Record<string, string> {
    if (attempt > 1 || hasBody || !this.#ownsTransport || !plainHeaders(req)) {
      return headersFor(req, withAuth, hasBody, attempt);
    }
    const apiKey = withAuth ? req.apiKey : undefined;
    const token = withAuth && apiKey === undefined ? req.token : undefined;
    const cached = this.#plainHeaders;
    if (cached !== undefined && cached.apiKey === apiKey && cached.token === token) return cached.headers;
    const headers = headersFor(req, withAuth, false, 1);
    this.#plainHeaders = { apiKey, token, headers };
    return headers;
  }

  async #attempt(req: HttpRequest, attempt: number, waitedMs: number): Promise<HttpResponse> {
    // undici's own parser timers bound the wait for headers and each pause in the body: no
    // AbortController per request on the hot path. The body's whole arrival is bounded by the same
    // timeout from the attempt's start (readBodyText); a stream's bound is per pause.
    const timeoutMs = req.timeout ?? this.#timeout;
    const startedAt = Date.now();
    const maxBytes = req.maxResponseBytes ?? this.#maxResponseBytes;
    // Origin + path straight to the dispatcher (what undici.request does after parsing a URL);
    // a full URL only when the base URL needs parsing, and URL objects only for redirects.
    let url: string | undefined = this.#pathPrefix === undefined ? `${this.baseUrl}${req.path}` : undefined;
    let method: string = req.method;
    let body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const withAuth = req.token !== undefined || req.apiKey !== undefined;
    try {
      const transport = this.#transport ?? (await this.#loadTransport());
      for (let redirects = 0; ; redirects++) {
        const headers = this.#headersFor(req, withAuth, body !== undefined, attempt);
        const options: TransportRequest = {
          origin: this.origin,
          path: `${this.#pathPrefix}${req.path}`,
          method,
          headers,
          body,
          signal: req.signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        };
        const response = await transport.request(url === undefined ? options : requestTo(new URL(url), options));
        const location =
          response.statusCode >= 300 && response.statusCode < 400 ? header(response.headers, 'location') : undefined;
        if (location && redirects < MAX_REDIRECTS) {
          await response.body.dump(); // a redirect's body is never read (dump reads at most a little, then drops the rest)
          url ??= `${this.baseUrl}${req.path}`;
          const next = redirectTarget(req, response.statusCode, new URL(url), location);
          if (
            response.statusCode === 303 ||
            ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')
          ) {
            method = 'GET';
            body = undefined;
          }
          url = next.href;
          continue;
        }
        const id = header(response.headers, 'x-request-id');
        const details = { status: response.statusCode, requestId: id === undefined ? undefined : oneLine(id) };
        const streamed = req.stream === true && response.statusCode < 300;
        const announced = announcedLength(response.headers);
        if (announced !== undefined && announced > maxBytes) {
          discard(response.body);
          throw tooLarge(`${req.method} ${req.path}`, maxBytes, details);
        }
        const text = streamed
          ? ''
          : await readBodyText(response.body, {
              maxBytes,
              remainingMs: timeoutMs - (Date.now() - startedAt),
              what: `${req.method} ${req.path}`,
              details,
            });
        return {
          status: response.statusCode,
          headers: response.headers,
          requestId: details.requestId,
          json: streamed ? undefined : jsonOrUndefined(text),
          text,
          body: streamed ? response.body : undefined,
          rateLimit: rateLimitOf(response.headers),
          attempts: attempt,
          waitedMs,
        };
      }
    } catch (error) {
      if (req.signal?.aborted) throw new AbortError(`${req.method} ${req.path} was aborted.`, { cause: error });
      // Ours already (a refused redirect, an oversized or overdue body): as it is.
      if (error instanceof MeshError) throw error;
      const code = errorCode(error);
      if (code !== undefined && TIMEOUT_CODES.has(code)) {
        throw new TimeoutError(`${req.method} ${req.path} got no answer within ${timeoutMs} ms.`, { cause: error });
      }
      throw new NetworkError(`Could not reach ${this.origin} (${code ?? (error as Error).message}).`, {
        cause: error,
        hint:
          code === 'ENOTFOUND'
            ? 'Check MESH_API_URL: its host name does not resolve.'
            : 'Check your connection and MESH_API_URL.',
      });
    }
  }
}
