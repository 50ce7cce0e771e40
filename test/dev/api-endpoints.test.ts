// Contract v2 part A, the API (chat, stored keys, API keys) and its conventions, by raw HTTP
// against the reference backend: every row, its failure columns and ambiguity switches, plus the
// faults a test can inject. Passes in both dialects; a test that needs the deployed dialect
// exactly pins `capabilities: []`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, registeredTokens } from '../helpers/backend-login.js';
import { dataUrlOf, pngBytes } from '../helpers/images.js';
import { type RawCallOptions, rawCall } from '../helpers/raw-call.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
let token: string;
let userId: string;
beforeAll(async () => {
  ({
    userId,
    tokens: { access_token: token },
  } = await registeredTokens(stack, { login: 'carol@example.test' }));
});

const settings = () => stack.backend.settings;

type CallOptions = RawCallOptions;

/** A request as a client makes it by hand; GET and carol's token by default. */
const call = (path: string, options: CallOptions = {}) =>
  rawCall(stack.apiUrl, path, { method: 'GET', credential: token, ...options });

const PYTHON_BODY = { model: 'gpt-4o', provider: 'openai', temperature: null, max_tokens: null, thinking: null };
const chat = (body: unknown, options: CallOptions & { path?: string } = {}) =>
  call(options.path ?? '/v1/mesh/chat', { method: 'POST', body, ...options });
const ask = (content: unknown, path?: string) => chat({ ...PYTHON_BODY, messages: [{ role: 'user', content }] }, { path });
const apiKeyHeaders = (key: string) => ({ authorization: `ApiKey ${key}`, 'x-api-key': key });
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** The `data:` payloads of an SSE body. */
function sseData(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice('data: '.length));
}

describe('chat: POST /v1/mesh/chat and /api/v1/chat/completions', () => {
  it.each(['/v1/mesh/chat', '/api/v1/chat/completions'])('answers on %s in the OpenAI shape, deterministically', async (path) => {
    const { status, json } = await ask('What is 5 + 7?', path);
    expect(status).toBe(200);
    expect(json).toEqual({
      id: expect.any(String),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: '5 + 7 = 12' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
  });

  it('takes content as an array of text and image parts, and null as unset', async () => {
    // Every layout and refusal of images: test/dev/images.test.ts.
    const parts = [
      { type: 'text', text: 'What is 6 * 7?' },
      { type: 'image_url', image_url: { url: dataUrlOf(pngBytes(2, 3), 'image/png'), detail: 'high' } },
    ];
    const { status, json } = await ask(parts);
    expect(status).toBe(200);
    expect((json.choices as Array<{ message: { content: string } }>)[0]?.message.content).toBe(
      'I see 1 image (image/png 2x3). 6 * 7 = 42',
    );
  });

  it('echoes what it cannot compute, keeps the model it was given and honours max_tokens', async () => {
    const { json } = await chat({
      model: 'claude-3-7-sonnet-20250219',
      provider: 'anthropic',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'hello there you' }],
    });
    expect(json.model).toBe('claude-3-7-sonnet-20250219');
    expect((json.choices as Array<{ message: { content: string } }>)[0]?.message.content).toBe('Echo: hello');
  });

  it.each([
    ['no model', { provider: 'openai' }],
    ['no provider', { model: 'gpt-4o' }],
    ['no messages', { model: 'gpt-4o', provider: 'openai', messages: [] }],
    ['a temperature out of range', { ...PYTHON_BODY, temperature: 7 }],
    ['a bad role', { ...PYTHON_BODY, messages: [{ role: 'robot', content: 'x' }] }],
  ])('answers 400 {"error": "<text>"} for %s', async (_name, body) => {
    const { status, json } = await chat({ messages: [{ role: 'user', content: 'x' }], ...body });
    expect(status).toBe(400);
    expect(json.error).toEqual(expect.any(String));
  });

  it('answers 404 to a user not yet registered, and 200 once /auth/profile was called', async () => {
    const fresh = (await loginTokens(stack, { login: 'unregistered@example.test' })).access_token;
    const body = { ...PYTHON_BODY, messages: [{ role: 'user', content: 'What is 1 + 1?' }] };
    expect((await chat(body, { credential: fresh })).status).toBe(404);
    expect((await chat(body, { credential: fresh, path: '/api/v1/chat/completions' })).status).toBe(404);
    expect((await call('/auth/profile', { credential: fresh })).status).toBe(200);
    expect((await chat(body, { credential: fresh })).status).toBe(200);
  });

  it('serves unregistered users when the switch is off', async () => {
    settings().chatRequiresRegistration = false;
    const fresh = (await loginTokens(stack, { login: 'walk-in@example.test' })).access_token;
    expect((await chat({ ...PYTHON_BODY, messages: [{ role: 'user', content: 'hi' }] }, { credential: fresh })).status).toBe(200);
  });

  it.each([
    ['mesh', 200, 404],
    ['completions', 404, 200],
  ] as const)('serves only one path when chatPaths is %s (ambiguity 1)', async (which, mesh, completions) => {
    settings().chatPaths = which;
    expect((await ask('x', '/v1/mesh/chat')).status).toBe(mesh);
    expect((await ask('x', '/api/v1/chat/completions')).status).toBe(completions);
  });

  it('answers {content} or {message: {content}} when so switched (ambiguity 2)', async () => {
    settings().chatReplyShape = 'content';
    expect((await ask('What is 2 + 2?')).json).toMatchObject({ content: '2 + 2 = 4', model: 'gpt-4o' });
    settings().chatReplyShape = 'message';
    expect((await ask('What is 2 + 2?')).json).toEqual({ message: { role: 'assistant', content: '2 + 2 = 4' } });
  });

  it('answers 402 when the account has no credits left', async () => {
    const { tokens } = await registeredTokens(stack, { login: 'broke@example.test' });
    const user = stack.backend.state.users.get(stack.provider.subjectFor('broke@example.test'));
    if (user) user.credits = 0;
    const { status, json } = await chat(
      { ...PYTHON_BODY, messages: [{ role: 'user', content: 'x' }] },
      { credential: tokens.access_token },
    );
    expect(status).toBe(402);
    expect(json.error).toEqual(expect.any(String));
  });

  it('counts chats', async () => {
    const before = stack.backend.counters.chats;
    await ask('x');
    expect(stack.backend.counters.chats).toBe(before + 1);
  });
});

