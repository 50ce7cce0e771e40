// createVerifier against the local stand-in Auth0 (dev/provider): real access tokens from a real
// login, checked for signature, issuer, audience, expiry and scope, with the defaults taken from the
// same configuration as MeshClient (AUTH0_DOMAIN, AUTH0_AUDIENCE).
import { generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  type MeshIdentity,
  VerificationError,
  type VerifierOptions,
  VerifierUnavailableError,
} from '../../src/server/index.js';
import { decodeJwtPayload, loginTokens } from '../helpers/backend-login.js';
import { testClock } from '../helpers/server-issuer.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({ provider: { spareSigningKey: true } });
let token: string;

beforeAll(async () => {
  token = (await loginTokens(stack, { login: 'server@example.test' })).access_token;
});

const verifierFor = (options: VerifierOptions = {}) => createVerifier({ env: stack.env, ...options });

/** The code of the error `verify` threw, and its status; or the identity. */
async function outcome(promise: Promise<MeshIdentity>): Promise<{ code: string; status: number } | MeshIdentity> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof VerificationError || error instanceof VerifierUnavailableError)
      return { code: error.code, status: error.status };
    throw error;
  }
}

const parts = (jwt: string) => jwt.split('.') as [string, string, string];
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('createVerifier with the local provider', () => {
  it('takes its defaults from the client configuration and verifies a real access token', async () => {
    const verifier = verifierFor();
    expect(verifier.settings.issuer).toBe(stack.provider.issuer);
    expect(verifier.settings.audience).toBe(stack.auth0.audience);
    const identity = await verifier.verify(token);
    expect(identity).toMatchObject({ subject: stack.provider.subjectFor('server@example.test'), kind: 'token' });
    // The provider grants the API's scopes only when asked for them: this login asked for none.
    const scope = decodeJwtPayload(token).scope;
    expect(identity.scopes).toEqual(typeof scope === 'string' ? scope.split(' ') : []);
    expect(identity.claims.aud).toBe(stack.auth0.audience);
  });

  it('reads the token from a header value, a Fetch Request and a Node-style request alike', async () => {
    const verifier = verifierFor();
    const subject = stack.provider.subjectFor('server@example.test');
    const inputs = [
      `Bearer ${token}`,
      `bearer   ${token}`,
      new Request('http://127.0.0.1/x', { headers: { authorization: `Bearer ${token}` } }),
      { headers: { authorization: `Bearer ${token}` }, method: 'GET', url: '/x' },
    ];
    for (const input of inputs) expect((await verifier.verify(input)).subject).toBe(subject);
  });

  it('no credential is token_missing; an unreadable one token_malformed', async () => {
    const verifier = verifierFor();
    for (const input of [undefined, '', new Request('http://127.0.0.1/'), { headers: {} }]) {
      expect(await outcome(verifier.verify(input))).toEqual({ code: 'token_missing', status: 401 });
    }
    for (const input of [
      'Bearer not-a-jwt',
      `Basic ${token}`,
      'Bearer a.b.c',
      { headers: { authorization: ['Bearer a', 'Bearer b'] } },
    ]) {
      expect(await outcome(verifier.verify(input))).toEqual({ code: 'token_malformed', status: 401 });
    }
  });

  it('an expired token is token_expired (within clockTolerance it still passes)', async () => {
    const exp = decodeJwtPayload(token).exp as number;
    const late = testClock(exp * 1000 + 10_000);
    expect(await outcome(verifierFor({ now: late.now }).verify(token))).toEqual({ code: 'token_expired', status: 401 });
    const justAfter = testClock(exp * 1000 + 3_000);
    expect(await outcome(verifierFor({ now: justAfter.now }).verify(token))).toHaveProperty('kind', 'token');
  });

  it('another audience is token_audience, another issuer token_issuer', async () => {
    expect(await outcome(verifierFor({ audience: 'https://other.api' }).verify(token))).toEqual({
      code: 'token_audience',
      status: 401,
    });
    const jwksUri = `${stack.provider.origin}/.well-known/jwks.json`;
    expect(await outcome(verifierFor({ issuer: 'https://tenant.example.com/', jwksUri }).verify(token))).toEqual({
      code: 'token_issuer',
      status: 401,
    });
  });

  it('a forged signature, alg none and an HMAC signed with the public key are token_signature', async () => {
    const verifier = verifierFor();
    const [header, payload] = parts(token);
    const { privateKey } = await generateKeyPair('RS256');
    const claims = decodeJwtPayload(token);
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    const tampered = `${header}.${encode({ ...claims, sub: 'someone-else' })}.${parts(token)[2]}`;
    const none = `${encode({ alg: 'none', kid })}.${payload}.`;
    const jwks = (await (await fetch(`${stack.provider.origin}/.well-known/jwks.json`)).json()) as { keys: Array<{ n: string }> };
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(jwks.keys[0]?.n ?? 'x'));
    for (const bad of [forged, tampered, none, hmac]) {
      expect(await outcome(verifier.verify(bad))).toEqual({ code: 'token_signature', status: 401 });
    }
  });

  it('a missing scope is token_scope with 403, naming what is required', async () => {
    const verifier = verifierFor({ requiredScopes: ['admin:all'] });
    const error = await verifier.verify(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VerificationError);
    expect(error).toMatchObject({ code: 'token_scope', status: 403, requiredScopes: ['admin:all'] });
    // Per call, on top of the verifier's own (tokens holding the scopes: test/server/middleware.test.ts).
    expect(await outcome(verifierFor().verify(token, { requiredScopes: [] }))).toHaveProperty('kind', 'token');
    expect(await outcome(verifierFor().verify(token, { requiredScopes: ['nope'] }))).toEqual({
      code: 'token_scope',
      status: 403,
    });
  });

  it('a key rotation at the provider: tokens of the new key verify, those of the old one still do', async () => {
    const verifier = verifierFor();
    await verifier.verify(token);
    stack.provider.rotateKeys();
    const fresh = (await loginTokens(stack, { login: 'server@example.test' })).access_token;
    expect(JSON.parse(Buffer.from(parts(fresh)[0], 'base64url').toString()).kid).not.toBe(
      JSON.parse(Buffer.from(parts(token)[0], 'base64url').toString()).kid,
    );
    expect((await verifier.verify(fresh)).kind).toBe('token');
    expect((await verifier.verify(token)).kind).toBe('token');
  });

  it('no message or JSON of an error holds the token', async () => {
    const verifier = verifierFor({ audience: 'https://other.api' });
    const error = (await verifier.verify(token).catch((caught: unknown) => caught)) as VerificationError;
    expect(JSON.stringify(error.toJSON())).not.toContain(parts(token)[2]);
    expect(`${error.message} ${error.hint}`).not.toContain(parts(token)[1]);
  });
});
