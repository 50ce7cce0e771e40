/**
 * The request pipeline of every call to the backend's API (backend-contract.md part C), run the
 * same way for each declared operation (operations.ts): the credential, the call sent at once
 * (what it needs of the backend's profile and capabilities is known or read beside it:
 * backend-facts.ts), a 404 believed only once the credential is known good (the deployed backend
 * answers 404 to a bad credential), else one refresh and one retry; the operation's paths tried in
 * order and the one that answered remembered; an Idempotency-Key on POSTs the backend honours;
 * status -> error; body -> the reply's check (replies.ts); one trace per call when anything listens.
 */
import { randomUUID } from 'node:crypto';
import type { Credentials } from '../auth/credentials.js';
import type { TokenValidator } from '../auth/tokens/validator.js';
import { AuthenticationError, NotFoundError } from '../errors/mesh-error.js';
import type { HttpClient, HttpRequest, HttpResponse, RateLimitInfo } from '../http/http-client.js';
import { readReply } from '../http/reply-body.js';
import { errorFromResponse } from '../http/response-errors.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import { OTEL_GLOBAL, requestChannel, startTrace, type Trace, type TraceStart } from '../internal/tracing.js';
import { BackendFacts, mustReport } from './backend-facts.js';
import { type Operation, PROFILE, PROFILE_PATH } from './operations.js';
import { toProfile } from './replies.js';

/** One call of an operation: what varies from call to call. */
export interface CallInput {
  /** Appended to the operation's path as it is, e.g. `?userId=...` (already encoded). */
  query?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Per-attempt bound, ms. @default the operation's, else the client's */
  timeout?: number;
  maxRetries?: number;
  /** How errors name this call, when more precise than the operation's: `Storing key "openai"`. */
  what?: string;
  /** The credential to send instead of asking the credentials for one (right after a login). */
  credential?: string;
  /** What the trace says of the request beyond its operation (a chat's model and settings). */
  trace?: Pick<TraceStart, 'model' | 'provider' | 'temperature' | 'maxTokens'>;
}

/** One HTTP exchange of the pipeline: an operation's call on one of its paths. */
type ApiRequest = Omit<HttpRequest, 'token' | 'apiKey' | 'idempotencyKey' | 'keyHonoured'> & { credential?: string };

export interface ApiCallerOptions {
  http: HttpClient;
  credentials: Credentials;
  validator: TokenValidator;
  logger?: InternalLogger;
  /**
   * The backend's advertised extensions (contract part B, `GET /auth/config` `capabilities`).
   * Failure means none. @default no capabilities
   */
  capabilities?: () => Promise<ReadonlySet<string>>;
}

const NO_CAPABILITIES: ReadonlySet<string> = new Set();

/** Where the backend answers 404 to a bad credential (it hides these routes from strangers). */
function hidesFromStrangers(path: string): boolean {
  return path.startsWith('/api/v1/') || path.startsWith('/v1/mesh/') || path === PROFILE_PATH;
}

/** What the pipeline reads of an operation (the reply's type aside). */
type Route = Pick<Operation<unknown>, 'name' | 'method' | 'paths' | 'registerOn404' | 'stream' | 'timeout' | 'maxRetries'>;

/** The OpenTelemetry API's global registry, as tracing.ts reads it (a provider is registered under `trace`). */
type OtelHolder = { [OTEL_GLOBAL]?: { trace?: unknown } };

export class ApiCaller {
  readonly #http: HttpClient;
  readonly #credentials: Credentials;
  readonly #validator: TokenValidator;
  readonly #logger: InternalLogger;
  /** The backend's capabilities and the user's profile. */
  readonly facts: BackendFacts;
  /** The rate-limit headers of the latest reply. */
  lastRateLimit: RateLimitInfo | undefined;
  /** Per route with several paths (keyed by its paths, which a stream shares with its chat): the one that answered. */
  readonly #answered = new Map<readonly string[], string>();
  /** Whether the backend honours an Idempotency-Key (single flight: read once, beside the first POST). */
  readonly #keyHonoured = () => this.facts.advertises('idempotency_key');
  /** The host and port the traces name. */
  readonly #server: { address: string; port: number | undefined };

  constructor(options: ApiCallerOptions) {
    this.#http = options.http;
    this.#credentials = options.credentials;
    this.#validator = options.validator;
    this.#logger = options.logger ?? silentLogger;
    const base = new URL(options.http.baseUrl);
    this.#server = { address: base.hostname, port: base.port === '' ? undefined : Number(base.port) };
    this.facts = new BackendFacts({
      credentials: options.credentials,
      readProfile: async (credential) => toProfile((await this.perform(PROFILE, { credential })).data),
      capabilities: options.capabilities ?? (async () => NO_CAPABILITIES),
      logger: this.#logger,
    });
  }

