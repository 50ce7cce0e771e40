// The stand-in provider behaves as Auth0 does where the SDK can tell. Shown against the provider
// itself, without the backend in between.
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { approveDeviceOverHttp, loginOverHttp } from '../../dev/login-driver.js';
import { startStack } from '../../dev/stack.js';
import { pollDeviceToken, REDIRECT_URI, SCOPE, startDeviceAuthorization } from '../helpers/backend-login.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack();
afterEach(() => {
  Object.assign(stack.provider.settings, {
    deviceInterval: 5,
    devicePollFloor: 0,
    deviceErrorStatuses: 'auth0',
    deviceCodeTtl: 600,
    refreshReuseIntervalSeconds: 0,
  });
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function authorizeUrl(params: Record<string, string | undefined>): string {
  const url = new URL('/authorize', stack.provider.origin);
  const defaults: Record<string, string> = {
    response_type: 'code',
    client_id: stack.auth0.clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email offline_access',
    audience: stack.auth0.audience,
    state: 'state-1',
  };
  for (const [key, value] of Object.entries({ ...defaults, ...params }))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.href;
}

async function tokenRequest(form: Record<string, string>) {
  const basic = Buffer.from(`${stack.auth0.clientId}:${stack.backend.authority.clientSecret}`).toString('base64');
  const response = await fetch(`${stack.provider.origin}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

/** A refresh at the token endpoint as the public native application (the device flow's). */
async function nativeRefresh(refreshToken: string) {
  const response = await fetch(`${stack.provider.origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: stack.deviceClientId }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, string> };
}

async function codeAndVerifier() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const callback = await loginOverHttp(authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256' }), REDIRECT_URI);
  return { code: callback.searchParams.get('code') as string, verifier };
}

async function freshTokens() {
  const { code, verifier } = await codeAndVerifier();
  const { json } = await tokenRequest({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  return json;
}

describe('stand-in provider', () => {
  it("lays its routes out as Auth0's, with an issuer that ends in a slash", async () => {
    const discovery = (await (await fetch(`${stack.provider.origin}/.well-known/openid-configuration`)).json()) as Record<
      string,
      string
    >;
    const origin = stack.provider.origin;
    expect(discovery).toMatchObject({
      issuer: `${origin}/`,
      authorization_endpoint: `${origin}/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      device_authorization_endpoint: `${origin}/oauth/device/code`,
      jwks_uri: `${origin}/.well-known/jwks.json`,
      userinfo_endpoint: `${origin}/userinfo`,
      revocation_endpoint: `${origin}/oauth/revoke`,
    });
  });

  it('does not require PKCE from the confidential client (the deployed backend forwards no verifier)', async () => {
    const callback = await loginOverHttp(authorizeUrl({}), REDIRECT_URI);
    const code = callback.searchParams.get('code') as string;
    expect(code).toEqual(expect.any(String));
    const { status, json } = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    expect(status).toBe(200);
    expect(json.access_token).toEqual(expect.any(String));
  });

  it('verifies a challenge whenever the authorize request carried one: no verifier or a wrong one is invalid_grant', async () => {
    for (const verifier of [undefined, randomBytes(32).toString('base64url')]) {
      const { code } = await codeAndVerifier();
      const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
      if (verifier) form.code_verifier = verifier;
      const { status, json } = await tokenRequest(form);
      expect([status, json.error]).toEqual([400, 'invalid_grant']);
    }
  });

  it('refuses the plain PKCE method', async () => {
    const callback = await loginOverHttp(
      authorizeUrl({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }),
      REDIRECT_URI,
    );
    expect(callback.searchParams.get('error')).toBe('invalid_request');
  });

  it('issues an RS256 JWT access token for the audience, verifiable with its JWKS', async () => {
    const tokens = await freshTokens();
    expect(decodeProtectedHeader(tokens.access_token as string).alg).toBe('RS256');
    const jwks = createRemoteJWKSet(new URL(`${stack.provider.origin}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.access_token as string, jwks, {
      issuer: stack.provider.issuer,
      audience: stack.auth0.audience,
    });
    expect(payload.sub).toBe(stack.provider.subjectFor('alice@example.test'));
  });

  it('refuses an unknown audience as Auth0 does: access_denied, "Service not found"', async () => {
    const callback = await loginOverHttp(
      authorizeUrl({ audience: 'https://not-an-api.example', code_challenge: 'c'.repeat(43), code_challenge_method: 'S256' }),
      REDIRECT_URI,
    );
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toMatch(/Service not found/);
  });

  it('issues a refresh token without a consent prompt, and rotates it on every use', async () => {
    const tokens = await freshTokens();
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const first = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string });
    const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token as string });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(new Set([tokens.refresh_token, first.json.refresh_token, second.json.refresh_token]).size).toBe(3);
  });

  it('revokes the whole family when a rotated refresh token is reused, and counts the reuse', async () => {
    const tokens = await freshTokens();
    const rotated = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string });
    const before = stack.provider.counters.refreshTokenReuse;
    const reuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string });
    expect([reuse.status, reuse.json.error]).toEqual([400, 'invalid_grant']);
    expect(stack.provider.counters.refreshTokenReuse).toBe(before + 1);
    const newest = await tokenRequest({ grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token as string });
    expect([newest.status, newest.json.error]).toEqual([400, 'invalid_grant']);
  });

  it('shows a login page a person can fill in, and refuses a wrong password', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    await expect(
      loginOverHttp(authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256' }), REDIRECT_URI, {
        password: 'wrong',
      }),
    ).rejects.toThrow(/401/);
  });

  it('sends access_denied to the callback when the user cancels', async () => {
    const callback = await loginOverHttp(
      authorizeUrl({ code_challenge: 'd'.repeat(43), code_challenge_method: 'S256' }),
      REDIRECT_URI,
      { deny: true },
    );
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('state-1');
  });
});

