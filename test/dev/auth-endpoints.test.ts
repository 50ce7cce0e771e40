// Contract v2 part A, auth endpoints, by raw HTTP against the reference backend on the stand-in
// provider: every row, its failure columns and its ambiguity switches. Passes in both dialects
// (DEV_BACKEND_CAPABILITIES unset or =all): a test that needs the deployed dialect exactly pins
// `capabilities: []`; part B has its own file (extensions.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loginOverHttp } from '../../dev/login-driver.js';
import {
  authUrlFor,
  codeFor,
  decodeJwtPayload,
  deviceFlowTokens,
  loginTokens,
  newPkce,
  postJson,
  REDIRECT_URI,
  SCOPE,
} from '../helpers/backend-login.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack();
afterEach(() => {
  stack.backend.reset();
  Object.assign(stack.provider.settings, { accessTokenTtl: 3600, refreshTokenTtl: 30 * 24 * 3600, codeTtl: 60 });
});

const settings = () => stack.backend.settings;
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${stack.apiUrl}${path}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  postJson(`${stack.apiUrl}${path}`, body, headers);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deployed-backend error body: `{"error": "<text>"}` (plus `request_id` when that extension is on). */
const errorText = (json: Record<string, unknown>) => json.error as string;

describe('GET /auth/config', () => {
  it('publishes domain (the full loopback origin), client_id and audience, and no capabilities when none are advertised', async () => {
    settings().capabilities = [];
    const response = await get('/auth/config');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      domain: `http://127.0.0.1:${new URL(stack.provider.origin).port}`,
      client_id: stack.auth0.clientId,
      audience: stack.auth0.audience,
    });
  });

  it('names the native application with ?flow=device', async () => {
    const body = (await (await get('/auth/config?flow=device')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      domain: stack.provider.origin,
      client_id: stack.deviceClientId,
      audience: stack.auth0.audience,
    });
    expect(body.client_id).not.toBe(stack.auth0.clientId);
  });

  it('adds "capabilities" exactly as advertised, in either flow', async () => {
    settings().capabilities = ['pkce', 'request_id'];
    for (const path of ['/auth/config', '/auth/config?flow=device']) {
      expect(((await (await get(path)).json()) as Record<string, unknown>).capabilities).toEqual(['pkce', 'request_id']);
    }
  });

  it('answers 404 when the deployment does not publish it', async () => {
    settings().configEndpoint = false;
    expect((await get('/auth/config')).status).toBe(404);
  });
});

describe('POST /auth/get-auth-url', () => {
  it("returns the provider's /authorize for the backend's application with redirect_uri, scope, state and audience", async () => {
    const pkce = newPkce();
    const url = new URL(await authUrlFor(stack, pkce, false));
    expect(url.origin + url.pathname).toBe(`${stack.auth0.domain}/authorize`);
    const q = url.searchParams;
    expect(Object.fromEntries(q)).toEqual({
      response_type: 'code',
      client_id: stack.auth0.clientId,
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      audience: stack.auth0.audience,
      state: pkce.state,
    });
  });

  it('ignores a code_challenge without pkce, as the deployed backend forwards none', async () => {
    settings().capabilities = [];
    const url = new URL(await authUrlFor(stack, newPkce(), true));
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(url.searchParams.has('code_challenge_method')).toBe(false);
  });

  it('passes extended_lifetime=true through to the authorize URL', async () => {
    const url = new URL(await authUrlFor(stack, newPkce(), false, { extended_lifetime: true }));
    expect(url.searchParams.get('extended_lifetime')).toBe('true');
  });

  it.each([
    ['no redirect_uri', { redirect_uri: undefined }],
    ['no state', { state: undefined }],
    ['a redirect_uri that is not http(s)', { redirect_uri: 'ftp://x/callback' }],
  ])('answers 400 {"error": "<text>"} for %s', async (_name, override) => {
    const { status, json } = await post('/auth/get-auth-url', {
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state: 's',
      ...override,
    });
    expect(status).toBe(400);
    expect(errorText(json)).toEqual(expect.any(String));
  });

  it('has no GET form any more (v1 invented it)', async () => {
    const response = await get(`/auth/get-auth-url?redirect_uri=${encodeURIComponent(REDIRECT_URI)}&state=s`);
    expect(response.status).not.toBe(200);
  });

  it('answers 404 when absent (clients then build the URL themselves)', async () => {
    settings().authUrlEndpoint = false;
    expect((await post('/auth/get-auth-url', { redirect_uri: REDIRECT_URI, scope: SCOPE, state: 's' })).status).toBe(404);
  });
});