  /**
   * Runs `operation` and reads its 2xx reply with the operation's check (a `reply`-less operation
   * answers `undefined` data: its caller reads the response).
   */
  async perform<T>(operation: Operation<T>, input: CallInput = {}): Promise<{ data: T; response: HttpResponse }> {
    const trace = this.#traceOf(operation, input);
    const what = input.what ?? operation.what;
    try {
      const response = await this.#exchange(operation, input, what);
      const data = operation.reply === undefined ? (undefined as T) : await readReply(operation.reply, response, what);
      if (trace !== undefined) this.#endTrace(trace, operation, response, data);
      return { data, response };
    } catch (error) {
      trace?.fail(error);
      throw error;
    }
  }

  /**
   * Runs a streaming `operation`: answers its 2xx response with the body unread, and its trace
   * still open: the reader of the stream ends it (with the usage the last chunk reports) or fails it.
   */
  async open(operation: Operation<never>, input: CallInput = {}): Promise<{ response: HttpResponse; trace: Trace | undefined }> {
    const trace = this.#traceOf(operation, input);
    try {
      return { response: await this.#exchange(operation, input, input.what ?? operation.what), trace };
    } catch (error) {
      trace?.fail(error);
      throw error;
    }
  }

  /** The call's trace, or undefined: nobody listening costs two property reads (tracing.ts is entered only for a listener). */
  #traceOf(operation: Route, input: CallInput): Trace | undefined {
    return requestChannel.hasSubscribers || (globalThis as OtelHolder)[OTEL_GLOBAL]?.trace !== undefined
      ? this.#startTrace(operation, input)
      : undefined;
  }

