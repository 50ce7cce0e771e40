// MeshClient.validateToken(token?, options): judges the given token or the stored one as it is,
// never refreshing and never logging in; expired and forged tokens are `valid: false` from the
// backend and locally; no token is an answer, not a throw; an API key never reaches /auth/validate.
// Passes with and without DEV_BACKEND_CAPABILITIES=all (no part B extension is involved).

import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { AbortError } from '../../src/errors/mesh-error.js';
import { loginTokens } from '../helpers/backend-login.js';
import { clientWithTokens } from '../helpers/client.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack({}, { resetAfterEach: true });

const now = () => Math.floor(Date.now() / 1000);
const allRequests = () => Object.values(stack.backend.counters.requests).reduce((sum, n) => sum + n, 0);
const quiet = () => ({ refreshes: stack.backend.counters.refreshes, grants: { ...stack.provider.counters.grants } });

/** Signed by a key of our own, shaped as the provider's tokens (audience, issuer, RS256). */
async function forged(options: { exp?: number } = {}) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return new SignJWT({ sub: 'auth0|mallory' })
    .setProtectedHeader({ alg: 'RS256', kid: 'mallory-key' })
    .setAudience(stack.auth0.audience)
    .setIssuer(stack.provider.issuer)
    .setExpirationTime(options.exp ?? now() + 300)
    .sign(privateKey);
}

/** A client whose store is an empty folder: nobody is logged in. */
async function loggedOutClient() {
  const directory = await scratchDir('mesh-validate-');
  return new MeshClient({ env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory } });
}

describe('validateToken() on the stored token, as it is', () => {
  it('an expired token without a refresh token is valid: false from the backend (no throw, no refresh, no login)', async () => {
    stack.provider.settings.accessTokenTtl = 1;
    const short = await loginTokens(stack);
    stack.provider.settings.accessTokenTtl = 3600;
    await new Promise((resolve) => setTimeout(resolve, 2100)); // the backend allows no clock leeway
    const tokens: TokenSet = { access_token: short.access_token, token_type: 'Bearer', expires_at: now() - 1 };
    const { client } = await clientWithTokens(stack, { tokens });
    const before = quiet();
    const result = await client.validateToken();
    expect(result).toMatchObject({ valid: false, source: 'backend', reason: expect.stringMatching(/HTTP 40[13]/) });
    expect(result.claims?.sub).toEqual(expect.any(String));
    expect(quiet()).toEqual(before);
  }, 15_000);

  it('an expired token with a refresh token is judged, not refreshed: valid: false from the backend and locally', async () => {
    const fresh = await storedTokens(stack);
    const tokens: TokenSet = { ...fresh, access_token: await forged({ exp: now() - 3600 }), expires_at: now() - 3600 };
    const { client, directory } = await clientWithTokens(stack, { tokens });
    const stored = await readFile(join(directory, 'token.json'), 'utf8');
    const before = quiet();
    expect(await client.validateToken()).toMatchObject({ valid: false, source: 'backend' });
    stack.backend.settings.validateEndpoint = false;
    expect(await client.validateToken()).toMatchObject({ valid: false, source: 'local', reason: 'the token has expired' });
    expect(quiet()).toEqual(before);
    expect(await readFile(join(directory, 'token.json'), 'utf8')).toBe(stored);
  });

  it('a good stored token is valid, from the backend, else locally with its signature verified', async () => {
    const { client } = await clientWithTokens(stack);
    expect(await client.validateToken()).toMatchObject({ valid: true, source: 'backend' });
    stack.backend.settings.validateEndpoint = false;
    expect(await client.validateToken()).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
    stack.backend.faults.add({ fault: { kind: 'status', status: 500 }, match: { path: '/auth/validate' } });
    stack.backend.settings.validateEndpoint = true;
    expect(await client.validateToken()).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
  });

  it('no stored token at all: valid: false, local, "no token", and nothing is sent', async () => {
    const client = await loggedOutClient();
    const before = allRequests();
    const result = await client.validateToken();
    expect(result).toMatchObject({ valid: false, source: 'local', reason: expect.stringMatching(/^no token/) });
    expect(allRequests()).toBe(before);
  });

  it('keeps the 0.1 form validateToken({ signal }): an aborted signal rejects with AbortError', async () => {
    const { client } = await clientWithTokens(stack);
    expect(await client.validateToken({})).toMatchObject({ valid: true, source: 'backend' });
    await expect(client.validateToken({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });
});

describe('validateToken(token): a token the caller holds', () => {
  it('judges the given token, not the stored one (even with none stored)', async () => {
    const client = await loggedOutClient();
    const held = (await loginTokens(stack)).access_token;
    expect(await client.validateToken(held)).toMatchObject({
      valid: true,
      source: 'backend',
      claims: { aud: stack.auth0.audience },
    });
    const { client: withTokens } = await clientWithTokens(stack);
    expect(await withTokens.validateToken(await forged())).toMatchObject({ valid: false, source: 'backend' });
  });

  it('a forged token is valid: false from the backend and locally (bad signature)', async () => {
    const client = await loggedOutClient();
    const token = await forged();
    expect(await client.validateToken(token)).toMatchObject({ valid: false, source: 'backend' });
    stack.backend.settings.validateEndpoint = false;
    const local = await client.validateToken(token);
    expect(local).toMatchObject({ valid: false, source: 'local', signature: 'invalid' });
    expect(local.reason).toMatch(/not the issuer's/);
    // Unreachable backend: the local answer stands in, and still refuses it.
    const offline = new MeshClient({
      env: { ...stack.env, CI: 'true', MESH_API_URL: 'http://127.0.0.1:1', MESH_MAX_RETRIES: '0' },
    });
    expect(await offline.validateToken(token)).toMatchObject({ valid: false, source: 'local', signature: 'invalid' });
    expect(await offline.validateToken('not-a-jwt')).toMatchObject({ valid: false, source: 'local' });
  });
});

describe('validateToken with an API key', () => {
  it('never sends a key to /auth/validate: the profile answers for it, given or configured', async () => {
    const { client: owner } = await clientWithTokens(stack, { login: 'validate-key-owner@example.test' });
    const { key } = await owner.generateApiKey('validate');
    const profiles = () => stack.backend.counters.requests['GET /auth/profile'] ?? 0;
    const before = { validations: stack.backend.counters.validations, profiles: profiles() };
    const server = new MeshClient({ env: { ...stack.env, MESH_API_KEY: key } });
    expect(await server.validateToken()).toMatchObject({ valid: true, source: 'backend' });
    expect(await server.validateToken('mesh_pk_not_a_key_the_backend_knows')).toMatchObject({ valid: false, source: 'backend' });
    expect(await owner.validateToken(key)).toMatchObject({ valid: true, source: 'backend' });
    expect(stack.backend.counters.validations).toBe(before.validations);
    expect(profiles() - before.profiles).toBe(3);
  });
});
