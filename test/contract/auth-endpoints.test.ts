// The contract's auth endpoints, success and every failure column, against the reference backend
// on the stand-in provider. The executable form of backend-contract.md "Auth endpoints".
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BACKEND_SETTINGS } from '../../dev/backend/server.js';
import { approveDeviceOverHttp } from '../../dev/login-driver.js';
import { type Stack, startStack } from '../../dev/stack.js';
import { authUrlFor, codeFor, decodeJwtPayload, loginTokens, newPkce, postJson, REDIRECT_URI } from '../helpers/backend-login.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
afterEach(() => {
  Object.assign(stack.backend.settings, DEFAULT_BACKEND_SETTINGS);
  stack.backend.faults.clear();
  Object.assign(stack.provider.settings, {
    accessTokenTtl: 3600,
    refreshTokenTtl: 30 * 24 * 3600,
    codeTtl: 60,
    deviceCodeTtl: 600,
  });
});

const get = (path: string, token?: string) =>
  fetch(`${stack.apiUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /auth/config', () => {
  it('publishes the Auth0 settings', async () => {
    const response = await get('/auth/config');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      domain: stack.auth0.domain,
      client_id: stack.auth0.clientId,
      audience: stack.auth0.audience,
      scope: expect.stringContaining('offline_access'),
    });
  });

  it('answers 404 when the deployment does not publish it', async () => {
    stack.backend.settings.configEndpoint = false;
    expect((await get('/auth/config')).status).toBe(404);
  });
});

describe('GET /auth/get-auth-url', () => {
  it('carries redirect_uri, state and challenge unchanged, with code flow, client, audience and offline_access', async () => {
    const pkce = newPkce();
    const url = new URL(await authUrlFor(stack, pkce));
    expect(url.origin + url.pathname).toBe(`${stack.auth0.domain}/authorize`);
    const q = url.searchParams;
    expect(q.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(q.get('state')).toBe(pkce.state);
    expect(q.get('code_challenge')).toBe(pkce.challenge);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(stack.auth0.clientId);
    expect(q.get('audience')).toBe(stack.auth0.audience);
    expect(q.get('scope')?.split(' ')).toContain('offline_access');
    expect(q.has('extended_lifetime')).toBe(false);
  });

  it('passes extended_lifetime=true through', async () => {
    const url = new URL(await authUrlFor(stack, newPkce(), { extended_lifetime: 'true' }));
    expect(url.searchParams.get('extended_lifetime')).toBe('true');
  });

  it.each([
    ['a missing redirect_uri', { redirect_uri: '' }],
    ['a missing state', { state: '' }],
    ['a short code_challenge', { code_challenge: 'abc' }],
    ['the plain method', { code_challenge_method: 'plain' }],
    ['an odd extended_lifetime', { extended_lifetime: 'maybe' }],
  ])('answers 400 invalid_request for %s', async (_name, override) => {
    const pkce = newPkce();
    const query = new URLSearchParams({
      redirect_uri: REDIRECT_URI,
      state: pkce.state,
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...override,
    });
    const response = await get(`/auth/get-auth-url?${query}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toEqual(expect.any(String));
    expect(body.request_id).toBe(response.headers.get('x-request-id'));
  });

  it('answers 404 when absent', async () => {
    stack.backend.settings.authUrlEndpoint = false;
    expect((await get(`/auth/get-auth-url?state=x`)).status).toBe(404);
  });
});