describe('chat streaming (stream: true, /v1/mesh/chat only)', () => {
  const streamBody = { model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'What is 5 + 7?' }] };

  it('streams OpenAI chunks, then a chunk with finish_reason "stop" and usage, then [DONE]', async () => {
    const { status, text, headers } = await chat(streamBody);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
    for (const chunk of chunks)
      expect(chunk).toMatchObject({ id: expect.any(String), object: 'chat.completion.chunk', model: 'gpt-4o' });
    const choices = chunks.map(
      (c) => (c.choices as Array<{ index: number; delta: { content?: string }; finish_reason: string | null }>)[0],
    );
    expect(choices.map((c) => c?.delta.content ?? '').join('')).toBe('5 + 7 = 12');
    expect(choices.at(-1)?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it('refuses stream: true on /api/v1/chat/completions', async () => {
    expect((await chat(streamBody, { path: '/api/v1/chat/completions' })).status).toBe(400);
  });

  it('fails before the stream starts with a plain JSON error, not an event stream', async () => {
    const { status, headers } = await chat({ ...streamBody, model: '' });
    expect(status).toBe(400);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('can cut a stream mid-way: some chunks, no finish_reason, no [DONE]', async () => {
    stack.backend.faults.add({ fault: { kind: 'cutStream', afterDeltas: 2 } });
    const response = await fetch(`${stack.apiUrl}/v1/mesh/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(streamBody),
    });
    expect(response.status).toBe(200);
    let text = '';
    const decoder = new TextDecoder();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
        }
      })(),
    ).rejects.toThrow();
    expect(sseData(text)).toHaveLength(2);
    expect(text).not.toContain('[DONE]');
  });
});

describe('credentials (404 hides routes from strangers)', () => {
  it.each([
    ['none', null],
    ['garbage', 'garbage'],
  ])('answers 404 with %s credentials, or 401 when so switched', async (_name, credential) => {
    expect((await ask('x')).status).toBe(200);
    expect((await call('/api/v1/listKeys?userId=x', { credential })).status).toBe(404);
    settings().authFailureStatus = 401;
    expect((await call('/api/v1/listKeys?userId=x', { credential })).status).toBe(401);
  });

  it('accepts an API key in both headers, or in either one alone', async () => {
    const key = await newApiKey();
    const profile = (headers: Record<string, string>) => call('/auth/profile', { credential: null, headers });
    expect((await profile(apiKeyHeaders(key))).status).toBe(200);
    expect((await profile({ authorization: `ApiKey ${key}` })).status).toBe(200);
    expect((await profile({ 'x-api-key': key })).status).toBe(200);
    expect(
      (
        await chat(
          { ...PYTHON_BODY, messages: [{ role: 'user', content: 'x' }] },
          { credential: null, headers: apiKeyHeaders(key) },
        )
      ).status,
    ).toBe(200);
  });

  it('reads only the headers the deployment reads (ambiguity 7)', async () => {
    const key = await newApiKey();
    const profile = (headers: Record<string, string>) => call('/auth/profile', { credential: null, headers });
    settings().apiKeyHeaders = 'authorization';
    expect((await profile({ 'x-api-key': key })).status).toBe(404);
    expect((await profile(apiKeyHeaders(key))).status).toBe(200);
    settings().apiKeyHeaders = 'x-api-key';
    expect((await profile({ authorization: `ApiKey ${key}` })).status).toBe(404);
    expect((await profile(apiKeyHeaders(key))).status).toBe(200);
  });

  it('refuses a mesh_ key sent as Bearer, and an unknown key', async () => {
    const key = await newApiKey();
    expect((await call('/auth/profile', { credential: key })).status).toBe(404);
    expect((await call('/auth/profile', { credential: null, headers: apiKeyHeaders(`mesh_${'0'.repeat(40)}`) })).status).toBe(
      404,
    );
  });

  it('answers 404 for an expired access token', async () => {
    stack.provider.settings.accessTokenTtl = 1;
    const short = (await loginTokens(stack)).access_token;
    stack.provider.settings.accessTokenTtl = 3600;
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await call('/auth/profile', { credential: short })).status).toBe(404);
  });
});

describe('stored keys: /api/v1/storeKey, getKey, listKeys', () => {
  const store = (name: string, value: string, credential = token, owner = userId) =>
    call('/api/v1/storeKey', {
      method: 'POST',
      body: { userId: owner, keyName: `${owner}_${name}`, keyValue: value },
      credential,
    });
  const getKey = (name: string, owner = userId, credential = token) =>
    call(`/api/v1/getKey?${q({ userId: owner, keyName: `${owner}_${name}` })}`, { credential });

  it('stores a key as <userId>_<name>, reads it back as keyValue, lists it prefixed', async () => {
    const stored = await store('openai', 'sk-test-123');
    expect(stored.status).toBe(200);
    expect(stored.json.success).toBe(true);
    expect((await getKey('openai')).json).toEqual({ success: true, keyValue: 'sk-test-123' });
    const listed = await call(`/api/v1/listKeys?${q({ userId })}`);
    expect(listed.status).toBe(200);
    expect(listed.json.keys).toContain(`${userId}_openai`);
  });

  it('can name the value "key" (ambiguity 5) and list names stripped (ambiguity 6)', async () => {
    await store('anthropic', 'sk-ant');
    settings().getKeyField = 'key';
    expect((await getKey('anthropic')).json).toEqual({ success: true, key: 'sk-ant' });
    settings().listKeysPrefixed = false;
    const listed = (await call(`/api/v1/listKeys?${q({ userId })}`)).json.keys as string[];
    expect(listed).toContain('anthropic');
    expect(listed.some((name) => name.startsWith(`${userId}_`))).toBe(false);
  });

  it('answers a missing key with 404 {"error"}, or 200 {"success": false} when so switched (ambiguity 5)', async () => {
    const missing = await getKey('nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toEqual(expect.any(String));
    settings().missingKeyStatus = 200;
    const soft = await getKey('nothing-here');
    expect(soft.status).toBe(200);
    expect(soft.json).toMatchObject({ success: false, error: expect.any(String) });
  });

  it("answers 403 when userId is not the caller's profile id, and keeps each user's keys apart", async () => {
    const other = await registeredTokens(stack, { login: 'dave@example.test' });
    expect((await store('x', 'v', other.tokens.access_token, userId)).status).toBe(403);
    expect((await getKey('openai', userId, other.tokens.access_token)).status).toBe(403);
    expect((await call(`/api/v1/listKeys?${q({ userId })}`, { credential: other.tokens.access_token })).status).toBe(403);
    expect(
      (await call(`/api/v1/listKeys?${q({ userId: other.userId })}`, { credential: other.tokens.access_token })).json.keys,
    ).toEqual([]);
  });

  it('answers 400 for missing fields', async () => {
    expect((await call('/api/v1/storeKey', { method: 'POST', body: { userId, keyName: `${userId}_x` } })).status).toBe(400);
    expect((await call(`/api/v1/getKey?${q({ userId })}`)).status).toBe(400);
    expect((await call('/api/v1/listKeys')).status).toBe(400);
  });
});

async function newApiKey(body: unknown = { name: 'test' }): Promise<string> {
  const created = await call('/v1/mesh/api-keys', { method: 'POST', body });
  expect(created.status).toBe(200);
  return (created.json.api_key as { api_key: string }).api_key;
}

describe('API keys: POST /v1/mesh/api-keys', () => {
  it('creates a key shown once, {"success": true, "api_key": {api_key, key_id, name, created_at}}; the server keeps only its SHA-256', async () => {
    const created = await call('/v1/mesh/api-keys', { method: 'POST', body: { name: 'ci' } });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      success: true,
      api_key: {
        api_key: expect.stringMatching(/^mesh_/),
        key_id: expect.any(String),
        name: 'ci',
        created_at: expect.any(String),
      },
    });
    const key = (created.json.api_key as { api_key: string }).api_key;
    const kept = JSON.stringify([...stack.backend.state.apiKeys.values()]);
    expect(kept).not.toContain(key);
    expect(kept).toContain((await import('../../dev/backend/state.js')).sha256(key));
  });

  it('issues keys of varied formats, each working', async () => {
    const keys = [await newApiKey(), await newApiKey(), await newApiKey()];
    expect(keys.some((k) => k.startsWith('mesh_pk_'))).toBe(true);
    expect(keys.some((k) => /^mesh_[0-9a-f]{40}$/.test(k))).toBe(true);
    expect(new Set(keys.map((k) => k.length)).size).toBeGreaterThan(1);
    for (const key of keys)
      expect((await call('/auth/profile', { credential: null, headers: apiKeyHeaders(key) })).status).toBe(200);
  });

  it('names a key when no name is given', async () => {
    const created = await call('/v1/mesh/api-keys', { method: 'POST', body: {} });
    expect((created.json.api_key as { name: string }).name).toMatch(/^SDK Generated Key \(/);
  });

  it('can serve /api/v1/api-keys instead, or both (ambiguity 8)', async () => {
    settings().apiKeysPath = 'api';
    expect((await call('/v1/mesh/api-keys', { method: 'POST', body: { name: 'a' } })).status).toBe(404);
    expect((await call('/api/v1/api-keys', { method: 'POST', body: { name: 'a' } })).status).toBe(200);
    settings().apiKeysPath = 'both';
    expect((await call('/v1/mesh/api-keys', { method: 'POST', body: { name: 'a' } })).status).toBe(200);
  });

  it('can answer with api_key as the key string (ambiguity 8)', async () => {
    settings().apiKeyReplyShape = 'string';
    const created = await call('/v1/mesh/api-keys', { method: 'POST', body: { name: 's' } });
    expect(created.json).toEqual({ success: true, api_key: expect.stringMatching(/^mesh_/) });
  });

  it('can hang on creation, as a broken deployment does, until the client gives up', async () => {
    stack.backend.faults.add({ fault: { kind: 'hang' }, match: { method: 'POST', path: '/v1/mesh/api-keys' } });
    const started = Date.now();
    await expect(
      fetch(`${stack.apiUrl}/v1/mesh/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'slow' }),
        signal: AbortSignal.timeout(500),
      }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });
});

describe('the deployed dialect: what is not there', () => {
  it.each([
    ['GET', '/api/v1/keys'],
    ['POST', '/api/v1/keys'],
    ['GET', '/api/v1/keys/x'],
    ['POST', '/api/v1/chat'],
    ['GET', '/v1/mesh/api-keys'],
    ['DELETE', '/api/v1/api-keys/x'],
  ])('has no %s %s (v1 routes)', async (method, path) => {
    expect([404, 405]).toContain((await call(path, { method, body: method === 'GET' ? undefined : {} })).status);
  });

  it('sends no X-Request-Id, X-RateLimit-* or Retry-After, ignores Idempotency-Key, and puts no request_id in errors', async () => {
    settings().capabilities = [];
    const ok = await call(`/api/v1/listKeys?${q({ userId })}`);
    const failed = await call('/nowhere');
    for (const { headers } of [ok, failed]) {
      expect(headers.get('x-request-id')).toBeNull();
      expect(headers.get('x-ratelimit-limit')).toBeNull();
    }
    expect(failed.json).toEqual({ error: expect.any(String) });
    const idem = { 'idempotency-key': `k-${Date.now()}` };
    const first = await call('/v1/mesh/api-keys', { method: 'POST', body: { name: 'twice' }, headers: idem });
    const second = await call('/v1/mesh/api-keys', { method: 'POST', body: { name: 'twice' }, headers: idem });
    expect((second.json.api_key as { key_id: string }).key_id).not.toBe((first.json.api_key as { key_id: string }).key_id);
    settings().rateLimitPerMinute = 0;
    const limited = await call(`/api/v1/listKeys?${q({ userId })}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
  });

  it('writes errors as {"error": {"message"}} when so switched (ambiguity 3)', async () => {
    settings().errorShape = 'object';
    expect((await call('/nowhere')).json).toMatchObject({ error: { message: expect.any(String) } });
  });
});

/** Another origin that records what reaches it (method, path, body) and answers 200 `{}`. */
async function startRecorder() {
  const received: Array<{ method?: string; url?: string; body: string }> = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    received.push({ method: req.method, url: req.url, body });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('faults a test can inject', () => {
  const listKeys = () => call(`/api/v1/listKeys?${q({ userId })}`);

  it('redirects a POST or a GET elsewhere with each redirect status: that status, Location, an empty body', async () => {
    const elsewhere = await startRecorder();
    try {
      const target = `${elsewhere.url}/landed`;
      const chatBody = JSON.stringify({ ...PYTHON_BODY, messages: [{ role: 'user', content: 'What is 2 + 3?' }] });
      const postChat = (redirect: 'manual' | 'follow') =>
        fetch(`${stack.apiUrl}/v1/mesh/chat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: chatBody,
          redirect,
        });
      const chatsBefore = stack.backend.counters.chats;
      for (const status of [301, 302, 303, 307, 308] as const) {
        stack.backend.faults.add({ fault: { kind: 'redirect', status, location: target }, match: { method: 'POST' } });
        const redirected = await postChat('manual');
        expect([redirected.status, redirected.headers.get('location'), await redirected.text()]).toEqual([status, target, '']);
      }
      stack.backend.faults.add({ fault: { kind: 'redirect', status: 302, location: target }, match: { method: 'GET' } });
      const listed = await fetch(`${stack.apiUrl}/api/v1/listKeys?${q({ userId })}`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      });
      expect([listed.status, listed.headers.get('location')]).toEqual([302, target]);
      expect(elsewhere.received).toEqual([]);
      stack.backend.faults.add({ fault: { kind: 'redirect', status: 307, location: target }, match: { method: 'POST' } });
      expect((await postChat('follow')).status).toBe(200);
      expect(elsewhere.received).toEqual([{ method: 'POST', url: '/landed', body: chatBody }]);
      expect(stack.backend.counters.chats).toBe(chatsBefore);
      expect((await postChat('manual')).status).toBe(200);
      expect(stack.backend.counters.chats).toBe(chatsBefore + 1);
    } finally {
      await elsewhere.close();
    }
  });

  it('refuses a redirect fault without a redirect status or a Location over HTTP', async () => {
    const addFault = (fault: unknown) =>
      fetch(`${stack.apiUrl}/__dev/faults`, { method: 'POST', body: JSON.stringify({ fault }) });
    expect((await addFault({ kind: 'redirect', status: 200, location: 'http://127.0.0.1:1/' })).status).toBe(400);
    expect((await addFault({ kind: 'redirect', status: 302 })).status).toBe(400);
    expect((await addFault({ kind: 'redirect', status: 308, location: 'http://127.0.0.1:1/' })).status).toBe(200);
    const redirected = await fetch(`${stack.apiUrl}/auth/config`, { redirect: 'manual' });
    expect([redirected.status, redirected.headers.get('location')]).toEqual([308, 'http://127.0.0.1:1/']);
  });

  it('answers an injected 429 with the Retry-After it was given, seconds or an HTTP date', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 429, retryAfter: '3' } });
    stack.backend.faults.add({ fault: { kind: 'status', status: 429, retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT' } });
    expect((await listKeys()).headers.get('retry-after')).toBe('3');
    expect((await listKeys()).headers.get('retry-after')).toBe('Wed, 21 Oct 2037 07:28:00 GMT');
    expect((await listKeys()).status).toBe(200);
  });

  it('answers a burst of N 5xx, including an HTML 520 page from a proxy, then recovers', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, times: 2 });
    stack.backend.faults.add({ fault: { kind: 'status', status: 520, html: true } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await listKeys()).status);
    expect(statuses).toEqual([503, 503, 520]);
    stack.backend.faults.add({ fault: { kind: 'status', status: 520, html: true } });
    const html = await listKeys();
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toMatch(/^<!DOCTYPE html>/);
    expect((await listKeys()).status).toBe(200);
  });

  it('delays the headers, or the body half-way', async () => {
    stack.backend.faults.add({ fault: { kind: 'slowHeaders', ms: 300 } });
    let started = Date.now();
    expect((await listKeys()).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    stack.backend.faults.add({ fault: { kind: 'slowBody', ms: 300 } });
    started = Date.now();
    const response = await fetch(`${stack.apiUrl}/api/v1/listKeys?${q({ userId })}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const headersAfter = Date.now() - started;
    await response.json();
    expect(headersAfter).toBeLessThan(250);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('drops the connection before the response, or during it', async () => {
    stack.backend.faults.add({ fault: { kind: 'drop', when: 'before' } });
    await expect(listKeys()).rejects.toThrow();
    stack.backend.faults.add({ fault: { kind: 'drop', when: 'during' } });
    const response = await fetch(`${stack.apiUrl}/api/v1/listKeys?${q({ userId })}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('scopes a fault to a method and path, is driven over HTTP from another process, and counts per route', async () => {
    const added = await fetch(`${stack.apiUrl}/__dev/faults`, {
      method: 'POST',
      body: JSON.stringify({ fault: { kind: 'status', status: 502 }, match: { method: 'POST', path: '/api/v1/storeKey' } }),
    });
    expect(added.status).toBe(200);
    expect((await listKeys()).status).toBe(200);
    expect(
      (await call('/api/v1/storeKey', { method: 'POST', body: { userId, keyName: `${userId}_f`, keyValue: 'v' } })).status,
    ).toBe(502);
    const patched = await fetch(`${stack.apiUrl}/__dev/settings`, {
      method: 'POST',
      body: JSON.stringify({ chatReplyShape: 'content' }),
    });
    expect(patched.status).toBe(200);
    expect(settings().chatReplyShape).toBe('content');
    const counters = (await (await fetch(`${stack.apiUrl}/__dev/counters`)).json()) as {
      backend: { requests: Record<string, number> };
      provider: { grants: Record<string, number> };
    };
    expect(counters.backend.requests['GET /api/v1/listKeys']).toBeGreaterThan(0);
    expect(counters.provider.grants.authorization_code).toBeGreaterThan(0);
  });
});
