/**
 * Traces of the SDK's operations (issue 22): one `node:diagnostics_channel` tracing channel per
 * kind of operation (`mesh-sdk:request`, `mesh-sdk:refresh`, `mesh-sdk:login`), and an
 * OpenTelemetry span for each when `@opentelemetry/api` is installed and a tracer provider is
 * registered (docs/observability.md).
 *
 * Names and timings only, never a secret: no token, API key, request body or query string reaches
 * a message or a span (a path is cut at its `?`, an error is reduced to its name, code, status and
 * redacted message).
 *
 * Free when nobody listens: `startTrace` answers undefined after two property reads (the channel's
 * `hasSubscribers`, the OpenTelemetry global's `trace` entry); the API is loaded, and the tracer
 * looked up, only when a provider has been registered, and looked up again only when that entry
 * changes (a provider registered after the client started is picked up by the next trace).
 *
 * The lowest layer: nothing here imports errors/ or above (an error's `code` is read duck-typed).
 */
import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type * as OpenTelemetry from '@opentelemetry/api';
import { SDK_VERSION } from '../version.js';
import { redact } from './redact.js';
import { oneLine } from './safe-text.js';

export type TraceOperation = 'request' | 'refresh' | 'login';

/** What an operation is, as it starts. Every field is a name or a number: never a secret. */
export interface TraceStart {
  /** The SDK call, e.g. `chat`, `listKeys`, `refresh`, `login`. `chat` makes a GenAI chat span. */
  operation: string;
  /** HTTP method. */
  method?: string;
  /** The URL path, without its query (a query given anyway is cut off here). */
  path?: string;
  /** The host the request goes to (no scheme, no port, no credentials). */
  serverAddress?: string;
  /** The port the request goes to. */
  serverPort?: number;
  /** Chat: the model asked for. */
  model?: string;
  /** Chat: the provider asked for (`openai`, `anthropic`, ...). */
  provider?: string;
  temperature?: number;
  maxTokens?: number;
  /** Login: how. */
  loginMethod?: 'browser' | 'device';
  /** Refresh and login: the kind of token store (`file`, `keychain`, `redis`, ...; never its path or URL). */
  store?: string;
}

/** What an operation answered. */
export interface TraceEnd {
  /** HTTP status of the final reply. */
  status?: number;
  /** How many times the request was sent (1 without retries). */
  attempts?: number;
  /** The backend's request id. */
  requestId?: string;
  /** Chat: the model that answered. */
  responseModel?: string;
  /** Chat: the completion's id. */
  responseId?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Refresh: `rotated` (new tokens), or `newer` (another process had stored newer tokens; nothing was sent). */
  outcome?: string;
}

export interface Trace {
  /** The operation succeeded. Only the first `end` or `fail` counts. */
  end(result?: TraceEnd): void;
  /** The operation failed with `error` (recorded as its name, code and redacted message). */
  fail(error: unknown): void;
}

/** An error as a message carries it: no cause, no headers, no body; the message redacted. */
export interface TraceError {
  name: string;
  /** The MeshError `code` (or a Node error's, e.g. `ECONNREFUSED`). */
  code?: string;
  /** HTTP status, when the error carries one. */
  status?: number;
  message: string;
}

/**
 * The one object published on every event of an operation (`start`, `end`, `asyncStart`,
 * `asyncEnd`, and `error` when it failed): the start fields, then the result or the error.
 */
export interface TraceMessage extends TraceStart, TraceEnd {
  kind: TraceOperation;
  /** `performance.now()` when the operation started, ms. */
  startTime: number;
  /** Set when it ended (either way), ms. */
  durationMs?: number;
  /** On failure: the MeshError `code`, else the error's name. */
  errorType?: string;
  /** On failure. */
  error?: TraceError;
}