describe('POST /auth/exchange-token', () => {
  const exchange = (body: unknown) => postJson(`${stack.apiUrl}/auth/exchange-token`, body);

  it('redeems a code with the PKCE verifier for a token set with a JWT access token for the audience', async () => {
    const before = stack.backend.counters.exchanges;
    const { code, pkce, callback } = await codeFor(stack);
    expect(callback.searchParams.get('state')).toBe(pkce.state);
    const { status, json } = await exchange({ code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      id_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
    });
    const claims = decodeJwtPayload(json.access_token as string);
    expect(claims.aud).toBe(stack.auth0.audience);
    expect(claims.iss).toBe(stack.provider.issuer);
    expect(claims.sub).toBe(stack.provider.subjectFor('alice@example.test'));
    expect(stack.backend.counters.exchanges).toBe(before + 1);
  });

  it('honours the provider token lifetime (short lifetimes for tests)', async () => {
    stack.provider.settings.accessTokenTtl = 5;
    const tokens = await loginTokens(stack);
    expect(tokens.expires_in).toBe(5);
    const claims = decodeJwtPayload(tokens.access_token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(5);
  });

  it('issues the extended lifetime when the login asked for it', async () => {
    stack.provider.settings.extendedAccessTokenTtl = 7777;
    const { code, pkce } = await codeFor(stack, { login: 'extended@example.test' }, { extended_lifetime: 'true' });
    const { json } = await exchange({ code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier, extended_lifetime: true });
    expect(json.expires_in).toBe(7777);
  });

  it('answers 400 invalid_grant for a bad code', async () => {
    const { pkce } = await codeFor(stack);
    const { status, json } = await exchange({ code: 'not-a-code', redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier });
    expect([status, json.error]).toEqual([400, 'invalid_grant']);
  });

  it('answers 400 invalid_grant for a used code', async () => {
    const { code, pkce } = await codeFor(stack);
    const body = { code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier };
    expect((await exchange(body)).status).toBe(200);
    const again = await exchange(body);
    expect([again.status, again.json.error]).toEqual([400, 'invalid_grant']);
  });

  it('answers 400 invalid_grant for an expired code', async () => {
    stack.provider.settings.codeTtl = 1;
    const { code, pkce } = await codeFor(stack);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const { status, json } = await exchange({ code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier });
    expect([status, json.error]).toEqual([400, 'invalid_grant']);
  });

  it('answers 400 invalid_grant for a verifier that does not match the challenge', async () => {
    const { code } = await codeFor(stack);
    const { status, json } = await exchange({ code, redirect_uri: REDIRECT_URI, code_verifier: newPkce().verifier });
    expect([status, json.error]).toEqual([400, 'invalid_grant']);
  });

  it('answers 400 invalid_grant for a redirect_uri other than the one authorized', async () => {
    const { code, pkce } = await codeFor(stack);
    const { status, json } = await exchange({
      code,
      redirect_uri: 'http://127.0.0.1:8000/callback',
      code_verifier: pkce.verifier,
    });
    expect([status, json.error]).toEqual([400, 'invalid_grant']);
  });

  it.each([
    ['no code', { redirect_uri: REDIRECT_URI, code_verifier: 'v'.repeat(43) }],
    ['no verifier', { code: 'c', redirect_uri: REDIRECT_URI }],
    ['no redirect_uri', { code: 'c', code_verifier: 'v'.repeat(43) }],
  ])('answers 400 invalid_request for %s', async (_name, body) => {
    const { status, json } = await exchange(body);
    expect([status, json.error]).toEqual([400, 'invalid_request']);
  });

  it('answers 400 invalid_request for a body that is not JSON', async () => {
    const response = await fetch(`${stack.apiUrl}/auth/exchange-token`, { method: 'POST', body: '{nope' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request');
  });

  it('answers 502 when Auth0 is unreachable', async () => {
    const { code, pkce } = await codeFor(stack);
    stack.backend.settings.auth0Unreachable = true;
    const { status, json } = await exchange({ code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier });
    expect(status).toBe(502);
    expect(json.request_id).toEqual(expect.any(String));
  });
});

describe('POST /auth/refresh-token', () => {
  const refresh = (refreshToken: string) => postJson(`${stack.apiUrl}/auth/refresh-token`, { refresh_token: refreshToken });

  it('returns a new token set with a rotated refresh token', async () => {
    const tokens = await loginTokens(stack);
    const before = stack.backend.counters.refreshes;
    const { status, json } = await refresh(tokens.refresh_token as string);
    expect(status).toBe(200);
    expect(json.token_type).toBe('Bearer');
    expect(json.access_token).not.toBe(tokens.access_token);
    expect(json.refresh_token).toEqual(expect.any(String));
    expect(json.refresh_token).not.toBe(tokens.refresh_token);
    expect(stack.backend.counters.refreshes).toBe(before + 1);
  });

  it('treats reuse of a rotated refresh token as theft: invalid_grant, and the whole family is revoked', async () => {
    const tokens = await loginTokens(stack);
    const rotated = await refresh(tokens.refresh_token as string);
    const reuseBefore = stack.provider.counters.refreshTokenReuse;
    const reuse = await refresh(tokens.refresh_token as string);
    expect([reuse.status, reuse.json.error]).toEqual([400, 'invalid_grant']);
    expect(stack.provider.counters.refreshTokenReuse).toBe(reuseBefore + 1);
    const newest = await refresh(rotated.json.refresh_token as string);
    expect([newest.status, newest.json.error]).toEqual([400, 'invalid_grant']);
  });

  it('answers invalid_grant for a revoked refresh token', async () => {
    const tokens = await loginTokens(stack);
    const basic = Buffer.from(`${stack.auth0.clientId}:${stack.backend.authority.clientSecret}`).toString('base64');
    const revoke = await fetch(`${stack.provider.origin}/oauth/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token as string, token_type_hint: 'refresh_token' }),
    });
    expect(revoke.status).toBe(200);
    const { status, json } = await refresh(tokens.refresh_token as string);
    expect([status, json.error]).toEqual([400, 'invalid_grant']);
  });

  it('answers invalid_grant for an expired refresh token', async () => {
    stack.provider.settings.refreshTokenTtl = 1;
    const tokens = await loginTokens(stack);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const { status, json } = await refresh(tokens.refresh_token as string);
    expect([status, json.error]).toEqual([400, 'invalid_grant']);
  });

  it('can answer 401 invalid_grant, as the contract allows', async () => {
    stack.backend.settings.refreshInvalidGrantStatus = 401;
    const { status, json } = await refresh('no-such-refresh-token');
    expect([status, json.error]).toEqual([401, 'invalid_grant']);
  });

  it('answers 400 invalid_request without a refresh_token', async () => {
    const { status, json } = await postJson(`${stack.apiUrl}/auth/refresh-token`, {});
    expect([status, json.error]).toEqual([400, 'invalid_request']);
  });
});

describe('GET /auth/validate', () => {
  it('says valid for a good access token, with sub, exp and scope', async () => {
    const tokens = await loginTokens(stack);
    const before = stack.backend.counters.validations;
    const response = await get('/auth/validate', tokens.access_token);
    expect(response.status).toBe(200);
    const claims = decodeJwtPayload(tokens.access_token);
    expect(await response.json()).toEqual({ valid: true, sub: claims.sub, exp: claims.exp, scope: expect.any(String) });
    expect(stack.backend.counters.validations).toBe(before + 1);
  });

  it('says valid with exp null for an API key', async () => {
    const tokens = await loginTokens(stack);
    const created = await postJson(
      `${stack.apiUrl}/api/v1/api-keys`,
      { name: 'ci' },
      { authorization: `Bearer ${tokens.access_token}` },
    );
    const response = await get('/auth/validate', created.json.key as string);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ valid: true, exp: null });
  });

  it.each([
    ['no token', undefined],
    ['garbage', 'garbage'],
    ['a JWT with a forged signature', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ['an unknown API key', `mesh_${'A'.repeat(43)}`],
  ])('answers 401 invalid_token for %s', async (_name, token) => {
    const response = await get('/auth/validate', token);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ valid: false, error: 'invalid_token' });
  });

  it('answers 401 for an expired access token', async () => {
    stack.provider.settings.accessTokenTtl = 1;
    const tokens = await loginTokens(stack);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect((await get('/auth/validate', tokens.access_token)).status).toBe(401);
  });

  it('answers 404 when the deployment lacks the endpoint', async () => {
    stack.backend.settings.validateEndpoint = false;
    const tokens = await loginTokens(stack);
    expect((await get('/auth/validate', tokens.access_token)).status).toBe(404);
  });
});

describe('GET /auth/profile', () => {
  it('returns the profile, registering the user on the first call', async () => {
    const tokens = await loginTokens(stack, { login: 'bob@example.test' });
    const sub = decodeJwtPayload(tokens.access_token).sub as string;
    expect(stack.backend.state.users.get(sub)?.registered).not.toBe(true);
    const response = await get('/auth/profile', tokens.access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      profile: { id: sub, email: 'bob@example.test', name: 'bob@example.test', credits: expect.any(Number) },
    });
    expect(stack.backend.state.users.get(sub)?.registered).toBe(true);
  });

  it('answers 404 without credentials, or 401 when so configured', async () => {
    expect((await get('/auth/profile')).status).toBe(404);
    stack.backend.settings.authFailureStatus = 401;
    expect((await get('/auth/profile', 'garbage')).status).toBe(401);
  });
});

describe('device flow: POST /auth/device-code and /auth/token-status', () => {
  const deviceCode = () => postJson(`${stack.apiUrl}/auth/device-code`, {});
  const status = (code: string) => postJson(`${stack.apiUrl}/auth/token-status`, { device_code: code });

  it('starts with the codes and URLs, answers pending, slows a fast poller down, then issues tokens once approved', async () => {
    stack.backend.settings.deviceInterval = 1;
    const started = await deviceCode();
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
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the interval counts from the device authorization
    const pending = await status(code);
    expect([pending.status, pending.json.error]).toEqual([400, 'authorization_pending']);
    const tooFast = await status(code);
    expect([tooFast.status, tooFast.json.error]).toEqual([400, 'slow_down']);

    await approveDeviceOverHttp(started.json.verification_uri_complete as string, { login: 'dora@example.test' });
    await new Promise((resolve) => setTimeout(resolve, 6100)); // what the client owes after one slow_down: 1 + 5 s
    const done = await status(code);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
    });
    expect(decodeJwtPayload(done.json.access_token as string).sub).toBe(stack.provider.subjectFor('dora@example.test'));
  });

  it('answers access_denied when the user cancels', async () => {
    stack.backend.settings.deviceInterval = 1;
    const started = await deviceCode();
    await approveDeviceOverHttp(started.json.verification_uri_complete as string, { deny: true });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const denied = await status(started.json.device_code as string);
    expect([denied.status, denied.json.error]).toEqual([400, 'access_denied']);
  });

  it('answers expired_token once the device code has expired', async () => {
    stack.provider.settings.deviceCodeTtl = 1;
    stack.backend.settings.deviceInterval = 1;
    const started = await deviceCode();
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const expired = await status(started.json.device_code as string);
    expect([expired.status, expired.json.error]).toEqual([400, 'expired_token']);
  });

  it('answers slow_down to a poll sooner than the interval after the device authorization', async () => {
    stack.backend.settings.deviceInterval = 1;
    const started = await deviceCode();
    const early = await status(started.json.device_code as string);
    expect([early.status, early.json.error]).toEqual([400, 'slow_down']);
  });

  it('answers 404 when the deployment has no device flow', async () => {
    stack.backend.settings.deviceFlow = false;
    expect((await deviceCode()).status).toBe(404);
  });

  it('answers 400 invalid_request without a device_code', async () => {
    const { status: code, json } = await postJson(`${stack.apiUrl}/auth/token-status`, {});
    expect([code, json.error]).toEqual([400, 'invalid_request']);
  });
});
