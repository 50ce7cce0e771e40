// The request traces against the real local stack (issue 22, goal 4): one `mesh-sdk:request`
// trace and one OpenTelemetry span per API call (retries included), a chat as a GenAI chat span,
// other calls with HTTP attributes and no query string, a failure with error.type the MeshError
// code; never a token, key, body or query in a message or a span.
// The refresh and login traces: test/diagnostics/traces.test.ts. The module: test/internal/tracing.test.ts.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import type { MeshError } from '../../src/errors/mesh-error.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';
import { type ChannelRecorder, recordChannel, spanText, useSpans } from '../helpers/traces.js';

const stack = useStack();
const otel = useSpans();

let recorder: ChannelRecorder | undefined;
afterEach(() => {
  recorder?.stop();
  recorder = undefined;
  stack.backend.reset();
});

const PROMPT = 'What is 5 + 7?';
const host = () => new URL(stack.apiUrl).hostname;

function oneSpan(name: string): ReadableSpan {
  const spans = otel.spans(name);
  expect(spans.map((span) => span.name)).toEqual([name]);
  return spans[0] as ReadableSpan;
}

/** The messages of the operation `operation` (other calls, e.g. /auth/profile, may be traced too). */
function messagesOf(operation: string) {
  return (recorder as ChannelRecorder).events.filter((e) => e.message.operation === operation);
}

function expectNoSecret(texts: string[], secrets: Array<string | undefined>): void {
  const known = secrets.filter((s): s is string => !!s);
  expect(known.length).toBeGreaterThan(0);
  for (const text of texts) for (const secret of known) expect(text).not.toContain(secret);
}

