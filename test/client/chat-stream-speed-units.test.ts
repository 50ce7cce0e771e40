// The chat stream reader as issue 22 made it fast (src/client/chat-stream.ts): an async iterator
// written out, one idle timer for the whole stream, and chunks checked without a copy. Each
// behaviour of the reader it replaced is pinned here on an in-memory body, cut at awkward places;
// the end-to-end ones (a real server, the client) are in mesh-client, fault-matrix and
// hostile-server tests. Speed itself is measured in bench/http.bench.ts, never asserted here.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readChatStream, type StreamBounds } from '../../src/client/chat-stream.js';
import { chatChunkOf } from '../../src/client/replies.js';
import type { ChatStreamResult } from '../../src/client/types.js';
import type { HttpResponse } from '../../src/http/http-client.js';

function responseOf(body: Readable): HttpResponse {
  return {
    status: 200,
    headers: {},
    requestId: 'req_stream',
    json: undefined,
    text: '',
    body: body as never,
    rateLimit: undefined,
    attempts: 1,
  };
}

const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const content = (text: string) => event({ choices: [{ delta: { content: text } }] });

/** `text` as bytes cut every `size` bytes (through multi-byte characters too). */
function bytesIn(text: string, size: number): Buffer[] {
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}

const BOUNDS: StreamBounds = { idleMs: 5_000, maxBytes: 1024 * 1024 };

/** Every delta, then the result; or the error, with the deltas before it. */
async function read(
  body: Readable,
  bounds: StreamBounds = BOUNDS,
): Promise<{ deltas: string[]; result?: ChatStreamResult; error?: unknown }> {
  const deltas: string[] = [];
  const stream = readChatStream(responseOf(body), bounds);
  try {
    for (;;) {
      const step = await stream.next();
      if (step.done) return { deltas, result: step.value };
      deltas.push(step.value);
    }
  } catch (error) {
    return { deltas, error };
  }
}

describe('chunks read without a copy', () => {
  const deltas: unknown[] = [undefined, 3, null, [], {}, { content: 'a' }, { content: null }, { content: 3 }, { role: 'x' }];
  const usages: unknown[] = [undefined, null, 'x', { prompt_tokens: 1, completion_tokens: 2 }, { prompt_tokens: '1' }];
  const events: unknown[] = [null, 1, 'chunk', [], {}, { choices: 'x' }, { choices: [] }, { choices: [1] }, { choices: [null] }];
  for (const delta of deltas) {
    for (const usage of usages) {
      const choice = delta === undefined ? { index: 0 } : { index: 0, delta };
      events.push({ choices: [choice], usage, id: 'c1' }, { usage }, { choices: [choice, { delta: 5 }] });
    }
  }
  // An own `__proto__` key, as JSON.parse makes it, at each level.
  events.push(
    JSON.parse('{"__proto__": {}, "choices": []}'),
    JSON.parse('{"choices": [{"__proto__": {}, "delta": {"content": "a"}}]}'),
    JSON.parse('{"choices": [{"delta": {"__proto__": {}, "content": "a"}}]}'),
  );

  it('chatChunkOf answers a chunk without usage as it is (no copy), and copies only to read a usage', () => {
    let uncopied = 0;
    for (const value of events) {
      const chunk = chatChunkOf(value);
      if (chunk === undefined) continue;
      const usage = (value as { usage?: unknown }).usage;
      expect(chunk === value, JSON.stringify(value)).toBe(usage === undefined);
      if (usage === undefined) uncopied++;
    }
    expect(uncopied).toBeGreaterThan(5);
  });
});

