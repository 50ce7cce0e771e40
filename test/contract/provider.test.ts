// The stand-in provider behaves as Auth0 does where the SDK can tell. Shown against the provider
// itself, without the backend in between.
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginOverHttp } from '../../dev/login-driver.js';
import { type Stack, startStack } from '../../dev/stack.js';
import { REDIRECT_URI } from '../helpers/backend-login.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

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

  it('requires PKCE, even from the confidential client', async () => {
    const callback = await loginOverHttp(authorizeUrl({}), REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
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
