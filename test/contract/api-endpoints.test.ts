// The contract's API endpoints and conventions, success and every failure column, against the
// reference backend. The executable form of backend-contract.md "API endpoints" and "Conventions".
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BACKEND_SETTINGS } from '../../dev/backend/server.js';
import { type Stack, startStack } from '../../dev/stack.js';
import { decodeJwtPayload, loginTokens } from '../helpers/backend-login.js';

let stack: Stack;
let token: string;
let sub: string;
beforeAll(async () => {
  stack = await startStack();
  token = (await loginTokens(stack, { login: 'carol@example.test' })).access_token;
  sub = decodeJwtPayload(token).sub as string;
});
afterAll(() => stack.close());
afterEach(() => {
  Object.assign(stack.backend.settings, DEFAULT_BACKEND_SETTINGS);
  stack.backend.faults.clear();
});

interface CallOptions {
  method?: string;
  body?: unknown;
  credential?: string | null;
  headers?: Record<string, string>;
}

async function call(path: string, { method = 'GET', body, credential = token, headers = {} }: CallOptions = {}) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: response.status, json, text, headers: response.headers };
}

const chat = (body: unknown, options: CallOptions = {}) => call('/api/v1/chat', { method: 'POST', body, ...options });
const ask = (content: string) => chat({ messages: [{ role: 'user', content }] });

