// internal/tracing.ts on its own: nothing when nobody listens, the tracing channels' events and
// fields (never a secret), and OpenTelemetry spans from a provider registered at any time (the
// SDK's in-memory exporter, registered as the global provider as an application would).
import { SpanKind, SpanStatusCode, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvStore } from '../../src/auth/stores/env-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { MemoryStore } from '../../src/auth/stores/memory-store.js';
import { startTrace, storeKindOf, type TraceStart } from '../../src/internal/tracing.js';
import { newProvider, recordChannel, spanText } from '../helpers/traces.js';

const SECRET = 'v1.MRrT4nq8sVsd9tKzX0aBcDeFgHiJkLmNoP';
const chat: TraceStart = {
  operation: 'chat',
  method: 'POST',
  path: '/v1/mesh/chat',
  serverAddress: '127.0.0.1',
  serverPort: 8080,
  model: 'gpt-4o',
  provider: 'openai',
  temperature: 0.2,
  maxTokens: 64,
};

/** A MeshError as the SDK throws it, carrying what a subscriber must never see (cause, headers). */
function meshError(code: string, status?: number): Error {
  const error = new Error(`The backend refused the refresh token: refresh_token: ${SECRET}`, {
    cause: { headers: { authorization: `Bearer ${SECRET}` } },
  });
  return Object.assign(error, { name: 'AuthenticationError', code, status, hint: 'log in' });
}

beforeEach(() => {
  trace.disable(); // no provider unless a test registers one
});
afterEach(() => {
  trace.disable();
});

