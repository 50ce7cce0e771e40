// The MeshClient API against the reference backend: every method, every auth mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../dev/stack.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { NotFoundError, ReauthenticationRequiredError } from '../../src/errors/mesh-error.js';
import { postJson } from '../helpers/backend-login.js';
import { clientWithTokens } from '../helpers/client.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('MeshClient', () => {
  it('chats, with a string or messages, and returns content, model, provider, usage, id, request id and rate limits', async () => {
    const { client } = await clientWithTokens(stack);
    const reply = await client.chat('What is 5 + 7?');
    expect(reply).toMatchObject({
      content: '5 + 7 = 12',
      id: expect.stringMatching(/^chat_/),
      model: expect.any(String),
      provider: expect.any(String),
      usage: { promptTokens: 5, completionTokens: 5, totalTokens: 10 },
      requestId: expect.stringMatching(/^req_/),
      rateLimit: { limit: 1000, remaining: expect.any(Number), reset: expect.any(Number) },
    });
    const withOptions = await client.chat(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'one two three' },
      ],
      {
        model: 'gpt-4o',
        temperature: 0,
        maxTokens: 2,
      },
    );
    expect(withOptions).toMatchObject({ content: 'Echo: one', model: 'gpt-4o', provider: 'openai' });
    expect(client.rateLimit?.limit).toBe(1000);
  });

  it('streams text deltas that add up to the reply, and returns the usage at the end', async () => {
    const { client } = await clientWithTokens(stack);
    const deltas: string[] = [];
    const stream = client.chatStream('What is 6 * 7?');
    let next = await stream.next();
    while (!next.done) {
      deltas.push(next.value);
      next = await stream.next();
    }
    expect(deltas.join('')).toBe('6 * 7 = 42');
    expect(deltas.length).toBeGreaterThan(1);
    expect(next.value).toEqual({ content: '6 * 7 = 42', usage: { promptTokens: 5, completionTokens: 5, totalTokens: 10 } });
  });

  it('stores, lists, reads and deletes keys; a missing key is NotFoundError', async () => {
    const { client } = await clientWithTokens(stack, { login: 'keys@example.test' });
    await client.storeKey('openai_key', 'sk-test-123');
    expect(await client.listKeys()).toEqual(['openai_key']);
    expect(await client.getKey('openai_key')).toBe('sk-test-123');
    await client.deleteKey('openai_key');
    expect(await client.listKeys()).toEqual([]);
    await expect(client.getKey('openai_key')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.deleteKey('openai_key')).rejects.toMatchObject({ code: 'not_found', status: 404 });
  });

  it('creates, lists and revokes API keys', async () => {
    const { client } = await clientWithTokens(stack);
    const created = await client.generateApiKey('ci');
    expect(created).toEqual({
      id: expect.any(String),
      name: 'ci',
      key: expect.stringMatching(/^mesh_/),
      createdAt: expect.any(String),
    });
    expect(await client.listApiKeys()).toContainEqual({
      id: created.id,
      name: 'ci',
      createdAt: created.createdAt,
      lastUsedAt: null,
    });
    await client.revokeApiKey(created.id);
    await expect(client.revokeApiKey(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads the profile, and registers the user through /auth/profile once, on the first call', async () => {
    const { client } = await clientWithTokens(stack, { login: 'newcomer@example.test' });
    const before = stack.backend.counters.profiles;
    await Promise.all([client.listKeys(), client.listKeys(), client.chat('hi')]);
    await client.listKeys();
    expect(stack.backend.counters.profiles).toBe(before + 1);
    expect(await client.profile()).toMatchObject({ email: 'newcomer@example.test', credits: expect.any(Number) });
  });

  it('validates its token, saying which source answered', async () => {
    const { client } = await clientWithTokens(stack);
    expect(await client.validateToken()).toMatchObject({ valid: true, source: 'backend' });
    stack.backend.settings.validateEndpoint = false;
    try {
      expect(await client.validateToken()).toMatchObject({ valid: true, source: 'local' });
    } finally {
      stack.backend.settings.validateEndpoint = true;
    }
  });

  it('logs out: the store is cleared and the next call needs a login', async () => {
    const { client } = await clientWithTokens(stack);
    expect(client.describeTokenStore()).toMatch(/^file /);
    await client.listKeys();
    await client.logout();
    await expect(client.listKeys()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
  });
});

describe('auth modes', () => {
  it('works with an API key alone: no login, no refresh, no token store', async () => {
    const { client: owner } = await clientWithTokens(stack, { login: 'apikey-owner@example.test' });
    const { key } = await owner.generateApiKey('server');
    const before = stack.backend.counters.refreshes;
    const client = new MeshClient({ env: { ...stack.env, MESH_API_KEY: key } });
    expect((await client.chat('What is 2 + 2?')).content).toBe('2 + 2 = 4');
    expect(await client.listKeys()).toEqual([]);
    expect(stack.backend.counters.refreshes).toBe(before);
    expect(client.describeTokenStore()).toMatch(/none/);
  });

  it('says what to do when the API key is revoked', async () => {
    const { client: owner } = await clientWithTokens(stack);
    const created = await owner.generateApiKey('doomed');
    await owner.revokeApiKey(created.id);
    const client = new MeshClient({ env: { ...stack.env }, apiKey: created.key });
    const error = await client.listKeys().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AuthenticationError', code: 'authentication_failed' });
    expect((error as { hint: string }).hint).toMatch(/revoked.*MESH_API_KEY/);
  });

  it('accepts the deprecated authToken option, with one DeprecationWarning carrying a code', async () => {
    const { tokens } = await clientWithTokens(stack);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const first = new MeshClient({ env: { ...stack.env }, authToken: tokens.access_token });
      new MeshClient({ env: { ...stack.env }, authToken: tokens.access_token });
      expect((await first.chat('hello')).content).toBe('Echo: hello');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: 'DeprecationWarning', code: 'MESH_DEP_AUTH_TOKEN' });
  });

  it('uses a custom TokenProvider, asking it again once after a refusal', async () => {
    const { tokens } = await clientWithTokens(stack);
    const fresh = await postJson(`${stack.apiUrl}/auth/refresh-token`, { refresh_token: tokens.refresh_token });
    const handed = ['garbage-token', fresh.json.access_token as string];
    let asked = 0;
    const client = new MeshClient({
      env: { ...stack.env },
      tokenProvider: { getAccessToken: async () => handed[Math.min(asked++, 1)] as string },
    });
    const refreshes = stack.backend.counters.refreshes;
    expect(await client.listKeys()).toEqual([]);
    // Registration: the garbage token (404), asked again once (accepted); then one ask per call.
    expect(asked).toBe(3);
    await client.listKeys();
    expect(asked).toBe(4);
    expect(stack.backend.counters.refreshes).toBe(refreshes);
  });

  it('refuses two credentials at once', () => {
    expect(() => new MeshClient({ env: {}, apiKey: `mesh_${'a'.repeat(43)}`, authToken: 'x' })).toThrow(
      /only one of apiKey, authToken and tokenProvider/,
    );
  });
});