describe('readChatStream', () => {
  it('gives each delta, the whole text and the usage, however the bytes are cut and whatever the line endings', async () => {
    const text = [
      ': keep-alive\n\n',
      event({ choices: [{ delta: { role: 'assistant' } }] }),
      content('Hé'),
      content('llo ✓').replaceAll('\n', '\r\n'),
      content(' 🙂').replaceAll('\n', '\r'),
      'event: ignored\nid: 7\n',
      'data:{"choices":[{"delta":{"content":"!"}}]}\n',
      event({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }),
      'data:[DONE]\n\n',
    ].join('');
    for (const size of [1, 2, 3, 7, 64, 10_000]) {
      const { deltas, result, error } = await read(Readable.from(bytesIn(text, size)));
      expect(error).toBeUndefined();
      expect(deltas).toEqual(['Hé', 'llo ✓', ' 🙂', '!']);
      expect(result).toEqual({ content: 'Héllo ✓ 🙂!', usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 } });
    }
  });

  it('an end marker ended by a lone CR as the very last byte still ends the stream', async () => {
    const { result } = await read(Readable.from(bytesIn(`${content('a')}data: [DONE]\r`, 5)));
    expect(result?.content).toBe('a');
  });

  it('a stream ended without its end marker: StreamInterruptedError with the text that came; a last line cut is dropped', async () => {
    const { deltas, error } = await read(Readable.from([Buffer.from(`${content('a')}${content('b')}data: {"choices":[{"de`)]));
    expect(deltas).toEqual(['a', 'b']);
    expect(error).toMatchObject({ name: 'StreamInterruptedError', code: 'stream_interrupted', partialText: 'ab' });
  });

  it('an error event: the error it means, after the text that came, and the body closed', async () => {
    const body = Readable.from([
      Buffer.from(`${content('a')}${event({ error: { message: 'model overloaded' } })}${content('b')}`),
    ]);
    const { deltas, error } = await read(body);
    expect(deltas).toEqual(['a']);
    expect(error).toMatchObject({ name: expect.stringMatching(/Error$/), status: 200 });
    expect((error as Error).message).toContain('model overloaded');
    expect(body.destroyed).toBe(true);
  });

  it('more than maxBytes: response_too_large, the body closed', async () => {
    const body = Readable.from(bytesIn(content('x'.repeat(100)).repeat(20), 256));
    const { error } = await read(body, { ...BOUNDS, maxBytes: 1000 });
    expect(error).toMatchObject({ code: 'response_too_large' });
    expect(body.destroyed).toBe(true);
  });

  it('break: the body is closed, and nothing more is read', async () => {
    const body = new PassThrough();
    body.write(`${content('a')}${content('b')}`);
    const stream = readChatStream(responseOf(body), BOUNDS);
    expect(await stream.next()).toEqual({ value: 'a', done: false });
    await stream.return?.();
    expect(body.destroyed).toBe(true);
    expect((await stream.next()).done).toBe(true);
  });

  it('an abort with the rest already received: AbortError at the next delta, nothing more handed out', async () => {
    const controller = new AbortController();
    const stream = readChatStream(responseOf(Readable.from([Buffer.from(content('a').repeat(5))])), {
      ...BOUNDS,
      signal: controller.signal,
    });
    expect((await stream.next()).value).toBe('a');
    controller.abort();
    await expect(stream.next()).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' });
  });

  it('no content for idleMs (keep-alives only): stream_idle_timeout with the text that came', async () => {
    const body = new PassThrough();
    body.write(content('Hel'));
    const keepAlive = setInterval(() => body.write(': keep-alive\n\ndata: {}\n\n'), 20);
    const { deltas, error } = await read(body, { ...BOUNDS, idleMs: 150 });
    clearInterval(keepAlive);
    expect(deltas).toEqual(['Hel']);
    expect(error).toMatchObject({ name: 'StreamInterruptedError', code: 'stream_idle_timeout', partialText: 'Hel' });
  });

  it('chunks that carry something (a role) keep the stream alive past idleMs, and the caller holding a delta is not idle time', async () => {
    const body = new PassThrough();
    const stream = readChatStream(responseOf(body), { ...BOUNDS, idleMs: 200 });
    body.write(content('a'));
    expect((await stream.next()).value).toBe('a');
    // The caller holds the delta longer than idleMs while the server sends nothing: its own pace.
    await new Promise((resolve) => setTimeout(resolve, 450));
    const role = setInterval(() => body.write(event({ choices: [{ delta: { role: 'assistant' } }] })), 40);
    setTimeout(() => {
      clearInterval(role);
      body.end(`${content('b')}data: [DONE]\n\n`);
    }, 600);
    expect((await stream.next()).value).toBe('b');
    expect(await stream.next()).toEqual({ value: { content: 'ab', usage: undefined }, done: true });
  });
});
