// Contract v2 part B: each extension, on when advertised and off when not, by raw HTTP against the
// reference backend. Every test sets `capabilities` itself, so it means the same in both dialects;
// the last block shows how env DEV_BACKEND_CAPABILITIES sets the default.
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../dev/backend/context.js';
import { capabilitiesFromEnv, DEFAULT_BACKEND_SETTINGS } from '../../dev/backend/server.js';
import { approveDeviceOverHttp, loginOverHttp } from '../../dev/login-driver.js';
import { startStack } from '../../dev/stack.js';
import {
  authUrlFor,
  decodeJwtPayload,
  loginTokens,
  newPkce,
  postJson,
  REDIRECT_URI,
  registeredTokens,
} from '../helpers/backend-login.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack();
let token: string;
beforeAll(async () => {
  token = (await registeredTokens(stack, { login: 'erin@example.test' })).tokens.access_token;
});
afterEach(() => {
  stack.backend.reset();
  Object.assign(stack.provider.settings, { deviceInterval: 5, devicePollFloor: 0, deviceCodeTtl: 600 });
});

const advertise = (...names: string[]) => {
  stack.backend.settings.capabilities = names;
};
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${stack.apiUrl}${path}`, body, headers);
const bearer = () => ({ authorization: `Bearer ${token}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pkce', () => {
  async function pkceLogin(verifierFor: (real: string) => string) {
    const pkce = newPkce();
    const authUrl = new URL(await authUrlFor(stack, pkce, true));
    const callback = await loginOverHttp(authUrl.href, REDIRECT_URI);
    const code = callback.searchParams.get('code') as string;
    return {
      authUrl,
      exchange: await post('/auth/exchange-token', {
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifierFor(pkce.verifier),
      }),
      pkce,
    };
  }

  it('puts the challenge in auth_url and forwards the verifier: the login succeeds', async () => {
    advertise('pkce');
    const { authUrl, exchange, pkce } = await pkceLogin((real) => real);
    expect(authUrl.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(exchange.status).toBe(200);
  });

  it('refuses a wrong verifier (invalid_grant)', async () => {
    advertise('pkce');
    const { exchange } = await pkceLogin(() => newPkce().verifier);
    expect(exchange.status).toBe(400);
    expect(exchange.json.error).toMatch(/^invalid_grant/);
  });

  it('checks the challenge: 43-128 base64url characters, method S256', async () => {
    advertise('pkce');
    const base = { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's' };
    expect((await post('/auth/get-auth-url', { ...base, code_challenge: 'abc', code_challenge_method: 'S256' })).status).toBe(
      400,
    );
    const challenge = createHash('sha256').update('v').digest('base64url');
    expect(
      (await post('/auth/get-auth-url', { ...base, code_challenge: challenge, code_challenge_method: 'plain' })).status,
    ).toBe(400);
  });

  it('without pkce, the same login fails at the exchange: the backend dropped the verifier', async () => {
    // A challenge smuggled into the authorize URL by hand, as a client that ignores `capabilities` would.
    advertise();
    const pkce = newPkce();
    const authUrl = new URL(await authUrlFor(stack, pkce, true));
    expect(authUrl.searchParams.has('code_challenge')).toBe(false);
    authUrl.searchParams.set('code_challenge', pkce.challenge);
    authUrl.searchParams.set('code_challenge_method', 'S256');
    const code = (await loginOverHttp(authUrl.href, REDIRECT_URI)).searchParams.get('code');
    const exchange = await post('/auth/exchange-token', { code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier });
    expect(exchange.status).toBe(400);
  });
});