// The deployed device flow goes straight to Auth0 with the native application (contract v2 part A,
// "Device flow, direct to Auth0"): Auth0 answers pending/denied/expired as 403 and slow_down as 429.
describe('stand-in provider: device flow as Auth0 runs it', () => {
  it('starts for the native application (no secret) with interval and expires_in; refuses the confidential one', async () => {
    stack.provider.settings.deviceInterval = 2;
    const started = await startDeviceAuthorization(stack);
    expect(started.status).toBe(200);
    expect(started.json).toMatchObject({
      device_code: expect.any(String),
      user_code: expect.any(String),
      verification_uri: `${stack.provider.origin}/activate`,
      verification_uri_complete: expect.stringContaining('/activate?user_code='),
      expires_in: 600,
      interval: 2,
    });
    const confidential = await startDeviceAuthorization(stack, stack.auth0.clientId);
    expect(confidential.status).toBeGreaterThanOrEqual(400);
  });

  it('answers 403 authorization_pending, 429 slow_down to a fast poller (+5 s each), then 200 with tokens once approved', async () => {
    stack.provider.settings.deviceInterval = 1;
    const started = await startDeviceAuthorization(stack);
    const code = started.json.device_code as string;
    const pending = await pollDeviceToken(stack, code);
    expect([pending.status, pending.json.error]).toEqual([403, 'authorization_pending']);
    const before = stack.provider.counters.slowDowns;
    const tooFast = await pollDeviceToken(stack, code);
    expect([tooFast.status, tooFast.json.error]).toEqual([429, 'slow_down']);
    expect(stack.provider.counters.slowDowns).toBe(before + 1);
    await approveDeviceOverHttp(started.json.verification_uri_complete as string, { login: 'frank@example.test' });
    await sleep(6100); // what it owes after one slow_down: 1 + 5 s
    const done = await pollDeviceToken(stack, code);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
    });
    const jwks = createRemoteJWKSet(new URL(`${stack.provider.origin}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(done.json.access_token as string, jwks, {
      issuer: stack.provider.issuer,
      audience: stack.auth0.audience,
    });
    expect(payload.sub).toBe(stack.provider.subjectFor('frank@example.test'));
  });

  it('answers 403 access_denied when the user cancels, and 403 expired_token after expiry', async () => {
    const denied = await startDeviceAuthorization(stack);
    await approveDeviceOverHttp(denied.json.verification_uri_complete as string, { deny: true });
    const refused = await pollDeviceToken(stack, denied.json.device_code as string);
    expect([refused.status, refused.json.error]).toEqual([403, 'access_denied']);
    stack.provider.settings.deviceCodeTtl = 1;
    const expiring = await startDeviceAuthorization(stack);
    await sleep(1600);
    const expired = await pollDeviceToken(stack, expiring.json.device_code as string);
    expect([expired.status, expired.json.error]).toEqual([403, 'expired_token']);
  });

  it('paces polls as RFC 8628 §3.5 says: the interval is kept, each slow_down adds 5 s', async () => {
    stack.provider.settings.deviceInterval = 1;
    const code = (await startDeviceAuthorization(stack)).json.device_code as string;
    expect((await pollDeviceToken(stack, code)).json.error).toBe('authorization_pending');
    await sleep(1100);
    expect((await pollDeviceToken(stack, code)).json.error).toBe('authorization_pending');
    expect((await pollDeviceToken(stack, code)).json.error).toBe('slow_down');
    await sleep(1100); // 1 s is no longer enough
    expect((await pollDeviceToken(stack, code)).json.error).toBe('slow_down');
  });

  it('enforces a poll floor above the interval it sent, and can answer with RFC 8628 statuses (400) instead', async () => {
    stack.provider.settings.deviceInterval = 1;
    stack.provider.settings.devicePollFloor = 3;
    stack.provider.settings.deviceErrorStatuses = 'rfc';
    const started = await startDeviceAuthorization(stack);
    expect(started.json.interval).toBe(1);
    const code = started.json.device_code as string;
    expect(await pollDeviceToken(stack, code)).toMatchObject({ status: 400, json: { error: 'authorization_pending' } });
    await sleep(1100);
    expect(await pollDeviceToken(stack, code)).toMatchObject({ status: 400, json: { error: 'slow_down' } });
  });

  it("binds refresh tokens to their application: the device app's refreshes only as itself", async () => {
    const started = await startDeviceAuthorization(stack);
    await approveDeviceOverHttp(started.json.verification_uri_complete as string);
    const tokens = (await pollDeviceToken(stack, started.json.device_code as string)).json;
    const asConfidential = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string });
    expect([asConfidential.status, asConfidential.json.error]).toEqual([400, 'invalid_grant']);
    const asNative = await fetch(`${stack.provider.origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token as string,
        client_id: stack.deviceClientId,
        scope: SCOPE,
      }),
    });
    expect(asNative.status).toBe(200);
  });
});