describe('startTrace', () => {
  it('answers undefined when no channel has a subscriber and no provider is registered', () => {
    expect(startTrace('request', chat)).toBeUndefined();
    expect(startTrace('refresh', { operation: 'refresh', store: 'file' })).toBeUndefined();
    expect(startTrace('login', { operation: 'login', loginMethod: 'device' })).toBeUndefined();
  });

  it('costs next to nothing when nobody listens (100,000 calls well under 100 ms)', () => {
    for (let i = 0; i < 10_000; i++) startTrace('request', chat); // warm up
    const began = performance.now();
    for (let i = 0; i < 100_000; i++) startTrace('request', chat);
    const elapsed = performance.now() - began;
    expect(elapsed).toBeLessThan(100);
  });

  it("turns on for a subscriber of the operation's own channel only", () => {
    const refresh = recordChannel('refresh');
    try {
      expect(startTrace('request', chat)).toBeUndefined();
      expect(startTrace('login', { operation: 'login' })).toBeUndefined();
      const started = startTrace('refresh', { operation: 'refresh', store: 'memory' });
      expect(started).toBeDefined();
      started?.end({ outcome: 'rotated' });
      expect(refresh.names()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    } finally {
      refresh.stop();
    }
    expect(startTrace('refresh', { operation: 'refresh' })).toBeUndefined();
  });
});

describe('the tracing channels', () => {
  it('publish start and end, then asyncStart and asyncEnd with the result: one object, the fields copied, no query', () => {
    const recorder = recordChannel('request');
    try {
      const start = {
        operation: 'listKeys',
        method: 'GET',
        path: `/api/v1/listKeys?userId=u-42&api_key=${SECRET}`,
        serverAddress: `me:${SECRET}@api.example`,
        // Not a TraceStart field: never copied into the message.
        authorization: `Bearer ${SECRET}`,
      } as TraceStart;
      const started = startTrace('request', start);
      expect(recorder.names()).toEqual(['start', 'end']);
      started?.end({ status: 200, attempts: 2, requestId: 'req-1' });
      started?.end({ status: 500 }); // only the first end counts
      started?.fail(new Error('late'));
      expect(recorder.names()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      const [first, , , last] = recorder.events;
      expect(first?.message).toEqual({
        kind: 'request',
        operation: 'listKeys',
        method: 'GET',
        path: '/api/v1/listKeys',
        serverAddress: 'api.example',
        startTime: expect.any(Number),
      });
      expect(last?.message).toEqual({
        ...first?.message,
        status: 200,
        attempts: 2,
        requestId: 'req-1',
        durationMs: expect.any(Number),
      });
      expect(last?.message.durationMs).toBeGreaterThanOrEqual(0);
      expect(new Set(recorder.events.map((e) => e.same)).size).toBe(1);
      const text = JSON.stringify(recorder.events.map((e) => e.message));
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('u-42');
    } finally {
      recorder.stop();
    }
  });

  it('publish error, asyncStart and asyncEnd on a failure: the code as errorType, the message redacted, no cause', () => {
    const recorder = recordChannel('refresh');
    try {
      startTrace('refresh', { operation: 'refresh', store: 'file' })?.fail(meshError('authentication_failed', 401));
      expect(recorder.names()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
      const message = recorder.events.at(-1)?.message;
      expect(message).toMatchObject({
        kind: 'refresh',
        operation: 'refresh',
        store: 'file',
        status: 401,
        errorType: 'authentication_failed',
        error: { name: 'AuthenticationError', code: 'authentication_failed', status: 401 },
      });
      expect(message?.error?.message).toMatch(/refused the refresh token: refresh_token: \[REDACTED\]/);
      expect(Object.keys(message?.error ?? {}).sort()).toEqual(['code', 'message', 'name', 'status']);
      expect(JSON.stringify(recorder.events.map((e) => e.message))).not.toContain(SECRET);

      startTrace('refresh', { operation: 'refresh' })?.fail('not an Error');
      expect(recorder.events.at(-1)?.message).toMatchObject({
        errorType: 'Error',
        error: { name: 'Error', message: 'not an Error' },
      });
    } finally {
      recorder.stop();
    }
  });
});

describe('OpenTelemetry spans', () => {
  it('appear once a provider is registered after the first call, stop when it is removed, and follow a new one', async () => {
    expect(startTrace('request', chat)).toBeUndefined(); // the first call: nothing registered yet
    const first = newProvider();
    trace.setGlobalTracerProvider(first.provider);
    startTrace('request', chat)?.end({ status: 200 });
    expect(first.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['chat gpt-4o']);

    trace.disable();
    expect(startTrace('request', chat)).toBeUndefined();

    const second = newProvider();
    trace.setGlobalTracerProvider(second.provider);
    startTrace('login', { operation: 'login', loginMethod: 'browser', store: 'auto' })?.end();
    expect(second.exporter.getFinishedSpans().map((s) => s.name)).toEqual(['mesh.login']);
    expect(first.exporter.getFinishedSpans()).toHaveLength(1);
    await Promise.all([first.provider.shutdown(), second.provider.shutdown()]);
  });

  describe('with a provider', () => {
    let recorded: ReturnType<typeof newProvider>;
    beforeEach(() => {
      recorded = newProvider();
      trace.setGlobalTracerProvider(recorded.provider);
    });
    afterEach(async () => {
      await recorded.provider.shutdown();
    });
    const only = () => {
      const spans = recorded.exporter.getFinishedSpans();
      expect(spans).toHaveLength(1);
      return spans[0] as (typeof spans)[number];
    };

    it('a chat: a CLIENT span named `chat <model>` with the GenAI attributes, the usage and the HTTP ones', () => {
      startTrace('request', chat)?.end({
        status: 200,
        attempts: 1,
        requestId: 'req-7',
        responseModel: 'gpt-4o-2024-08-06',
        responseId: 'chatcmpl-123',
        inputTokens: 12,
        outputTokens: 34,
      });
      const span = only();
      expect(span.name).toBe('chat gpt-4o');
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.instrumentationScope.name).toBe('mesh-sdk');
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes).toEqual({
        'mesh.operation': 'chat',
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.request.temperature': 0.2,
        'gen_ai.request.max_tokens': 64,
        'gen_ai.response.model': 'gpt-4o-2024-08-06',
        'gen_ai.response.id': 'chatcmpl-123',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.usage.output_tokens': 34,
        'http.request.method': 'POST',
        'url.path': '/v1/mesh/chat',
        'server.address': '127.0.0.1',
        'server.port': 8080,
        'http.response.status_code': 200,
        'mesh.request.attempts': 1,
        'mesh.request_id': 'req-7',
      });
    });

    it('another call: `mesh.<operation>` with the HTTP attributes, the path without its query, the resend count', () => {
      startTrace('request', { operation: 'listKeys', method: 'GET', path: '/api/v1/listKeys?userId=u-42' })?.end({
        status: 200,
        attempts: 3,
      });
      const span = only();
      expect(span.name).toBe('mesh.listKeys');
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes).toEqual({
        'mesh.operation': 'listKeys',
        'http.request.method': 'GET',
        'url.path': '/api/v1/listKeys',
        'http.response.status_code': 200,
        'mesh.request.attempts': 3,
        'http.request.resend_count': 2,
      });
      expect(span.attributes).not.toHaveProperty('gen_ai.operation.name');
    });

    it('a failure: the exception recorded (redacted), status ERROR, error.type the code', () => {
      startTrace('request', chat)?.fail(meshError('rate_limited', 429));
      const span = only();
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.stringMatching(/\[REDACTED\]/) });
      expect(span.attributes['error.type']).toBe('rate_limited');
      expect(span.attributes['http.response.status_code']).toBe(429);
      expect(span.events).toHaveLength(1);
      expect(span.events[0]?.name).toBe('exception');
      expect(span.events[0]?.attributes).toMatchObject({
        'exception.type': 'rate_limited',
        'exception.message': expect.stringMatching(/refresh_token: \[REDACTED\]/),
      });
      expect(spanText(span)).not.toContain(SECRET);
    });

    it('a reply ended with a 4xx or 5xx status is an error span with the status as error.type', () => {
      startTrace('request', { operation: 'getKey', method: 'GET', path: '/api/v1/getKey' })?.end({ status: 404 });
      const span = only();
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('404');
    });

    it('a refresh and a login: INTERNAL spans with the store kind, the outcome and the login method', () => {
      startTrace('refresh', { operation: 'refresh', store: 'keychain' })?.end({ outcome: 'rotated' });
      startTrace('login', { operation: 'login', loginMethod: 'device', store: 'file' })?.fail(meshError('login_access_denied'));
      const [refresh, login] = recorded.exporter.getFinishedSpans();
      expect(refresh?.name).toBe('mesh.refresh');
      expect(refresh?.kind).toBe(SpanKind.INTERNAL);
      expect(refresh?.attributes).toEqual({
        'mesh.operation': 'refresh',
        'mesh.token_store': 'keychain',
        'mesh.refresh.outcome': 'rotated',
      });
      expect(login?.name).toBe('mesh.login');
      expect(login?.attributes).toEqual({
        'mesh.operation': 'login',
        'mesh.login.method': 'device',
        'mesh.token_store': 'file',
        'error.type': 'login_access_denied',
      });
      expect(login?.status.code).toBe(SpanStatusCode.ERROR);
    });
  });

  it('a provider whose tracer throws never fails the operation', () => {
    const broken: Tracer = {
      startSpan: () => {
        throw new Error('exporter down');
      },
      startActiveSpan: (() => {
        throw new Error('exporter down');
      }) as Tracer['startActiveSpan'],
    };
    const provider: TracerProvider = { getTracer: () => broken };
    trace.setGlobalTracerProvider(provider);
    const started = startTrace('request', chat);
    expect(started).toBeDefined();
    expect(() => started?.end({ status: 200 })).not.toThrow();
    expect(() => startTrace('request', chat)?.fail(new Error('x'))).not.toThrow();
  });
});

describe('storeKindOf', () => {
  it("names the SDK's stores by kind, never by path, account or URL", () => {
    expect(storeKindOf(new MemoryStore().describe())).toBe('memory');
    expect(storeKindOf(new FileStore({ directory: '/home/me/.mesh' }).describe())).toBe('file');
    expect(storeKindOf(new EnvStore({ env: {} }).describe())).toBe('env');
    expect(storeKindOf('OS keychain (service mesh-sdk, account default)')).toBe('keychain');
    expect(storeKindOf('redis redis://user:***@10.0.0.1:6379/0 key mesh-sdk:tokens:abc')).toBe('redis');
    expect(storeKindOf('my vault')).toBe('custom');
  });
});