describe('request traces', () => {
  it('a chat: one CLIENT span `chat <model>` with the GenAI attributes and the usage; the channel says the same, with no prompt or token', async () => {
    const { client, tokens } = await clientWithTokens(stack);
    recorder = recordChannel('request');
    const reply = await client.chat(PROMPT, { model: 'gpt-4o', temperature: 0.3, maxTokens: 50 });
    expect(reply.usage).toBeDefined();

    const span = oneSpan('chat gpt-4o');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.model': reply.model,
      'gen_ai.response.id': reply.id,
      'gen_ai.usage.input_tokens': reply.usage?.promptTokens,
      'gen_ai.usage.output_tokens': reply.usage?.completionTokens,
      'http.request.method': 'POST',
      'url.path': '/v1/mesh/chat',
      'http.response.status_code': 200,
      'server.address': host(),
    });

    const chat = messagesOf('chat');
    expect(chat.map((e) => e.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(chat.at(-1)?.message).toMatchObject({
      kind: 'request',
      operation: 'chat',
      method: 'POST',
      path: '/v1/mesh/chat',
      serverAddress: host(),
      model: 'gpt-4o',
      provider: 'openai',
      temperature: 0.3,
      maxTokens: 50,
      status: 200,
      responseModel: reply.model,
      responseId: reply.id,
      inputTokens: reply.usage?.promptTokens,
      outputTokens: reply.usage?.completionTokens,
      durationMs: expect.any(Number),
    });
    const texts = [JSON.stringify(recorder.events.map((e) => e.message)), ...otel.spans().map(spanText)];
    expectNoSecret(texts, [tokens.access_token, tokens.refresh_token, PROMPT, reply.content]);
  });

  it('a stream: its span lasts until the stream ends and carries the usage of the last chunk; the channel ends then too', async () => {
    const { client, tokens } = await clientWithTokens(stack);
    await client.listKeys();
    recorder = recordChannel('request');
    const stream = client.chatStream(PROMPT, { model: 'gpt-4o' });
    const first = await stream.next();
    expect(first.done).toBe(false);
    // Headers and a first delta in: the call is still going, nothing has ended.
    expect(otel.spans('chat gpt-4o')).toEqual([]);
    expect(messagesOf('chat').map((e) => e.event)).toEqual(['start', 'end']);
    let result = await stream.next();
    while (!result.done) result = await stream.next();
    const { usage } = result.value;
    expect(usage).toBeDefined();

    const span = oneSpan('chat gpt-4o');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': usage?.promptTokens,
      'gen_ai.usage.output_tokens': usage?.completionTokens,
      'http.response.status_code': 200,
    });
    const chat = messagesOf('chat');
    expect(chat.map((e) => e.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(chat.at(-1)?.message).toMatchObject({ status: 200, inputTokens: usage?.promptTokens, durationMs: expect.any(Number) });
    const texts = [JSON.stringify(recorder.events.map((e) => e.message)), spanText(span)];
    expectNoSecret(texts, [tokens.access_token, PROMPT, result.value.content]);
  });

  it('a stream left early ends its span without an error; a stream cut mid-way fails it with stream_interrupted', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    for await (const _ of client.chatStream('one two three', { model: 'gpt-4o' })) break;
    expect(oneSpan('chat gpt-4o').status.code).toBe(SpanStatusCode.UNSET);
    otel.exporter.reset();

    stack.backend.faults.add({ fault: { kind: 'cutStream', afterDeltas: 2 }, match: { path: '/v1/mesh/chat' } });
    const error = await (async () => {
      for await (const _ of client.chatStream('a b c d e f', { model: 'gpt-4o' })) {
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'stream_interrupted' });
    const span = oneSpan('chat gpt-4o');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('stream_interrupted');
  });

  it('listKeys: a `mesh.listKeys` span with the HTTP attributes, the path without its query, no user id anywhere', async () => {
    const { client, tokens } = await clientWithTokens(stack);
    const profile = await client.profile();
    recorder = recordChannel('request');
    await client.listKeys();

    const span = oneSpan('mesh.listKeys');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toMatchObject({
      'mesh.operation': 'listKeys',
      'http.request.method': 'GET',
      'url.path': '/api/v1/listKeys',
      'http.response.status_code': 200,
      'server.address': host(),
    });
    expect(span.attributes).not.toHaveProperty('gen_ai.operation.name');
    const listKeys = messagesOf('listKeys');
    expect(listKeys.map((e) => e.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(listKeys.at(-1)?.message).toMatchObject({ method: 'GET', path: '/api/v1/listKeys', status: 200 });
    const texts = [JSON.stringify(recorder.events.map((e) => e.message)), spanText(span)];
    for (const text of texts) expect(text).not.toContain('?');
    expectNoSecret(texts, [tokens.access_token, profile.id]);
  });

  it('a call retried after a 503: still one span, with the attempts', async () => {
    const { client } = await clientWithTokens(stack);
    await client.profile();
    stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, match: { path: '/api/v1/listKeys' } });
    await client.listKeys();
    const span = oneSpan('mesh.listKeys');
    expect(span.attributes).toMatchObject({
      'mesh.request.attempts': 2,
      'http.request.resend_count': 1,
      'http.response.status_code': 200,
    });
  });

  it('a failing chat: an error span and error event whose error.type is the MeshError code, the exception recorded', async () => {
    const { client, tokens } = await clientWithTokens(stack);
    await client.profile();
    for (const path of ['/v1/mesh/chat', '/api/v1/chat/completions']) {
      stack.backend.faults.add({ fault: { kind: 'status', status: 400 }, match: { path }, times: 5 });
    }
    recorder = recordChannel('request');
    const error = (await client.chat(PROMPT, { model: 'gpt-4o' }).catch((e: unknown) => e)) as MeshError;
    expect(error.code).toEqual(expect.any(String));

    const span = oneSpan('chat gpt-4o');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe(error.code);
    expect(span.attributes['http.response.status_code']).toBe(400);
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(span.events[0]?.attributes?.['exception.type']).toBe(error.code);

    const chat = messagesOf('chat');
    expect(chat.map((e) => e.event)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(chat.at(-1)?.message).toMatchObject({ errorType: error.code, status: 400, error: { code: error.code } });
    expectNoSecret([JSON.stringify(recorder.events.map((e) => e.message)), spanText(span)], [tokens.access_token, PROMPT]);
  });
});