describe('device_flow: POST /auth/device-code and /auth/token-status', () => {
  const status = (code: string) => post('/auth/token-status', { device_code: code });

  it('is absent without the capability', async () => {
    advertise();
    expect((await post('/auth/device-code', {})).status).toBe(404);
    expect((await status('x')).status).toBe(404);
  });

  it('starts with the codes and URLs, answers 400 authorization_pending then slow_down, then tokens that refresh as "device"', async () => {
    advertise('device_flow');
    stack.provider.settings.deviceInterval = 1;
    const started = await post('/auth/device-code', {});
    expect(started.status).toBe(200);
    expect(started.json).toEqual({
      device_code: expect.any(String),
      user_code: expect.any(String),
      verification_uri: `${stack.provider.origin}/activate`,
      verification_uri_complete: expect.stringContaining(`${stack.provider.origin}/activate?user_code=`),
      expires_in: expect.any(Number),
      interval: 1,
    });
    const code = started.json.device_code as string;
    const pending = await status(code);
    expect([pending.status, pending.json.error]).toEqual([400, 'authorization_pending']);
    const tooFast = await status(code);
    expect([tooFast.status, tooFast.json.error]).toEqual([400, 'slow_down']);
    await approveDeviceOverHttp(started.json.verification_uri_complete as string, { login: 'dora@example.test' });
    await sleep(6100); // what the client owes after one slow_down: 1 + 5 s
    const done = await status(code);
    expect(done.status).toBe(200);
    expect(decodeJwtPayload(done.json.access_token as string).sub).toBe(stack.provider.subjectFor('dora@example.test'));
    const refreshed = await post('/auth/refresh-token', { refresh_token: done.json.refresh_token, client_type: 'device' });
    expect(refreshed.status).toBe(200);
  });

  it('answers access_denied when the user cancels, expired_token once the code expired', async () => {
    advertise('device_flow');
    const denied = await post('/auth/device-code', {});
    await approveDeviceOverHttp(denied.json.verification_uri_complete as string, { deny: true });
    expect((await status(denied.json.device_code as string)).json.error).toBe('access_denied');
    stack.provider.settings.deviceCodeTtl = 1;
    const expiring = await post('/auth/device-code', {});
    await sleep(1600);
    const expired = await status(expiring.json.device_code as string);
    expect([expired.status, expired.json.error]).toEqual([400, 'expired_token']);
  });

  it('answers 400 without a device_code', async () => {
    advertise('device_flow');
    expect((await post('/auth/token-status', {})).status).toBe(400);
  });
});

describe('request_id', () => {
  it('puts X-Request-Id on every response, unique, and repeats it as request_id in JSON errors', async () => {
    advertise('request_id');
    stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, match: { path: '/api/v1/listKeys' } });
    const responses = await Promise.all([
      fetch(`${stack.apiUrl}/auth/config`),
      fetch(`${stack.apiUrl}/auth/validate`),
      fetch(`${stack.apiUrl}/nowhere`),
      fetch(`${stack.apiUrl}/api/v1/listKeys?userId=x`, { headers: bearer() }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 401, 404, 503]);
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const response of responses.slice(1)) {
      expect(((await response.json()) as { request_id: string }).request_id).toBe(response.headers.get('x-request-id'));
    }
  });

  it('is on streams too', async () => {
    advertise('request_id');
    const response = await fetch(`${stack.apiUrl}/v1/mesh/chat`, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    await response.text();
  });
});

