// Each switch and fault of the reference backend, and each client-side fault, with the exact
// outcome a user gets: the result or the error's class and code, and how many attempts and
// refreshes it took. Passes in the deployed dialect and with DEV_BACKEND_CAPABILITIES=all; the
// tests whose outcome depends on `idempotency_key` set the capabilities themselves.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FaultRule } from '../../dev/backend/faults.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { postJson } from '../helpers/backend-login.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack();
afterEach(() => {
  stack.backend.reset();
  stack.provider.settings.accessTokenTtl = 3600;
});

/** Runs `action`, returning its outcome and the requests and refreshes it caused. */
async function measure<T>(route: string, action: () => Promise<T>) {
  const requests = () => stack.backend.counters.requests[route] ?? 0;
  const before = { attempts: requests(), refreshes: stack.backend.counters.refreshes };
  const started = Date.now();
  const outcome = await action().then(
    (value) => ({ value, error: undefined }),
    (error: { name: string; code: string }) => ({ value: undefined, error }),
  );
  return {
    ...outcome,
    attempts: requests() - before.attempts,
    refreshes: stack.backend.counters.refreshes - before.refreshes,
    ms: Date.now() - started,
  };
}

const fault = (rule: FaultRule) => stack.backend.faults.add(rule);
const CHAT = 'POST /v1/mesh/chat';
const LIST = 'GET /api/v1/listKeys';
const API_KEYS = 'POST /v1/mesh/api-keys';
const API_KEY = `mesh_pk_${'k'.repeat(32)}`;

/** Tokens the backend refuses while the SDK believes them fresh (expired at the provider). */
async function staleTokens(): Promise<TokenSet> {
  stack.provider.settings.accessTokenTtl = 1;
  const tokens = await storedTokens(stack);
  stack.provider.settings.accessTokenTtl = 3600;
  await new Promise((resolve) => setTimeout(resolve, 2100));
  return { ...tokens, expires_at: Math.floor(Date.now() / 1000) + 3600 };
}