/** The tracing channels: `diagnostics_channel.tracingChannel(name).subscribe({ start, asyncEnd, error })`. */
export const TRACE_CHANNELS = {
  request: 'mesh-sdk:request',
  refresh: 'mesh-sdk:refresh',
  login: 'mesh-sdk:login',
} as const satisfies Record<TraceOperation, string>;

const channels: Record<TraceOperation, TracingChannel<unknown, TraceMessage>> = {
  request: tracingChannel(TRACE_CHANNELS.request),
  refresh: tracingChannel(TRACE_CHANNELS.refresh),
  login: tracingChannel(TRACE_CHANNELS.login),
};

/**
 * The request channel, for the pipeline's inline check on every call (`hasSubscribers` or
 * `otelRegistered()` inlined as a property read: the hot path does not enter this module when
 * nobody listens).
 */
export const requestChannel = channels.request;

/** The instrumentation scope of our spans. */
export const TRACER_NAME = 'mesh-sdk';

/**
 * Undefined when nobody listens (the fast path): no subscriber on the operation's channel and no
 * OpenTelemetry tracer provider registered.
 */
export function startTrace(kind: TraceOperation, start: TraceStart): Trace | undefined {
  const channel = channels[kind];
  const listening = channel.hasSubscribers;
  const tracer = currentTracer();
  if (!listening && tracer === undefined) return undefined;
  return new ActiveTrace(kind, start, listening ? channel : undefined, tracer);
}

/** A token store's kind from its `describe()`, for `store`: never its path, account or URL. */
export function storeKindOf(description: string): string {
  if (description.startsWith('file ')) return 'file';
  if (description.startsWith('OS keychain')) return 'keychain';
  if (description.startsWith('redis ')) return 'redis';
  if (description.startsWith('memory')) return 'memory';
  if (description.startsWith('environment')) return 'env';
  return 'custom';
}

class ActiveTrace implements Trace {
  readonly #message: TraceMessage;
  readonly #channel: TracingChannel<unknown, TraceMessage> | undefined;
  readonly #span: OpenTelemetry.Span | undefined;
  #done = false;

  constructor(
    kind: TraceOperation,
    start: TraceStart,
    channel: TracingChannel<unknown, TraceMessage> | undefined,
    tracer: OpenTelemetry.Tracer | undefined,
  ) {
    // Copied field by field: whatever else the caller's object holds stays out of the message.
    const message: TraceMessage = { kind, operation: start.operation, startTime: performance.now() };
    if (start.method !== undefined) message.method = start.method;
    if (start.path !== undefined) message.path = withoutQuery(start.path);
    if (start.serverAddress !== undefined) message.serverAddress = hostOnly(start.serverAddress);
    if (start.serverPort !== undefined) message.serverPort = start.serverPort;
    if (start.model !== undefined) message.model = start.model;
    if (start.provider !== undefined) message.provider = start.provider;
    if (start.temperature !== undefined) message.temperature = start.temperature;
    if (start.maxTokens !== undefined) message.maxTokens = start.maxTokens;
    if (start.loginMethod !== undefined) message.loginMethod = start.loginMethod;
    if (start.store !== undefined) message.store = start.store;
    this.#message = message;
    this.#channel = channel;
    this.#span = tracer === undefined ? undefined : startSpan(tracer, message);
    if (channel) {
      // As `tracePromise` publishes an async operation: start, then end (its synchronous part
      // returned); asyncStart and asyncEnd (after error on a failure) once it settles.
      channel.start.publish(message);
      channel.end.publish(message);
    }
  }