// Auth0's "Rotation Overlap Period" (reuse interval): for N seconds after a rotation the token just
// rotated out may be exchanged again (a client that lost the reply retries), without breach detection.
describe('stand-in provider: refresh-token rotation overlap period (reuse interval)', () => {
  const refresh = (refreshToken: string) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
  const counts = () => {
    const { reuseIntervalGrants, refreshTokenReuse, revokedFamilies, grants } = stack.provider.counters;
    return {
      overlap: reuseIntervalGrants,
      reuse: refreshTokenReuse,
      revoked: revokedFamilies,
      refreshes: grants.refresh_token ?? 0,
    };
  };
  /** How many refreshes each family that grew since `before` gained. */
  const familyGrowth = (before: Record<string, number>) =>
    Object.entries(stack.provider.counters.refreshesByFamily)
      .filter(([family, count]) => count !== (before[family] ?? 0))
      .map(([family, count]) => count - (before[family] ?? 0));

  it('exchanges the immediately previous refresh token again within the interval: a new token of the same family, no breach', async () => {
    stack.provider.settings.refreshReuseIntervalSeconds = 5;
    const tokens = await freshTokens();
    const families = { ...stack.provider.counters.refreshesByFamily };
    const rotated = await refresh(tokens.refresh_token as string);
    const before = counts();
    const retried = await refresh(tokens.refresh_token as string);
    expect(retried.status).toBe(200);
    expect(retried.json.access_token).toEqual(expect.any(String));
    expect(new Set([tokens.refresh_token, rotated.json.refresh_token, retried.json.refresh_token]).size).toBe(3);
    expect(counts()).toEqual({ ...before, overlap: before.overlap + 1, refreshes: before.refreshes + 1 });
    expect(familyGrowth(families)).toEqual([2]);
    const next = await refresh(retried.json.refresh_token as string);
    expect(next.status).toBe(200);
    expect(counts()).toEqual({ ...before, overlap: before.overlap + 1, refreshes: before.refreshes + 2 });
  });

  it('treats the second-to-last refresh token as theft even within the interval: refused, the family revoked', async () => {
    stack.provider.settings.refreshReuseIntervalSeconds = 5;
    const tokens = await freshTokens();
    const first = await refresh(tokens.refresh_token as string);
    const second = await refresh(first.json.refresh_token as string);
    expect([first.status, second.status]).toEqual([200, 200]);
    const before = counts();
    const stale = await refresh(tokens.refresh_token as string);
    expect([stale.status, stale.json.error]).toEqual([400, 'invalid_grant']);
    expect(counts()).toEqual({ ...before, reuse: before.reuse + 1, revoked: before.revoked + 1 });
    const newest = await refresh(second.json.refresh_token as string);
    expect([newest.status, newest.json.error]).toEqual([400, 'invalid_grant']);
    expect(counts().overlap).toBe(before.overlap);
  });

  it('treats the previous refresh token as theft once the interval has passed', async () => {
    stack.provider.settings.refreshReuseIntervalSeconds = 1;
    const tokens = await freshTokens();
    const rotated = await refresh(tokens.refresh_token as string);
    await sleep(1100);
    const before = counts();
    const late = await refresh(tokens.refresh_token as string);
    expect([late.status, late.json.error]).toEqual([400, 'invalid_grant']);
    expect(counts()).toEqual({ ...before, reuse: before.reuse + 1, revoked: before.revoked + 1 });
    expect((await refresh(rotated.json.refresh_token as string)).status).toBe(400);
  });

  it("keeps refresh tokens bound to their application: the other application's previous token is refused, its own retry works", async () => {
    stack.provider.settings.refreshReuseIntervalSeconds = 5;
    const started = await startDeviceAuthorization(stack);
    await approveDeviceOverHttp(started.json.verification_uri_complete as string);
    const device = (await pollDeviceToken(stack, started.json.device_code as string)).json as Record<string, string>;
    expect((await nativeRefresh(device.refresh_token as string)).status).toBe(200);
    const web = await freshTokens();
    expect((await refresh(web.refresh_token as string)).status).toBe(200);
    const before = counts();
    const deviceTokenAsWeb = await refresh(device.refresh_token as string);
    const webTokenAsDevice = await nativeRefresh(web.refresh_token as string);
    expect([deviceTokenAsWeb.status, deviceTokenAsWeb.json.error]).toEqual([400, 'invalid_grant']);
    expect([webTokenAsDevice.status, webTokenAsDevice.json.error]).toEqual([400, 'invalid_grant']);
    expect(counts()).toEqual(before);
    expect((await nativeRefresh(device.refresh_token as string)).status).toBe(200);
    expect((await refresh(web.refresh_token as string)).status).toBe(200);
    expect(counts()).toEqual({ ...before, overlap: before.overlap + 2, refreshes: before.refreshes + 2 });
  });

  it('takes the interval from StackOptions.provider', async () => {
    const configured = await startStack({ provider: { refreshReuseIntervalSeconds: 7 } });
    try {
      expect(configured.provider.settings.refreshReuseIntervalSeconds).toBe(7);
      expect(configured.provider.counters.reuseIntervalGrants).toBe(0);
    } finally {
      await configured.close();
    }
  });
});
