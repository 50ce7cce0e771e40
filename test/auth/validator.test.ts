// The validator: local checks on real provider tokens and on hostile input; the JWKS signature
// check; the backend's /auth/validate (status only) with its fallbacks; API keys never sent there.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../dev/stack.js';
import { BackendAuth } from '../../src/auth/backend-auth.js';
import { SkewClock } from '../../src/auth/clock.js';
import { TokenValidator } from '../../src/auth/validator.js';
import { HttpClient } from '../../src/http/http-client.js';
import { loginTokens } from '../helpers/backend-login.js';

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = (await loginTokens(stack)).access_token;
});
afterAll(() => stack.close());
afterEach(() => {
  stack.backend.reset();
});

function validatorFor(options: { apiUrl?: string; clock?: SkewClock } = {}) {
  const clock = options.clock ?? new SkewClock();
  return new TokenValidator({
    clock,
    audience: stack.auth0.audience,
    issuer: stack.provider.issuer,
    jwksUrl: `${stack.provider.origin}/.well-known/jwks.json`,
    backendAuth: new BackendAuth({
      http: new HttpClient({ baseUrl: options.apiUrl ?? stack.apiUrl, timeout: 5000, maxRetries: 0 }),
      clock,
    }),
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unsigned = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256' }) =>
  `${b64(header)}.${b64(payload)}.c2ln`;
const now = () => Math.floor(Date.now() / 1000);

describe('TokenValidator, locally', () => {
  it('accepts a real provider token, with its claims', () => {
    const result = validatorFor().validateLocally(token);
    expect(result).toMatchObject({
      valid: true,
      source: 'local',
      claims: { aud: stack.auth0.audience, iss: stack.provider.issuer },
    });
  });

  it('accepts aud as an array containing the audience (Auth0 with openid)', () => {
    const payload = { exp: now() + 60, aud: [stack.auth0.audience, 'https://x/userinfo'], iss: stack.provider.issuer };
    expect(validatorFor().validateLocally(unsigned(payload)).valid).toBe(true);
  });

  it.each([
    ['an empty string', ''],
    ['two parts', 'abc.def'],
    ['four parts', 'a.b.c.d'],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.${b64({})}.x`],
    ['a payload that is an array', `${b64({ alg: 'RS256' })}.${b64([1])}.x`],
    ['characters outside base64url', 'ab$.cd.ef'],
    ['a huge token', `${b64({ alg: 'RS256' })}.${'A'.repeat(20_000)}.x`],
    ['alg none', unsigned({ exp: now() + 60 }, { alg: 'none' })],
    ['no exp', unsigned({ aud: 'x' })],
    ['exp as a string', unsigned({ exp: String(now() + 60) })],
    ['an expired token (beyond the 60 s leeway)', unsigned({ exp: now() - 61 })],
  ])('refuses %s with a reason, without throwing', (_name, input) => {
    const result = validatorFor().validateLocally(input);
    expect(result.valid).toBe(false);
    expect(result.reason).toEqual(expect.any(String));
  });

  it('allows 60 s of clock skew on exp', () => {
    const payload = { exp: now() - 30, aud: stack.auth0.audience, iss: stack.provider.issuer };
    expect(validatorFor().validateLocally(unsigned(payload)).valid).toBe(true);
  });

  it('refuses another audience or issuer', () => {
    expect(
      validatorFor().validateLocally(unsigned({ exp: now() + 60, aud: 'https://other', iss: stack.provider.issuer })).reason,
    ).toMatch(/audience/);
    expect(
      validatorFor().validateLocally(unsigned({ exp: now() + 60, aud: stack.auth0.audience, iss: 'https://evil/' })).reason,
    ).toMatch(/issuer/);
  });

  it('checks the signature against the JWKS: a real token passes, a forged one fails', async () => {
    expect((await validatorFor().verifyLocally(token)).valid).toBe(true);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ sub: 'mallory' })
      .setProtectedHeader({ alg: 'RS256', kid: 'unknown-kid' })
      .setAudience(stack.auth0.audience)
      .setIssuer(stack.provider.issuer)
      .setExpirationTime('5m')
      .sign(privateKey);
    const result = await validatorFor().verifyLocally(forged);
    expect(result).toMatchObject({ valid: false, source: 'local' });
    expect(result.reason).toMatch(/signature/);
  });

  it('fetches the JWKS once for a flood of tokens with unknown key ids (cool-down)', async () => {
    const validator = validatorFor();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256', kid: `kid-${i}` })
          .setAudience(stack.auth0.audience)
          .setIssuer(stack.provider.issuer)
          .setExpirationTime('5m')
          .sign(privateKey),
      ),
    );
    let jwksFetches = 0;
    const original = globalThis.fetch;
    globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/.well-known/jwks.json')) jwksFetches += 1;
      return original(input, init);
    }) as typeof fetch;
    try {
      await validator.verifyLocally(token); // loads the key set
      for (const bad of forged) expect((await validator.verifyLocally(bad)).valid).toBe(false);
    } finally {
      globalThis.fetch = original;
    }
    expect(jwksFetches).toBeGreaterThanOrEqual(1);
    expect(jwksFetches).toBeLessThanOrEqual(2);
  });
});

describe('TokenValidator, with the backend', () => {
  it('says the backend answered for a good token', async () => {
    expect(await validatorFor().validate(token)).toMatchObject({ valid: true, source: 'backend' });
  });

  it('says the backend refused a bad token', async () => {
    expect(await validatorFor().validate(unsigned({ exp: now() + 60 }))).toMatchObject({ valid: false, source: 'backend' });
  });

  it('falls back to the local result when the deployment has no /auth/validate (404)', async () => {
    stack.backend.settings.validateEndpoint = false;
    const result = await validatorFor().validate(token);
    expect(result).toMatchObject({ valid: true, source: 'local' });
    expect(result.reason).toMatch(/no \/auth\/validate \(HTTP 404\)/);
  });

  it('falls back to the local result when a proxy answers /auth/validate with an HTML 404 page', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 404, html: true }, match: { path: '/auth/validate' } });
    const result = await validatorFor().validate(token);
    expect(result).toMatchObject({ valid: true, source: 'local' });
    expect(result.reason).toMatch(/HTTP 404/);
  });

  it('falls back to the local result when the backend cannot be reached', async () => {
    const result = await validatorFor({ apiUrl: 'http://127.0.0.1:1' }).validate(token);
    expect(result).toMatchObject({ valid: true, source: 'local' });
    expect(result.reason).toMatch(/Could not reach/);
  });

  it('reads a 403 as "not valid" too (ambiguity 9)', async () => {
    stack.backend.settings.validateRejectStatus = 403;
    const result = await validatorFor().validate(unsigned({ exp: now() + 60 }));
    expect(result).toMatchObject({ valid: false, source: 'backend' });
    expect(result.reason).toMatch(/HTTP 403/);
  });

  it('reads only the status: a 200 with any body is valid; a 500 means "validate locally"', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 200, html: true }, match: { path: '/auth/validate' } });
    expect(await validatorFor().validate(token)).toMatchObject({ valid: true, source: 'backend' });
    stack.backend.faults.add({ fault: { kind: 'status', status: 500 }, match: { path: '/auth/validate' } });
    const result = await validatorFor().validate(token);
    expect(result).toMatchObject({ valid: true, source: 'local' });
    expect(result.reason).toMatch(/HTTP 500/);
  });

  it('gives up on a slow /auth/validate after 3 s and answers locally', async () => {
    stack.backend.faults.add({ fault: { kind: 'slowHeaders', ms: 6000 }, match: { path: '/auth/validate' } });
    const started = Date.now();
    const result = await validatorFor().validate(token);
    expect(Date.now() - started).toBeLessThan(4500);
    expect(result).toMatchObject({ valid: true, source: 'local' });
  }, 10_000);

  it('never sends a Mesh API key to /auth/validate: only its form is checked', async () => {
    const before = stack.backend.counters.validations;
    for (const key of ['mesh_yourapikey123456', 'mesh_pk_abc', `mesh_${'x'.repeat(43)}`]) {
      expect(await validatorFor().validate(key)).toMatchObject({ valid: true, source: 'local' });
    }
    expect(stack.backend.counters.validations).toBe(before);
  });
});