describe('fault matrix', () => {
  it('503 twice, then success: the reply, after 3 attempts and no refresh (a GET)', async () => {
    const { client } = await clientWithTokens(stack, { login: 'fm-503@example.test' });
    await client.storeKey('k', 'v'); // registration out of the way
    fault({ fault: { kind: 'status', status: 503 }, match: { path: '/api/v1/listKeys' }, times: 2 });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.value).toEqual(['k']);
    expect([r.attempts, r.refreshes]).toEqual([3, 0]);
  });

  it('503 on a chat POST without idempotency_key: ServerError after 1 attempt (it may have been processed)', async () => {
    stack.backend.settings.capabilities = [];
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 503 }, match: { path: '/v1/mesh/chat' }, times: 2 });
    const r = await measure(CHAT, () => client.chat('What is 1 + 1?'));
    expect(r.error).toMatchObject({ name: 'ServerError', status: 503 });
    expect(r.attempts).toBe(1);
  });

  it('503 twice on a chat POST with idempotency_key advertised: the reply after 3 attempts', async () => {
    stack.backend.settings.capabilities = ['idempotency_key'];
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 503 }, match: { path: '/v1/mesh/chat' }, times: 2 });
    const r = await measure(CHAT, () => client.chat('What is 1 + 1?'));
    expect(r.value?.content).toBe('1 + 1 = 2');
    expect(r.attempts).toBe(3);
  });

  it('429 with Retry-After 1: waits a second, then the reply (2 attempts)', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 429, retryAfter: '1' }, match: { path: '/v1/mesh/chat' } });
    const r = await measure(CHAT, () => client.chat('hi'));
    expect(r.value?.content).toBe('Echo: hi');
    expect(r.attempts).toBe(2);
    expect(r.ms).toBeGreaterThanOrEqual(950);
  });

  it('429 every time: RateLimitError with retryAfter, after 1 + maxRetries attempts', async () => {
    const { client } = await clientWithTokens(stack, { maxRetries: 1 });
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 429, retryAfter: '1' }, match: { path: '/v1/mesh/chat' }, times: 2 });
    const r = await measure(CHAT, () => client.chat('hi'));
    expect(r.error).toMatchObject({ name: 'RateLimitError', code: 'rate_limited', status: 429, retryAfter: 1 });
    expect(r.attempts).toBe(2);
  });

  it('an HTML 520 page every time: ServerError (status 520, says it was an HTML page), 3 attempts', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 520, html: true }, match: { path: '/api/v1/listKeys' }, times: 3 });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.error).toMatchObject({ name: 'ServerError', code: 'server_error', status: 520 });
    expect((r.error as unknown as Error).message).toMatch(/HTML/);
    expect(r.attempts).toBe(3);
  });

  it('a 200 whose body is an HTML page: ResponseValidationError with status and request id', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 200, html: true }, match: { path: '/api/v1/listKeys' } });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.error).toMatchObject({
      name: 'ResponseValidationError',
      code: 'invalid_response',
      status: 200,
    });
    // The request id is there exactly when the backend sends one (`request_id` advertised).
    expect((r.error as { requestId?: string }).requestId).toEqual(
      stack.backend.has('request_id') ? expect.any(String) : undefined,
    );
  });

  it('headers slower than the timeout: TimeoutError, one attempt per try', async () => {
    const { client } = await clientWithTokens(stack, { maxRetries: 0 });
    await client.listKeys();
    fault({ fault: { kind: 'slowHeaders', ms: 1500 }, match: { path: '/api/v1/listKeys' } });
    const r = await measure(LIST, () => client.listKeys({ timeout: 300 }));
    expect(r.error).toMatchObject({ name: 'TimeoutError', code: 'timeout' });
    expect(r.attempts).toBe(1);
    expect(r.ms).toBeLessThan(1200);
  });

  it('a body that stalls longer than the timeout: TimeoutError', async () => {
    const { client } = await clientWithTokens(stack, { maxRetries: 0 });
    await client.listKeys();
    fault({ fault: { kind: 'slowBody', ms: 1500 }, match: { path: '/api/v1/listKeys' } });
    const r = await measure(LIST, () => client.listKeys({ timeout: 300 }));
    expect(r.error).toMatchObject({ name: 'TimeoutError', code: 'timeout' });
    expect(r.ms).toBeLessThan(1200);
  });

  it('a connection dropped mid-body: retried, then the reply (2 attempts); a POST only with idempotency_key', async () => {
    stack.backend.settings.capabilities = [];
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'drop', when: 'during' }, match: { path: '/api/v1/listKeys' } });
    const get = await measure(LIST, () => client.listKeys());
    expect(get.value).toEqual([]);
    expect(get.attempts).toBe(2);
    // Without idempotency_key the API-key POST is not sent again: a blind retry would mint a second key.
    const keysBefore = stack.backend.state.apiKeys.size;
    fault({ fault: { kind: 'drop', when: 'during' }, match: { path: '/v1/mesh/api-keys' } });
    const plain = await measure(API_KEYS, () => client.generateApiKey('once'));
    expect(plain.error).toMatchObject({ name: 'NetworkError' });
    expect(plain.attempts).toBe(1);
    expect(stack.backend.state.apiKeys.size - keysBefore).toBe(1); // processed once, then the reply was cut
  });

  it('a connection dropped mid-body on an API-key POST with idempotency_key: retried with the same key, one key made', async () => {
    stack.backend.settings.capabilities = ['idempotency_key'];
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    const keysBefore = stack.backend.state.apiKeys.size;
    fault({ fault: { kind: 'drop', when: 'during' }, match: { path: '/v1/mesh/api-keys' } });
    const keyed = await measure(API_KEYS, () => client.generateApiKey('once'));
    expect(keyed.value?.key).toMatch(/^mesh_/);
    expect(keyed.attempts).toBe(2);
    expect(stack.backend.state.apiKeys.size - keysBefore).toBe(1);
  });

  it('a connection refused: NetworkError after the retries', async () => {
    const client = new MeshClient({
      env: { MESH_API_KEY: API_KEY },
      apiUrl: 'http://127.0.0.1:1',
      maxRetries: 1,
    });
    const error = await client.listKeys().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NetworkError', code: 'network_error' });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('a host name that does not resolve: NetworkError whose hint points at MESH_API_URL', async () => {
    const client = new MeshClient({
      env: { MESH_API_KEY: API_KEY },
      apiUrl: 'https://mesh-sdk-test.invalid',
      maxRetries: 0,
    });
    const error = await client.listKeys().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NetworkError', code: 'network_error' });
    expect((error as { hint: string }).hint).toMatch(/MESH_API_URL/);
  });

  it('an abort during the request: AbortError at once', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'slowHeaders', ms: 2000 }, match: { path: '/api/v1/listKeys' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await measure(LIST, () => client.listKeys({ signal: controller.signal }));
    expect(r.error).toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(r.ms).toBeLessThan(1000);
    expect(r.attempts).toBe(1);
  });

  it('404 with a stale token: one refresh, then the reply', async () => {
    const { client } = await clientWithTokens(stack, { tokens: await staleTokens() });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.value).toEqual([]);
    expect(r.refreshes).toBe(1);
  });

  it('401 with a stale token (a deployment that says 401): one refresh, then the reply', async () => {
    stack.backend.settings.authFailureStatus = 401;
    const { client } = await clientWithTokens(stack, { tokens: await staleTokens() });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.value).toEqual([]);
    expect(r.refreshes).toBe(1);
  });

  it('404 for a login token the server revoked before its exp: validated, one refresh, then the reply', async () => {
    // A real login's token, good for an hour by its own exp: no refresh ahead of expiry can hide the 404 path.
    const { client, tokens } = await clientWithTokens(stack);
    await client.listKeys();
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the refreshed token is issued a second later
    stack.backend.settings.rejectTokensIssuedBefore = Math.floor(Date.now() / 1000);
    const validations = stack.backend.counters.validations;
    const r = await measure(LIST, () => client.listKeys());
    expect(r.value).toEqual([]);
    expect([r.attempts, r.refreshes]).toEqual([2, 1]);
    expect(stack.backend.counters.validations).toBe(validations + 1); // asked before refreshing
    expect((await client.tokenSet()).access_token).not.toBe(tokens.access_token);
  });

  it.each([2, 4])('401 %i times: AuthenticationError after exactly one refresh (no second refresh, no loop)', async (times) => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 401 }, match: { path: '/api/v1/listKeys' }, times });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.error).toMatchObject({ name: 'AuthenticationError', code: 'authentication_failed', status: 401 });
    expect([r.attempts, r.refreshes]).toEqual([2, 1]);
  });

  it('without idempotency_key advertised, a client that already made a POST sends no Idempotency-Key and does not repeat a 503 POST', async () => {
    stack.backend.settings.capabilities = [];
    const { client } = await clientWithTokens(stack);
    const keys = () => stack.backend.counters.idempotencyKeys[CHAT] ?? 0;
    const before = keys();
    const configs = stack.backend.counters.requests['GET /auth/config'] ?? 0;
    await client.chat('first');
    // The first POST went out before /auth/config was read (beside it), so it carried a key.
    expect(keys() - before).toBe(1);
    // Once the answer is in (read right after the POST went out), no POST carries one.
    await vi.waitFor(() => expect(stack.backend.counters.requests['GET /auth/config'] ?? 0).toBeGreaterThan(configs));
    await new Promise((resolve) => setTimeout(resolve, 100));
    fault({ fault: { kind: 'status', status: 503 }, match: { path: '/v1/mesh/chat' }, times: 2 });
    const r = await measure(CHAT, () => client.chat('second'));
    expect(r.error).toMatchObject({ name: 'ServerError', status: 503 });
    expect(r.attempts).toBe(1);
    expect(keys() - before).toBe(1); // the second carried none
  });

  it("without idempotency_key advertised, a new client's first POST carries a key but a 503 is not repeated: the retry waits for /auth/config's answer", async () => {
    stack.backend.settings.capabilities = [];
    const { client } = await clientWithTokens(stack);
    fault({ fault: { kind: 'status', status: 503 }, match: { path: '/v1/mesh/chat' }, times: 2 });
    const r = await measure(CHAT, () => client.chat('first'));
    expect(r.error).toMatchObject({ name: 'ServerError', status: 503 });
    expect(r.attempts).toBe(1);
  });

  it('404 with a valid token: NotFoundError, believed once /auth/validate vouches for the token, no refresh', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    const validations = stack.backend.counters.validations;
    const r = await measure('GET /api/v1/getKey', () => client.getKey('missing'));
    expect(r.error).toMatchObject({ name: 'NotFoundError', code: 'not_found', status: 404 });
    expect([r.attempts, r.refreshes]).toEqual([1, 0]);
    expect(stack.backend.counters.validations - validations).toBe(1);
  });

  it('404 with a valid API key: NotFoundError, believed once the profile answers the key (never /auth/validate)', async () => {
    const { client: owner } = await clientWithTokens(stack, { login: 'fm-apikey@example.test' });
    const { key } = await owner.generateApiKey('fm');
    const client = new MeshClient({ env: { ...stack.env }, apiKey: key });
    await client.listKeys();
    const validations = stack.backend.counters.validations;
    const r = await measure('GET /api/v1/getKey', () => client.getKey('missing'));
    expect(r.error).toMatchObject({ name: 'NotFoundError', status: 404 });
    expect([r.attempts, r.refreshes]).toEqual([1, 0]);
    expect(stack.backend.counters.validations).toBe(validations);
  });

  it('404 with a valid token and no /auth/validate: NotFoundError on the local verdict', async () => {
    stack.backend.settings.validateEndpoint = false;
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    const r = await measure('GET /api/v1/getKey', () => client.getKey('missing'));
    expect(r.error).toMatchObject({ name: 'NotFoundError' });
  });

  it('refresh answered invalid_grant: ReauthenticationRequiredError, one refresh, no loop', async () => {
    const tokens = await staleTokens();
    await postJson(`${stack.apiUrl}/auth/refresh-token`, { refresh_token: tokens.refresh_token, client_type: 'web' }); // rotate: the stored one is now reused
    // A browser login's set, as mesh-sdk stores it (a set of unknown origin is also tried as the device app).
    const { client } = await clientWithTokens(stack, { tokens: { ...tokens, auth_source: 'browser' } });
    const r = await measure(LIST, () => client.listKeys());
    expect(r.error).toMatchObject({ name: 'ReauthenticationRequiredError', code: 'reauthentication_required' });
    expect(r.refreshes).toBe(1);
    expect(r.attempts).toBe(0); // registration met the 404 first; the keys call never went out
  });

  it('a stream cut mid-way: StreamInterruptedError carrying the text that arrived', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    fault({ fault: { kind: 'cutStream', afterDeltas: 2 }, match: { path: '/v1/mesh/chat' } });
    const received: string[] = [];
    const error = await (async () => {
      for await (const delta of client.chatStream('a b c d e f')) received.push(delta);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'StreamInterruptedError', code: 'stream_interrupted', partialText: 'Echo: a ' });
    expect(received).toEqual(['Echo: ', 'a ']);
  });

  it('break out of a stream: the connection closes and the client goes on', async () => {
    const { client } = await clientWithTokens(stack);
    stack.backend.settings.streamDelayMs = 50;
    for await (const delta of client.chatStream('one two three four five six seven eight')) {
      expect(delta).toBe('Echo: ');
      break;
    }
    expect((await client.chat('after')).content).toBe('Echo: after');
  });

  it('an abort during a stream: AbortError', async () => {
    const { client } = await clientWithTokens(stack);
    stack.backend.settings.streamDelayMs = 50;
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _ of client.chatStream('one two three four five six', { signal: controller.signal })) controller.abort();
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', code: 'aborted' });
  });

  it('an abort during a stream whose rest has already arrived: AbortError at the next delta, nothing more handed out', async () => {
    const { client } = await clientWithTokens(stack);
    stack.backend.settings.streamDelayMs = 0; // the whole reply lands in the buffer at once
    const controller = new AbortController();
    const received: string[] = [];
    const error = await (async () => {
      for await (const delta of client.chatStream('one two three four five six', { signal: controller.signal })) {
        received.push(delta);
        await new Promise((resolve) => setTimeout(resolve, 50)); // the rest arrives meanwhile
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(received).toEqual(['Echo: ']);
  });

  it('the circuit breaker opens after consecutive failures, fails fast, and recovers after the cool-down', async () => {
    const { client } = await clientWithTokens(stack, { maxRetries: 0, circuitBreaker: { threshold: 3, cooldownMs: 500 } });
    await client.listKeys();
    fault({ fault: { kind: 'status', status: 503 }, match: { path: '/api/v1/listKeys' }, times: 3 });
    for (let i = 0; i < 3; i++) await expect(client.listKeys()).rejects.toMatchObject({ name: 'ServerError' });
    const open = await measure(LIST, () => client.listKeys());
    expect(open.error).toMatchObject({ name: 'CircuitOpenError', code: 'circuit_open' });
    expect(open.attempts).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 550));
    const probe = await measure(LIST, () => client.listKeys());
    expect(probe.value).toEqual([]);
    expect(probe.attempts).toBe(1);
  });

  it('API-key creation that hangs: the per-call timeout bounds it', async () => {
    const { client } = await clientWithTokens(stack, { maxRetries: 0 });
    await client.listKeys();
    fault({ fault: { kind: 'hang' }, match: { path: '/v1/mesh/api-keys' } });
    const r = await measure(API_KEYS, () => client.generateApiKey('slow', { timeout: 400 }));
    expect(r.error).toMatchObject({ name: 'TimeoutError' });
    expect(r.ms).toBeLessThan(1500);
  });

  it('402: a MeshError with code insufficient_credits', async () => {
    const { client, tokens } = await clientWithTokens(stack, { login: 'broke@example.test' });
    await client.listKeys();
    const sub = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString()).sub as string;
    (stack.backend.state.users.get(sub) as { credits: number }).credits = 0;
    await expect(client.chat('hi')).rejects.toMatchObject({ name: 'MeshError', code: 'insufficient_credits', status: 402 });
  });
});