/** An authorize URL built straight at the provider, with a challenge: what a backend with `pkce` would hand out. */
async function codeWithChallenge() {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/authorize', stack.provider.origin);
  const params = {
    response_type: 'code',
    client_id: stack.auth0.clientId,
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    audience: stack.auth0.audience,
    state: 's1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const callback = await loginOverHttp(url.href, REDIRECT_URI);
  return { code: callback.searchParams.get('code') as string, verifier };
}

describe('POST /auth/exchange-token', () => {
  const exchange = (body: unknown) => post('/auth/exchange-token', body);

  it('redeems a code without any PKCE for a token set with a JWT access token for the audience', async () => {
    settings().capabilities = [];
    const before = stack.backend.counters.exchanges;
    const { code, pkce, callback } = await codeFor(stack, { pkce: false });
    expect(callback.searchParams.get('state')).toBe(pkce.state);
    const { status, json } = await exchange({ code, redirect_uri: REDIRECT_URI });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      id_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
    });
    const claims = decodeJwtPayload(json.access_token as string);
    expect([claims.aud, claims.iss, claims.sub]).toEqual([
      stack.auth0.audience,
      stack.provider.issuer,
      stack.provider.subjectFor('alice@example.test'),
    ]);
    expect(stack.backend.counters.exchanges).toBe(before + 1);
  });

  it('does not forward code_verifier without pkce: a bogus one does no harm, and a code bound to a challenge fails', async () => {
    settings().capabilities = [];
    const plain = await codeFor(stack, { pkce: false });
    const ok = await exchange({ code: plain.code, redirect_uri: REDIRECT_URI, code_verifier: 'x'.repeat(43) });
    expect(ok.status).toBe(200);
    const bound = await codeWithChallenge();
    const refused = await exchange({ code: bound.code, redirect_uri: REDIRECT_URI, code_verifier: bound.verifier });
    expect(refused.status).toBe(400);
    expect(errorText(refused.json)).toMatch(/^invalid_grant/);
  });

  it('honours the provider token lifetime (short lifetimes for tests)', async () => {
    stack.provider.settings.accessTokenTtl = 5;
    const tokens = await loginTokens(stack);
    expect(tokens.expires_in).toBe(5);
    const claims = decodeJwtPayload(tokens.access_token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(5);
  });

  it('issues the extended lifetime for extended_lifetime: true (the headless flag), and keeps it on refresh', async () => {
    stack.provider.settings.extendedAccessTokenTtl = 7777;
    const { code } = await codeFor(stack, { login: 'extended@example.test', pkce: false });
    settings().capabilities = [];
    const { json } = await exchange({ code, redirect_uri: REDIRECT_URI, extended_lifetime: true });
    expect(json.expires_in).toBe(7777);
    const refreshed = await post('/auth/refresh-token', { refresh_token: json.refresh_token, client_type: 'web' });
    expect(refreshed.json.expires_in).toBe(7777);
  });

  it.each([
    ['a bad code', async () => 'not-a-code'],
    [
      'an expired code',
      async () => {
        stack.provider.settings.codeTtl = 1;
        const { code } = await codeFor(stack, { pkce: false });
        await sleep(1600);
        return code;
      },
    ],
  ])('answers 400 invalid_grant for %s', async (_name, makeCode) => {
    settings().capabilities = [];
    const { status, json } = await exchange({ code: await makeCode(), redirect_uri: REDIRECT_URI });
    expect(status).toBe(400);
    expect(errorText(json)).toMatch(/^invalid_grant/);
  });

  it('answers 400 invalid_grant for a used code, and for another redirect_uri than authorized', async () => {
    settings().capabilities = [];
    const first = await codeFor(stack, { pkce: false });
    expect((await exchange({ code: first.code, redirect_uri: REDIRECT_URI })).status).toBe(200);
    const again = await exchange({ code: first.code, redirect_uri: REDIRECT_URI });
    expect([again.status, errorText(again.json)]).toEqual([400, expect.stringMatching(/^invalid_grant/)]);
    const second = await codeFor(stack, { pkce: false });
    const other = await exchange({ code: second.code, redirect_uri: 'http://127.0.0.1:8000/callback' });
    expect([other.status, errorText(other.json)]).toEqual([400, expect.stringMatching(/^invalid_grant/)]);
  });

  it.each([
    ['no code', { redirect_uri: REDIRECT_URI }],
    ['no redirect_uri', { code: 'c' }],
  ])('answers 400 for %s', async (_name, body) => {
    const { status, json } = await exchange(body);
    expect(status).toBe(400);
    expect(errorText(json)).toEqual(expect.any(String));
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await fetch(`${stack.apiUrl}/auth/exchange-token`, { method: 'POST', body: '{nope' });
    expect(response.status).toBe(400);
  });

  it('answers 502 when Auth0 is unreachable', async () => {
    const { code } = await codeFor(stack);
    settings().auth0Unreachable = true;
    expect((await exchange({ code, redirect_uri: REDIRECT_URI })).status).toBe(502);
  });

  it('writes errors as {"error": {"message"}} when so switched', async () => {
    settings().errorShape = 'object';
    const { status, json } = await exchange({ code: 'nope', redirect_uri: REDIRECT_URI });
    expect(status).toBe(400);
    expect(json.error).toEqual({ message: expect.stringMatching(/^invalid_grant/) });
  });
});

