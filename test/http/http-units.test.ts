import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/http/circuit-breaker.js';
import { parseRetryAfter } from '../../src/http/retry-after.js';
import { isRetryableError, isRetryableStatus, RETRY_DEFAULTS, retryDelayMs } from '../../src/http/retry-policy.js';
import { readDataLines, readSseData } from '../../src/http/sse.js';

describe('Retry-After', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  it.each([
    ['3', 3],
    ['0', 0],
    ['1.5', 2],
    ['Mon, 23 Nov 2026 12:00:10 GMT', 10],
    ['Mon, 23 Nov 2026 11:00:00 GMT', 0],
    [undefined, undefined],
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
  ])('reads %o as %o seconds', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('retry policy', () => {
  it('retries 408, 429, 500, 502, 503, 504 and 520-524, and nothing else', () => {
    const retryable = [408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524];
    for (let status = 200; status < 600; status++) expect(isRetryableStatus(status)).toBe(retryable.includes(status));
  });

  it('retries a plain POST (no Idempotency-Key) only after a 429, which refuses before processing', () => {
    for (let status = 200; status < 600; status++) expect(isRetryableStatus(status, { idempotent: false })).toBe(status === 429);
  });

  it('retries a refused connection always, a reset or timeout only when idempotent', () => {
    const wrap = (code: string) => ({ code: 'network_error', cause: { code } });
    expect(isRetryableError(wrap('ECONNREFUSED'), { idempotent: false })).toBe(true);
    expect(isRetryableError(wrap('ECONNRESET'), { idempotent: false })).toBe(false);
    expect(isRetryableError(wrap('ECONNRESET'), { idempotent: true })).toBe(true);
    expect(isRetryableError({ code: 'timeout' }, { idempotent: true })).toBe(true);
    expect(isRetryableError({ code: 'timeout' }, { idempotent: false })).toBe(false);
    expect(isRetryableError(new Error('boom'), { idempotent: true })).toBe(false);
  });

  it('backs off exponentially with full jitter, capped; honours Retry-After up to 60 s, and none past it', () => {
    expect(retryDelayMs(1, undefined, () => 0.999)).toBe(499);
    expect(retryDelayMs(2, undefined, () => 0.999)).toBe(999);
    expect(retryDelayMs(10, undefined, () => 0.999)).toBe(RETRY_DEFAULTS.maxDelayMs - 8);
    expect(retryDelayMs(3, undefined, () => 0)).toBe(0);
    expect(retryDelayMs(1, 7)).toBe(7000);
    expect(retryDelayMs(1, 60)).toBe(60_000);
    // A server asking for more than the SDK waits by itself gets no retry: the caller hears how long it asked.
    expect(retryDelayMs(1, 61)).toBeUndefined();
    expect(retryDelayMs(1, 1_000_000_000)).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures, lets one probe through after the cool-down, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 2; i++) breaker.failure('o');
    expect(breaker.blockedFor('o')).toBe(0);
    breaker.failure('o');
    expect(breaker.blockedFor('o')).toBe(1000);
    now = 1000;
    expect(breaker.blockedFor('o')).toBe(0); // the probe
    expect(breaker.blockedFor('o')).toBe(1000); // only one: the others wait a cool-down
    breaker.success('o');
    expect(breaker.blockedFor('o')).toBe(0);
    expect(breaker.blockedFor('other')).toBe(0);
  });

  it('opens again when the probe fails', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 100, now: () => now });
    breaker.failure('o');
    now = 100;
    expect(breaker.blockedFor('o')).toBe(0);
    breaker.failure('o');
    expect(breaker.blockedFor('o')).toBe(100);
  });
});

async function collect(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  async function* source() {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  for await (const data of readSseData(source())) out.push(data);
  return out;
}

describe('SSE reader', () => {
  it('yields data of complete events, across chunk boundaries and line endings', async () => {
    expect(await collect(['data: {"delta":"a"}\n\n', 'data: x', 'y\r\n\r', '\ndata: [DONE]\n\n'])).toEqual([
      '{"delta":"a"}',
      'xy',
      '[DONE]',
    ]);
  });

  it('joins multi-line data, ignores comments and other fields, drops an unfinished event', async () => {
    expect(await collect([': keep-alive\n', 'event: message\nid: 1\ndata: one\ndata:two\n\n', 'data: cut'])).toEqual([
      'one\ntwo',
    ]);
  });

  it('regression: an event ended by CR line endings at the very end of the stream is not dropped', async () => {
    expect(await collect(['data: last\r\r'])).toEqual(['last']);
    expect(await collect(['data: a\r', '\r'])).toEqual(['a']);
  });

  it('handles multi-byte characters split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo ✓\n\n');
    async function* source() {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    const out: string[] = [];
    for await (const data of readSseData(source())) out.push(data);
    expect(out).toEqual(['héllo ✓']);
  });
});

async function dataLines(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  async function* source() {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  for await (const data of readDataLines(source())) out.push(data);
  return out;
}

describe('data-line reader (chat streams)', () => {
  it('yields every data line, with or without blank lines between, split anywhere, skipping other lines', async () => {
    expect(
      await dataLines(['data: {"a":1}\n', 'data: {"b"', ':2}\r\n\r\n: keep-alive\nevent: x\nid: 3\nstray\n', 'data:[DONE]\n']),
    ).toEqual(['{"a":1}', '{"b":2}', '[DONE]']);
  });

  it('drops a last line cut before its ending, and reads multi-byte characters split between chunks', async () => {
    expect(await dataLines(['data: whole\n', 'data: {"cut'])).toEqual(['whole']);
    const bytes = new TextEncoder().encode('data: héllo ✓\n');
    const out: string[] = [];
    async function* source() {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    for await (const data of readDataLines(source())) out.push(data);
    expect(out).toEqual(['héllo ✓']);
  });
});