describe('retry_after and rate_limit_headers', () => {
  const listKeys = () => fetch(`${stack.apiUrl}/api/v1/listKeys?userId=x`, { headers: bearer() });

  it('rate_limit_headers: X-RateLimit-Limit/Remaining/Reset on API responses, counting down', async () => {
    advertise('rate_limit_headers');
    const first = await listKeys();
    const second = await listKeys();
    expect(Number(first.headers.get('x-ratelimit-limit'))).toBe(1000);
    expect(Number(second.headers.get('x-ratelimit-remaining'))).toBe(Number(first.headers.get('x-ratelimit-remaining')) - 1);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    advertise();
    expect((await listKeys()).headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('retry_after: Retry-After in seconds on every 429, the rate limit and an injected one', async () => {
    advertise('retry_after');
    const limited = (await registeredTokens(stack, { login: 'limited@example.test' })).tokens.access_token;
    stack.backend.settings.rateLimitPerMinute = 1;
    const call = () => fetch(`${stack.apiUrl}/api/v1/listKeys?userId=x`, { headers: { authorization: `Bearer ${limited}` } });
    await call();
    const over = await call();
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    stack.backend.settings.rateLimitPerMinute = 1000;
    stack.backend.faults.add({ fault: { kind: 'status', status: 429 } });
    const injected = await listKeys();
    expect([injected.status, injected.headers.get('retry-after')]).toEqual([429, '1']);
  });
});

describe('idempotency_key', () => {
  const create = (key: string) => post('/v1/mesh/api-keys', { name: 'once' }, { ...bearer(), 'idempotency-key': key });

  it('processes a POST with Idempotency-Key once: a repeat gets the first answer', async () => {
    advertise('idempotency_key');
    const key = `idem-${Date.now()}`;
    const before = stack.backend.state.apiKeys.size;
    const first = await create(key);
    const second = await create(key);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.json).toEqual(first.json);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(stack.backend.state.apiKeys.size).toBe(before + 1);
    const other = await create(`${key}-2`);
    expect(other.json).not.toEqual(first.json);
  });

  it('is ignored without the capability', async () => {
    advertise();
    const key = `idem-off-${Date.now()}`;
    const first = await create(key);
    const second = await create(key);
    expect(second.json).not.toEqual(first.json);
  });

  const refreshWithKey = (refreshToken: unknown, key: string) =>
    post('/auth/refresh-token', { refresh_token: refreshToken, client_type: 'web' }, { 'idempotency-key': key });
  const refreshCounts = () => ({
    providerGrants: stack.provider.counters.grants.refresh_token ?? 0,
    refreshes: stack.backend.counters.refreshes,
    replays: stack.backend.counters.refreshReplays,
  });

  it('replays /auth/refresh-token for the same refresh token and key: the same new set, and the provider asked once', async () => {
    advertise('idempotency_key');
    const tokens = await loginTokens(stack, { login: 'lost-reply@example.test' });
    const key = `refresh-${Date.now()}`;
    const before = refreshCounts();
    const first = await refreshWithKey(tokens.refresh_token, key);
    const resent = await refreshWithKey(tokens.refresh_token, key);
    expect([first.status, resent.status]).toEqual([200, 200]);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(resent.headers.get('idempotent-replayed')).toBe('true');
    expect(resent.json).toEqual(first.json);
    expect(refreshCounts()).toEqual({
      providerGrants: before.providerGrants + 1,
      refreshes: before.refreshes + 1,
      replays: before.replays + 1,
    });
    // The replayed set is the live one: its refresh token is the family's newest.
    expect((await post('/auth/refresh-token', { refresh_token: resent.json.refresh_token })).status).toBe(200);
  });

  it("keys a refresh replay by the refresh token too: another refresh token with the same key is refreshed, not given the first one's tokens", async () => {
    advertise('idempotency_key');
    const gina = await loginTokens(stack, { login: 'gina@example.test' });
    const hank = await loginTokens(stack, { login: 'hank@example.test' });
    const key = `shared-${Date.now()}`;
    const before = refreshCounts();
    const forGina = await refreshWithKey(gina.refresh_token, key);
    const forHank = await refreshWithKey(hank.refresh_token, key);
    expect([forGina.status, forHank.status]).toEqual([200, 200]);
    expect(forHank.headers.get('idempotent-replayed')).toBeNull();
    expect(decodeJwtPayload(forGina.json.access_token as string).sub).toBe(stack.provider.subjectFor('gina@example.test'));
    expect(decodeJwtPayload(forHank.json.access_token as string).sub).toBe(stack.provider.subjectFor('hank@example.test'));
    expect(refreshCounts()).toEqual({
      providerGrants: before.providerGrants + 2,
      refreshes: before.refreshes + 2,
      replays: before.replays,
    });
  });

  it('counts Idempotency-Key headers per route, whether or not the capability is advertised', async () => {
    const routes = ['POST /v1/mesh/api-keys', 'POST /v1/mesh/chat', 'POST /auth/refresh-token', 'GET /auth/config'];
    const counted = () => routes.map((route) => stack.backend.counters.idempotencyKeys[route] ?? 0);
    const before = counted();
    advertise();
    await create(`counted-off-${Date.now()}`);
    advertise('idempotency_key');
    await create(`counted-on-${Date.now()}`);
    const chat = { model: 'gpt-4o', provider: 'openai', messages: [{ role: 'user', content: 'hi' }] };
    expect((await post('/v1/mesh/chat', chat, bearer())).status).toBe(200);
    expect((await refreshWithKey('not-a-refresh-token', `counted-refresh-${Date.now()}`)).status).toBe(400);
    await fetch(`${stack.apiUrl}/auth/config`, { headers: { 'idempotency-key': 'on-a-get' } });
    expect(counted().map((count, i) => count - (before[i] ?? 0))).toEqual([2, 0, 1, 1]);
  });
});

describe('advertising: GET /auth/config and DEV_BACKEND_CAPABILITIES', () => {
  it('parses the env: all, a comma list, none; refuses unknown names', () => {
    expect(capabilitiesFromEnv('all')).toEqual([...CAPABILITIES]);
    expect(capabilitiesFromEnv(' pkce, request_id ,pkce')).toEqual(['pkce', 'request_id']);
    expect(capabilitiesFromEnv('')).toEqual([]);
    expect(capabilitiesFromEnv('none')).toEqual([]);
    expect(() => capabilitiesFromEnv('pkce,telepathy')).toThrow(/telepathy/);
  });

  it('starts every stack with the env default, unless its options name capabilities', async () => {
    expect(stack.backend.initialSettings.capabilities).toEqual(DEFAULT_BACKEND_SETTINGS.capabilities);
    expect(DEFAULT_BACKEND_SETTINGS.capabilities).toEqual(capabilitiesFromEnv());
    const explicit = await startStack({ backend: { capabilities: ['retry_after'] } });
    try {
      const config = (await (await fetch(`${explicit.apiUrl}/auth/config`)).json()) as Record<string, unknown>;
      expect(config.capabilities).toEqual(['retry_after']);
      explicit.backend.settings.capabilities = [];
      explicit.backend.reset();
      expect(explicit.backend.settings.capabilities).toEqual(['retry_after']);
    } finally {
      await explicit.close();
    }
  });
});