describe('POST /auth/refresh-token', () => {
  const refresh = (refreshToken: unknown, clientType: unknown = 'web') =>
    post('/auth/refresh-token', { refresh_token: refreshToken, client_type: clientType });

  it('refreshes a web token set with client_type "web": new access token, rotated refresh token', async () => {
    const tokens = await loginTokens(stack);
    const before = stack.backend.counters.refreshClientTypes.web ?? 0;
    const { status, json } = await refresh(tokens.refresh_token);
    expect(status).toBe(200);
    expect(json).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(json.access_token).not.toBe(tokens.access_token);
    expect(json.refresh_token).not.toBe(tokens.refresh_token);
    expect(stack.backend.counters.refreshClientTypes.web).toBe(before + 1);
  });

  it('refreshes a device-flow token set with client_type "device", and refuses each with the other client_type', async () => {
    const device = await deviceFlowTokens(stack, { login: 'dev@example.test' });
    const web = await loginTokens(stack);
    const wrongForDevice = await refresh(device.refresh_token, 'web');
    expect(wrongForDevice.status).toBe(400);
    expect(errorText(wrongForDevice.json)).toMatch(/^invalid_grant/);
    const wrongForWeb = await refresh(web.refresh_token, 'device');
    expect(wrongForWeb.status).toBe(400);
    const good = await refresh(device.refresh_token, 'device');
    expect(good.status).toBe(200);
    expect(decodeJwtPayload(good.json.access_token as string).sub).toBe(stack.provider.subjectFor('dev@example.test'));
    expect(stack.backend.counters.refreshClientTypes.device).toBeGreaterThanOrEqual(2);
  });

  it('treats reuse of a rotated refresh token as theft: refused, and the whole family is revoked', async () => {
    const tokens = await loginTokens(stack);
    const rotated = await refresh(tokens.refresh_token);
    const reuseBefore = stack.provider.counters.refreshTokenReuse;
    const reuse = await refresh(tokens.refresh_token);
    expect([reuse.status, errorText(reuse.json)]).toEqual([400, expect.stringMatching(/^invalid_grant/)]);
    expect(stack.provider.counters.refreshTokenReuse).toBe(reuseBefore + 1);
    const newest = await refresh(rotated.json.refresh_token);
    expect(newest.status).toBe(400);
  });

  it('refuses a revoked refresh token and an expired one', async () => {
    const tokens = await loginTokens(stack);
    const basic = Buffer.from(`${stack.auth0.clientId}:${stack.backend.authority.clientSecret}`).toString('base64');
    const revoke = await fetch(`${stack.provider.origin}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token as string, token_type_hint: 'refresh_token' }),
    });
    expect(revoke.status).toBe(200);
    expect((await refresh(tokens.refresh_token)).status).toBe(400);
    stack.provider.settings.refreshTokenTtl = 1;
    const short = await loginTokens(stack);
    await sleep(1600);
    expect((await refresh(short.refresh_token)).status).toBe(400);
  });

  it.each([401, 403] as const)('can refuse with %i instead of 400 (ambiguity 10: any 4xx)', async (status) => {
    settings().refreshFailureStatus = status;
    const before = stack.backend.counters.refreshFailures;
    const refused = await refresh('no-such-refresh-token');
    expect(refused.status).toBe(status);
    expect(errorText(refused.json)).toMatch(/^invalid_grant/);
    expect(stack.backend.counters.refreshFailures).toBe(before + 1);
  });

  it('can answer without refresh_token (ambiguity 10); the refresh token the client keeps goes on working', async () => {
    settings().refreshOmitsRefreshToken = true;
    const tokens = await loginTokens(stack);
    const first = await refresh(tokens.refresh_token);
    expect(first.status).toBe(200);
    expect(first.json).not.toHaveProperty('refresh_token');
    const second = await refresh(tokens.refresh_token);
    expect(second.status).toBe(200);
    expect(second.json.access_token).not.toBe(first.json.access_token);
  });

  it('answers 400 without a refresh_token, or with a client_type other than "device" or "web"', async () => {
    expect((await post('/auth/refresh-token', { client_type: 'web' })).status).toBe(400);
    expect((await refresh('x', 'mobile')).status).toBe(400);
  });
});

describe('GET /auth/validate', () => {
  it('answers 200 for a good access token (status only)', async () => {
    const tokens = await loginTokens(stack);
    const before = stack.backend.counters.validations;
    expect((await get('/auth/validate', bearer(tokens.access_token))).status).toBe(200);
    expect(stack.backend.counters.validations).toBe(before + 1);
  });

  it.each([
    ['no token', {}],
    ['garbage', bearer('garbage')],
    ['a JWT with a forged signature', bearer('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')],
    ['an API key as Bearer', bearer(`mesh_${'A'.repeat(43)}`)],
  ])('answers 401 for %s', async (_name, headers) => {
    expect((await get('/auth/validate', headers)).status).toBe(401);
  });

  it('answers 401 for an expired access token', async () => {
    stack.provider.settings.accessTokenTtl = 1;
    const tokens = await loginTokens(stack);
    await sleep(2100);
    expect((await get('/auth/validate', bearer(tokens.access_token))).status).toBe(401);
  });

  it('can reject with 403 (ambiguity 9)', async () => {
    settings().validateRejectStatus = 403;
    expect((await get('/auth/validate', bearer('garbage'))).status).toBe(403);
  });

  it('answers 404 when the deployment lacks the endpoint', async () => {
    settings().validateEndpoint = false;
    const tokens = await loginTokens(stack);
    expect((await get('/auth/validate', bearer(tokens.access_token))).status).toBe(404);
  });
});

describe('GET /auth/profile', () => {
  it('returns {"profile": {id, credits, email, name}} and registers the user', async () => {
    const tokens = await loginTokens(stack, { login: 'bob@example.test' });
    const sub = decodeJwtPayload(tokens.access_token).sub as string;
    expect(stack.backend.state.users.get(sub)?.registered).not.toBe(true);
    const response = await get('/auth/profile', bearer(tokens.access_token));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      profile: { id: sub, credits: expect.any(Number), email: 'bob@example.test', name: 'bob@example.test' },
    });
    expect(stack.backend.state.users.get(sub)?.registered).toBe(true);
  });

  it('can answer flat (ambiguity 4)', async () => {
    settings().profileShape = 'flat';
    const tokens = await loginTokens(stack);
    const body = (await (await get('/auth/profile', bearer(tokens.access_token))).json()) as Record<string, unknown>;
    expect(body).toEqual({
      id: decodeJwtPayload(tokens.access_token).sub,
      credits: expect.any(Number),
      email: expect.any(String),
      name: expect.any(String),
    });
  });

  it('answers 404 without credentials or with bad ones, or 401 when so switched', async () => {
    expect((await get('/auth/profile')).status).toBe(404);
    expect((await get('/auth/profile', bearer('garbage'))).status).toBe(404);
    settings().authFailureStatus = 401;
    expect((await get('/auth/profile', bearer('garbage'))).status).toBe(401);
  });
});