  end(result?: TraceEnd): void {
    if (this.#done) return;
    this.#done = true;
    const message = this.#message;
    if (result) {
      if (result.status !== undefined) message.status = result.status;
      if (result.attempts !== undefined) message.attempts = result.attempts;
      if (result.requestId !== undefined) message.requestId = result.requestId;
      if (result.responseModel !== undefined) message.responseModel = result.responseModel;
      if (result.responseId !== undefined) message.responseId = result.responseId;
      if (result.inputTokens !== undefined) message.inputTokens = result.inputTokens;
      if (result.outputTokens !== undefined) message.outputTokens = result.outputTokens;
      if (result.outcome !== undefined) message.outcome = result.outcome;
    }
    message.durationMs = performance.now() - message.startTime;
    if (this.#span) endSpan(this.#span, message);
    if (this.#channel) {
      this.#channel.asyncStart.publish(message);
      this.#channel.asyncEnd.publish(message);
    }
  }

  fail(error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    const message = this.#message;
    const summary = summarize(error);
    message.error = summary;
    message.errorType = summary.code ?? summary.name;
    if (summary.status !== undefined) message.status = summary.status;
    message.durationMs = performance.now() - message.startTime;
    if (this.#span) failSpan(this.#span, message, summary, error);
    if (this.#channel) {
      this.#channel.error.publish(message);
      this.#channel.asyncStart.publish(message);
      this.#channel.asyncEnd.publish(message);
    }
  }
}

function withoutQuery(path: string): string {
  const query = path.search(/[?#]/);
  return query === -1 ? path : path.slice(0, query);
}

/** `user:password@host` (which no caller should pass) is cut to `host`. */
function hostOnly(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : address.slice(at + 1);
}

function summarize(error: unknown): TraceError {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: safe(String(error)) };
  const { name, code, status, message } = error as { name?: unknown; code?: unknown; status?: unknown; message?: unknown };
  const summary: TraceError = {
    name: typeof name === 'string' && name !== '' ? name : 'Error',
    message: typeof message === 'string' ? safe(message) : '',
  };
  if (typeof code === 'string' && code !== '') summary.code = code;
  if (typeof status === 'number') summary.status = status;
  return summary;
}

const safe = (text: string): string => oneLine(redact(text));

// --- OpenTelemetry ---------------------------------------------------------------------------

type OpenTelemetryApi = typeof OpenTelemetry;

/**
 * Where `@opentelemetry/api` 1.x keeps its globals, shared by every copy of the API in the process:
 * `trace` is set there by `trace.setGlobalTracerProvider()` and removed by `trace.disable()`.
 */
export const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** The API's enum values (fixed by the OpenTelemetry specification): used without the API loaded. */
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

/** The global's `trace` entry when the tracer was last looked up (identity: a new registration is a new object). */
let seenProvider: unknown;
let tracer: OpenTelemetry.Tracer | undefined;
/** The API, once loaded; null when it is not installed (never tried again). */
let api: OpenTelemetryApi | null | undefined;

/** Our tracer when a real provider is registered; undefined otherwise (nothing loaded). */
function currentTracer(): OpenTelemetry.Tracer | undefined {
  const registered = (globalThis as { [OTEL_GLOBAL]?: { trace?: unknown } })[OTEL_GLOBAL]?.trace;
  if (registered !== seenProvider) lookUpTracer(registered);
  return tracer;
}

type GlobalProvider = OpenTelemetry.TracerProvider & {
  getDelegateTracer?: (name: string, version?: string) => OpenTelemetry.Tracer | undefined;
};

function lookUpTracer(registered: unknown): void {
  seenProvider = registered;
  tracer = undefined;
  if (registered === undefined) return;
  try {
    // The global provider is a proxy; its delegate is the provider registered (none: the no-op).
    // Through our copy of the API (which checks that the registered one is compatible), else, when
    // the API cannot be resolved from here (a bundled application), the registered proxy itself.
    const provider = (loadApi()?.trace.getTracerProvider() ?? registered) as GlobalProvider;
    tracer =
      typeof provider.getDelegateTracer === 'function'
        ? provider.getDelegateTracer(TRACER_NAME, SDK_VERSION)
        : provider.getTracer(TRACER_NAME, SDK_VERSION);
  } catch {
    tracer = undefined;
  }
}

function loadApi(): OpenTelemetryApi | null {
  if (api !== undefined) return api;
  try {
    // Synchronous, and only once a provider is registered: an optional peer dependency, never
    // bundled (tsup shims import.meta.url in the CommonJS build).
    api = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi;
  } catch {
    api = null;
  }
  return api;
}

function startSpan(tracer: OpenTelemetry.Tracer, message: TraceMessage): OpenTelemetry.Span | undefined {
  const attributes: OpenTelemetry.Attributes = { 'mesh.operation': message.operation };
  let name: string;
  let kind: OpenTelemetry.SpanKind = SPAN_KIND_INTERNAL;
  if (message.kind === 'request') {
    kind = SPAN_KIND_CLIENT;
    if (message.method !== undefined) attributes['http.request.method'] = message.method;
    if (message.path !== undefined) attributes['url.path'] = message.path;
    if (message.serverAddress !== undefined) attributes['server.address'] = message.serverAddress;
    if (message.serverPort !== undefined) attributes['server.port'] = message.serverPort;
    if (message.operation === 'chat') {
      // GenAI semantic conventions, inference span: `{gen_ai.operation.name} {gen_ai.request.model}`.
      name = message.model === undefined ? 'chat' : `chat ${message.model}`;
      attributes['gen_ai.operation.name'] = 'chat';
      attributes['gen_ai.provider.name'] = message.provider ?? 'mesh';
      if (message.model !== undefined) attributes['gen_ai.request.model'] = message.model;
      if (message.temperature !== undefined) attributes['gen_ai.request.temperature'] = message.temperature;
      if (message.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = message.maxTokens;
    } else {
      name = `mesh.${message.operation}`;
    }
  } else {
    name = `mesh.${message.kind}`;
    if (message.loginMethod !== undefined) attributes['mesh.login.method'] = message.loginMethod;
    if (message.store !== undefined) attributes['mesh.token_store'] = message.store;
  }
  try {
    return tracer.startSpan(name, { kind, attributes });
  } catch {
    return undefined; // a broken exporter or sampler never fails a call
  }
}

function endSpan(span: OpenTelemetry.Span, message: TraceMessage): void {
  try {
    setResultAttributes(span, message);
    if (message.status !== undefined && message.status >= 400) {
      span.setAttribute('error.type', String(message.status));
      span.setStatus({ code: STATUS_ERROR });
    }
    span.end();
  } catch {
    // as above
  }
}

function failSpan(span: OpenTelemetry.Span, message: TraceMessage, summary: TraceError, error: unknown): void {
  try {
    setResultAttributes(span, message);
    span.setAttribute('error.type', message.errorType as string);
    const stack = typeof error === 'object' && error !== null ? (error as { stack?: unknown }).stack : undefined;
    const exception: OpenTelemetry.Exception = { name: summary.name, message: summary.message };
    if (summary.code !== undefined) exception.code = summary.code;
    if (typeof stack === 'string') exception.stack = redact(stack);
    span.recordException(exception);
    span.setStatus({ code: STATUS_ERROR, message: summary.message });
    span.end();
  } catch {
    // as above
  }
}

function setResultAttributes(span: OpenTelemetry.Span, message: TraceMessage): void {
  const attributes: OpenTelemetry.Attributes = {};
  if (message.status !== undefined) attributes['http.response.status_code'] = message.status;
  if (message.attempts !== undefined) {
    attributes['mesh.request.attempts'] = message.attempts;
    if (message.attempts > 1) attributes['http.request.resend_count'] = message.attempts - 1;
  }
  if (message.requestId !== undefined) attributes['mesh.request_id'] = message.requestId;
  if (message.responseModel !== undefined) attributes['gen_ai.response.model'] = message.responseModel;
  if (message.responseId !== undefined) attributes['gen_ai.response.id'] = message.responseId;
  if (message.inputTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = message.inputTokens;
  if (message.outputTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = message.outputTokens;
  if (message.outcome !== undefined) attributes['mesh.refresh.outcome'] = message.outcome;
  span.setAttributes(attributes);
}