/** Parses an SSE body into its data payloads. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}

describe('POST /api/v1/chat', () => {
  it('answers simple arithmetic deterministically, with id, model, provider and usage', async () => {
    const { status, json, headers } = await ask('What is 5 + 7?');
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.stringMatching(/^chat_/),
      content: '5 + 7 = 12',
      model: expect.any(String),
      provider: expect.any(String),
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    });
    expect(headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('echoes other messages, and accepts the legacy single-message form', async () => {
    expect((await ask('Hello, world!')).json.content).toBe('Echo: Hello, world!');
    expect((await chat({ message: 'legacy hello' })).json.content).toBe('Echo: legacy hello');
  });

  it('takes model, provider, temperature and max_tokens', async () => {
    const { json } = await chat({
      messages: [{ role: 'user', content: 'one two three four' }],
      model: 'gpt-4o',
      temperature: 0.2,
      max_tokens: 2,
    });
    expect(json).toMatchObject({ model: 'gpt-4o', provider: 'openai', content: 'Echo: one' });
    expect(
      (await chat({ messages: [{ role: 'user', content: 'x' }], model: 'claude-sonnet', provider: 'anthropic' })).json.provider,
    ).toBe('anthropic');
  });

  it.each([
    ['no messages', {}],
    ['an empty message list', { messages: [] }],
    ['an unknown role', { messages: [{ role: 'robot', content: 'x' }] }],
    ['a content that is not text', { messages: [{ role: 'user', content: 5 }] }],
    ['a temperature above 2', { messages: [{ role: 'user', content: 'x' }], temperature: 3 }],
    ['a max_tokens of 0', { messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }],
  ])('answers 400 invalid_request for %s', async (_name, body) => {
    const { status, json, headers } = await chat(body);
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_request', message: expect.any(String), request_id: headers.get('x-request-id') });
  });

  it('answers 402 insufficient_credits when the account has none left', async () => {
    const user = stack.backend.state.user(sub);
    const credits = user.credits;
    user.credits = 0;
    try {
      const { status, json } = await ask('hi');
      expect([status, json.error]).toEqual([402, 'insufficient_credits']);
    } finally {
      user.credits = credits;
    }
  });

  it('streams deltas as SSE, then done with usage, then [DONE]', async () => {
    const { status, text, headers } = await chat({ messages: [{ role: 'user', content: 'What is 6 * 7?' }], stream: true });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = sseData(text);
    expect(events.at(-1)).toBe('[DONE]');
    const parsed = events.slice(0, -1).map((data) => JSON.parse(data) as Record<string, unknown>);
    const done = parsed.at(-1) as Record<string, unknown>;
    expect(done).toMatchObject({ done: true, usage: { completion_tokens: 5 } });
    expect(
      parsed
        .slice(0, -1)
        .map((event) => event.delta)
        .join(''),
    ).toBe('6 * 7 = 42');
  });

  it('fails before the stream starts with a plain JSON error, not an event stream', async () => {
    const { status, headers, json } = await chat(
      { messages: [{ role: 'user', content: 'x' }], stream: true },
      { credential: null },
    );
    expect(status).toBe(404);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.error).toBe('not_found');
  });

  it('can cut a stream mid-way: some deltas, no done event, no [DONE]', async () => {
    stack.backend.faults.add({ fault: { kind: 'cutStream', afterDeltas: 2 }, match: { path: '/api/v1/chat' } });
    const response = await fetch(`${stack.apiUrl}/api/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'a b c d e f' }], stream: true }),
    });
    expect(response.status).toBe(200);
    let received = '';
    const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += value;
        }
      })(),
    ).rejects.toThrow();
    expect(sseData(received).map((data) => JSON.parse(data).delta)).toEqual(['Echo: ', 'a ']);
  });
});

describe('authentication on /api/v1 (404 hides routes from strangers)', () => {
  it.each([
    ['no credential', null],
    ['a garbage credential', 'garbage'],
    ['an unknown API key', `mesh_${'B'.repeat(43)}`],
  ])('answers 404 not_found for %s, indistinguishable from a missing route', async (_name, credential) => {
    const unauthenticated = await call('/api/v1/keys', { credential });
    const missingRoute = await call('/api/v1/no-such-route', { credential: token });
    expect(unauthenticated.status).toBe(404);
    expect(unauthenticated.json.error).toBe(missingRoute.json.error);
    expect(unauthenticated.json.message).toBe(missingRoute.json.message);
  });

  it('answers 404 for an expired access token', async () => {
    stack.provider.settings.accessTokenTtl = 1;
    try {
      const shortLived = (await loginTokens(stack)).access_token;
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await call('/api/v1/keys', { credential: shortLived })).status).toBe(404);
    } finally {
      stack.provider.settings.accessTokenTtl = 3600;
    }
  });

  it('answers 401 instead when the deployment is so configured', async () => {
    stack.backend.settings.authFailureStatus = 401;
    const { status, json } = await call('/api/v1/keys', { credential: null });
    expect([status, json.error]).toEqual([401, 'unauthorized']);
  });
});

describe('keys', () => {
  it('stores, lists, reads and deletes a key', async () => {
    expect(
      (await call('/api/v1/keys', { method: 'POST', body: { key_name: 'openai_key', key_value: 'sk-test-1' } })).json,
    ).toEqual({ success: true });
    expect((await call('/api/v1/keys')).json).toEqual({ keys: expect.arrayContaining(['openai_key']) });
    expect((await call('/api/v1/keys/openai_key')).json).toEqual({ key_name: 'openai_key', key_value: 'sk-test-1' });
    expect((await call('/api/v1/keys/openai_key', { method: 'DELETE' })).json).toEqual({ success: true });
    expect((await call('/api/v1/keys')).json.keys).not.toContain('openai_key');
  });

  it("keeps each user's keys apart", async () => {
    await call('/api/v1/keys', { method: 'POST', body: { key_name: 'private', key_value: 'v' } });
    const other = (await loginTokens(stack, { login: 'eve@example.test' })).access_token;
    expect((await call('/api/v1/keys', { credential: other })).json.keys).toEqual([]);
    expect((await call('/api/v1/keys/private', { credential: other })).status).toBe(404);
  });

  it.each([
    ['an empty name', { key_name: '', key_value: 'v' }],
    ['a name over 128 characters', { key_name: 'k'.repeat(129), key_value: 'v' }],
    ['a name with a slash', { key_name: 'a/b', key_value: 'v' }],
    ['a name with a space', { key_name: 'a b', key_value: 'v' }],
    ['an empty value', { key_name: 'ok', key_value: '' }],
  ])('answers 400 invalid_request for %s', async (_name, body) => {
    const { status, json } = await call('/api/v1/keys', { method: 'POST', body });
    expect([status, json.error]).toEqual([400, 'invalid_request']);
  });

  it('answers 404 not_found for a key that does not exist, on read and delete', async () => {
    expect((await call('/api/v1/keys/nope')).json.error).toBe('not_found');
    expect((await call('/api/v1/keys/nope', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('API keys', () => {
  it('creates a key shown once (the server keeps only its SHA-256), lists it, accepts it, revokes it', async () => {
    const created = await call('/api/v1/api-keys', { method: 'POST', body: { name: 'render-prod' } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.any(String),
      name: 'render-prod',
      key: expect.stringMatching(/^mesh_[A-Za-z0-9_-]{43}$/),
      created_at: expect.any(String),
    });
    const key = created.json.key as string;
    const stored = JSON.stringify([...stack.backend.state.apiKeys.values()]);
    expect(stored).not.toContain(key);

    const listed = await call('/api/v1/api-keys');
    expect(listed.json.api_keys).toContainEqual({
      id: created.json.id,
      name: 'render-prod',
      created_at: created.json.created_at,
      last_used_at: null,
    });

    expect((await call('/api/v1/keys', { credential: key })).status).toBe(200);
    const used = ((await call('/api/v1/api-keys')).json.api_keys as Array<Record<string, unknown>>).find(
      (k) => k.id === created.json.id,
    );
    expect(used?.last_used_at).toEqual(expect.any(String));

    expect((await call(`/api/v1/api-keys/${created.json.id}`, { method: 'DELETE' })).json).toEqual({ success: true });
    expect((await call('/api/v1/keys', { credential: key })).status).toBe(404);
    expect((await call(`/api/v1/api-keys/${created.json.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 400 for a missing name', async () => {
    expect((await call('/api/v1/api-keys', { method: 'POST', body: {} })).status).toBe(400);
  });

  it('can hang on creation, as a broken deployment does, until the client gives up', async () => {
    stack.backend.faults.add({ fault: { kind: 'hang' }, match: { method: 'POST', path: '/api/v1/api-keys' } });
    const started = Date.now();
    await expect(
      fetch(`${stack.apiUrl}/api/v1/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'slow' }),
        signal: AbortSignal.timeout(500),
      }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });
});

describe('conventions', () => {
  it('puts X-Request-Id on every response and repeats it as request_id in errors', async () => {
    const ok = await call('/api/v1/keys');
    const failed = await call('/api/v1/keys/missing');
    expect(ok.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
    expect(failed.json.request_id).toBe(failed.headers.get('x-request-id'));
    expect(ok.headers.get('x-request-id')).not.toBe(failed.headers.get('x-request-id'));
  });

  it('puts X-Request-Id on auth endpoints, unknown routes and injected faults too', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 520, html: true }, match: { path: '/api/v1/keys' } });
    const responses = await Promise.all([
      fetch(`${stack.apiUrl}/auth/config`),
      fetch(`${stack.apiUrl}/auth/validate`),
      fetch(`${stack.apiUrl}/nowhere`),
      fetch(`${stack.apiUrl}/api/v1/keys`, { headers: { authorization: `Bearer ${token}` } }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 401, 404, 520]);
    for (const response of responses) expect(response.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('puts X-RateLimit-Limit/Remaining/Reset on every /api/v1 response', async () => {
    const first = await call('/api/v1/keys');
    const second = await call('/api/v1/keys');
    expect(Number(first.headers.get('x-ratelimit-limit'))).toBe(1000);
    expect(Number(second.headers.get('x-ratelimit-remaining'))).toBe(Number(first.headers.get('x-ratelimit-remaining')) - 1);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
  });

  it('answers 429 with Retry-After when over the limit', async () => {
    const limited = (await loginTokens(stack, { login: 'limited@example.test' })).access_token;
    stack.backend.settings.rateLimitPerMinute = 2;
    await call('/api/v1/keys', { credential: limited });
    await call('/api/v1/keys', { credential: limited });
    const third = await call('/api/v1/keys', { credential: limited });
    expect([third.status, third.json.error]).toEqual([429, 'rate_limited']);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');
  });

  it('replays the first answer for a repeated Idempotency-Key, processing the POST once', async () => {
    const headers = { 'idempotency-key': `idem-${Date.now()}` };
    const first = await call('/api/v1/api-keys', { method: 'POST', body: { name: 'once' }, headers });
    const second = await call('/api/v1/api-keys', { method: 'POST', body: { name: 'once' }, headers });
    expect(second.status).toBe(201);
    expect(second.json.id).toBe(first.json.id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const named = ((await call('/api/v1/api-keys')).json.api_keys as Array<{ name: string }>).filter((k) => k.name === 'once');
    expect(named).toHaveLength(1);
  });
});

describe('faults a test can inject', () => {
  it('answers an injected 429 with Retry-After as seconds or an HTTP date', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 429, retryAfter: '3' } });
    stack.backend.faults.add({ fault: { kind: 'status', status: 429, retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT' } });
    expect((await call('/api/v1/keys')).headers.get('retry-after')).toBe('3');
    expect((await call('/api/v1/keys')).headers.get('retry-after')).toBe('Wed, 21 Oct 2037 07:28:00 GMT');
    expect((await call('/api/v1/keys')).status).toBe(200);
  });

  it('answers a burst of N 5xx, including an HTML 520 page from a proxy, then recovers', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, times: 2 });
    stack.backend.faults.add({ fault: { kind: 'status', status: 520, html: true } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call('/api/v1/keys')).status);
    expect(statuses).toEqual([503, 503, 520]);
    stack.backend.faults.add({ fault: { kind: 'status', status: 520, html: true } });
    const html = await call('/api/v1/keys');
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toMatch(/^<!DOCTYPE html>/);
    expect((await call('/api/v1/keys')).status).toBe(200);
  });

  it('delays the headers, or the body half-way', async () => {
    stack.backend.faults.add({ fault: { kind: 'slowHeaders', ms: 300 } });
    let started = Date.now();
    expect((await call('/api/v1/keys')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    stack.backend.faults.add({ fault: { kind: 'slowBody', ms: 300 } });
    started = Date.now();
    const response = await fetch(`${stack.apiUrl}/api/v1/keys`, { headers: { authorization: `Bearer ${token}` } });
    const headersAfter = Date.now() - started;
    await response.json();
    expect(headersAfter).toBeLessThan(250);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops the connection before the response, or during it', async () => {
    stack.backend.faults.add({ fault: { kind: 'drop', when: 'before' } });
    await expect(call('/api/v1/keys')).rejects.toThrow();
    stack.backend.faults.add({ fault: { kind: 'drop', when: 'during' } });
    const response = await fetch(`${stack.apiUrl}/api/v1/keys`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('scopes a fault to a method and path, and can be driven over HTTP from another process', async () => {
    const added = await fetch(`${stack.apiUrl}/__dev/faults`, {
      method: 'POST',
      body: JSON.stringify({ fault: { kind: 'status', status: 502 }, match: { method: 'DELETE', path: '/api/v1/keys/' } }),
    });
    expect(added.status).toBe(200);
    expect((await call('/api/v1/keys')).status).toBe(200);
    expect((await call('/api/v1/keys/x', { method: 'DELETE' })).status).toBe(502);
    const counters = (await (await fetch(`${stack.apiUrl}/__dev/counters`)).json()) as {
      backend: { requests: Record<string, number> };
      provider: { grants: Record<string, number> };
    };
    expect(counters.backend.requests['GET /api/v1/keys']).toBeGreaterThan(0);
    expect(counters.provider.grants.authorization_code).toBeGreaterThan(0);
  });
});