  #startTrace(operation: Route, input: CallInput): Trace | undefined {
    return startTrace('request', {
      operation: operation.name,
      method: operation.method,
      path: this.#pathFor(operation),
      serverAddress: this.#server.address,
      serverPort: this.#server.port,
      ...input.trace,
    });
  }

  #endTrace<T>(trace: Trace, operation: Operation<T>, response: HttpResponse, data: T): void {
    const fromReply = operation.traceEnd !== undefined && data !== undefined ? operation.traceEnd(data) : undefined;
    trace.end({ status: response.status, attempts: response.attempts, requestId: response.requestId, ...fromReply });
  }

  /** The path an operation goes to first: the one that answered last, else its first. */
  #pathFor(operation: Route): string {
    return operation.paths.length === 1 ? operation.paths[0] : (this.#answered.get(operation.paths) ?? operation.paths[0]);
  }

  /** The call on the operation's paths, or on its one path. */
  #exchange(operation: Route, input: CallInput, what: string): Promise<HttpResponse> {
    const request = (path: string): ApiRequest => ({
      method: operation.method,
      path: input.query === undefined ? path : `${path}${input.query}`,
      body: input.body,
      credential: input.credential,
      timeout: input.timeout ?? operation.timeout,
      signal: input.signal,
      maxRetries: input.maxRetries ?? operation.maxRetries,
      stream: operation.stream,
    });
    if (operation.paths.length === 1 && !operation.registerOn404) return this.#send(request(operation.paths[0]), what);
    return this.#sendOnPaths(operation, request, what);
  }

  /** Sends with credentials; answers a 2xx (a stream's body unread), or throws the error it means. */
  async #send(request: ApiRequest, what: string): Promise<HttpResponse> {
    let token = request.credential ?? (await this.#credentials.token(request.signal));
    // The profile registers the user beside this call, never before it (a field read once it is known).
    if (this.facts.userIdNow === undefined && request.path !== PROFILE_PATH) this.facts.meet(token);
    let response = await this.#sendOnce(request, token);
    if (response.status === 401 || (response.status === 404 && hidesFromStrangers(request.path))) {
      const why = response.status === 404 ? await this.#rejection(token, request) : 'HTTP 401';
      if (why !== undefined) {
        // One refresh per failure, never more: no loops.
        const renewed = await this.#credentials.renew(token, request.signal);
        if (renewed === undefined) throw this.#refused(response, what, why);
        await response.body?.dump();
        token = renewed;
        response = await this.#sendOnce(request, token);
        if (response.status === 401) throw this.#refused(response, what, 'the renewed credentials were refused too');
        if (response.status === 404 && hidesFromStrangers(request.path)) {
          const still = await this.#rejection(token, request);
          if (still !== undefined) throw this.#refused(response, what, still);
        }
      }
    }
    if (response.rateLimit !== undefined) this.lastRateLimit = response.rateLimit;
    if (response.status >= 400) throw errorFromResponse(response, what);
    return response;
  }

  /**
   * Sends `request(path)` on each of the operation's paths in turn (the one that answered last
   * first) until one answers, and remembers it; the last 404 when none does. With `registerOn404`,
   * the first 404 registers once more and retries the same path before the next one. A stream
   * goes to the remembered path alone.
   */
  async #sendOnPaths(operation: Route, request: (path: string) => ApiRequest, what: string): Promise<HttpResponse> {
    const first = this.#pathFor(operation);
    const order = operation.stream ? [first] : [first, ...operation.paths.filter((path) => path !== first)];
    let registeredAgain = !operation.registerOn404;
    let notFound: NotFoundError | undefined;
    for (const path of order) {
      for (;;) {
        const attempt = request(path);
        try {
          const response = await this.#send(attempt, what);
          if (path !== first) this.#answered.set(operation.paths, path);
          return response;
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          notFound = error;
        }
        if (registeredAgain) break;
        registeredAgain = true;
        try {
          await this.facts.registerAgain(attempt.signal);
        } catch (error) {
          if (mustReport(error)) throw error;
          break; // the profile cannot help: go on to the next path
        }
      }
    }
    throw notFound as NotFoundError;
  }

  /** One HTTP exchange (with the HTTP layer's retries) carrying this credential. */
  #sendOnce(request: ApiRequest, credential: string): Promise<HttpResponse> {
    if (request.method !== 'POST') return this.#http.send(this.#httpRequest(request, credential, undefined, undefined));
    // One key per exchange, the same on each of its attempts; a resend after a refresh is a new request.
    const advertised = this.facts.advertised;
    if (advertised !== undefined) {
      const key = advertised.has('idempotency_key') ? randomUUID() : undefined;
      return this.#http.send(this.#httpRequest(request, credential, key, undefined));
    }
    // Not known yet: the POST goes out now with a key (send() dispatches it before it returns), then
    // `/auth/config` is read beside it; only a failure that an honoured key would make safe to
    // retry waits for the answer.
    const sending = this.#http.send(this.#httpRequest(request, credential, randomUUID(), this.#keyHonoured));
    void this.#keyHonoured();
    return sending;
  }

  /**
   * The HTTP layer's request, field by field (no spreads per call). Every HttpRequest field but the
   * credential and key ones comes from `request`: a new field there must be added here.
   */
  #httpRequest(
    request: ApiRequest,
    credential: string,
    idempotencyKey: string | undefined,
    keyHonoured: (() => Promise<boolean>) | undefined,
  ): HttpRequest {
    const apiKey = this.#credentials.kind === 'apiKey';
    return {
      method: request.method,
      path: request.path,
      body: request.body,
      token: apiKey ? undefined : credential,
      apiKey: apiKey ? credential : undefined,
      idempotencyKey,
      keyHonoured,
      timeout: request.timeout,
      signal: request.signal,
      maxRetries: request.maxRetries,
      stream: request.stream,
    };
  }

  /**
   * Why a 404 may mean "bad credential", or undefined when the credential is known good (then the
   * 404 is real). A bearer asks `/auth/validate` (or the local checks); an API key is never sent
   * there (contract part A): the profile answering it is the proof.
   */
  async #rejection(credential: string, request: ApiRequest): Promise<string | undefined> {
    if (this.#credentials.kind === 'apiKey') {
      if (request.path === PROFILE_PATH) return 'the backend did not accept the API key';
      const probe = await this.#http.send({ method: 'GET', path: PROFILE_PATH, apiKey: credential, signal: request.signal });
      this.#logger.debug(`404 from ${request.path}: the profile answered ${probe.status} to the API key.`);
      return probe.status === 200 ? undefined : 'the backend did not accept the API key';
    }
    const validation = await this.#validator.validate(credential, { signal: request.signal });
    this.#logger.debug(`404 from ${request.path}: token ${validation.valid ? 'valid' : 'not valid'} (${validation.source}).`);
    return validation.valid ? undefined : (validation.reason ?? 'the token is not valid');
  }

  #refused(response: HttpResponse, what: string, why: string): AuthenticationError {
    const translated = errorFromResponse(response, what);
    return new AuthenticationError(`${what} was refused: you may not be logged in (${why}).`, {
      status: response.status,
      requestId: translated.requestId,
      serverCode: translated.serverCode,
      serverMessage: translated.serverMessage,
      hint: this.#credentials.refusedHint,
    });
  }
}
