// The validator: local checks on real provider tokens and on hostile input; the JWKS signature
// check; the backend's /auth/validate (status only) with its fallbacks; API keys never sent there.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackendAuth } from '../../../src/auth/backend/backend-auth.js';
import { SkewClock } from '../../../src/auth/tokens/clock.js';
import { JwksCache } from '../../../src/auth/tokens/jwks.js';
import { TokenValidator } from '../../../src/auth/tokens/validator.js';
import { HttpClient } from '../../../src/http/http-client.js';
import { loginTokens } from '../../helpers/backend-login.js';
import { useStack } from '../../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
let token: string;
beforeAll(async () => {
  token = (await loginTokens(stack)).access_token;
});

function validatorFor(options: { apiUrl?: string; clock?: SkewClock; jwks?: JwksCache; backend?: boolean } = {}) {
  const clock = options.clock ?? new SkewClock();
  return new TokenValidator({
    clock,
    audience: stack.auth0.audience,
    issuer: stack.provider.issuer,
    jwks: options.jwks ?? new JwksCache({ url: `${stack.provider.origin}/.well-known/jwks.json` }),
    backendAuth:
      options.backend === false
        ? undefined
        : new BackendAuth({
            http: new HttpClient({ baseUrl: options.apiUrl ?? stack.apiUrl, timeout: 5000, maxRetries: 0 }),
            clock,
          }),
  });
}

/** A token shaped as the provider's (audience, issuer, RS256) but signed by a key of our own. */
async function forge(kid: string, privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey) {
  return new SignJWT({ sub: 'mallory' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setAudience(stack.auth0.audience)
    .setIssuer(stack.provider.issuer)
    .setExpirationTime('5m')
    .sign(privateKey);
}

const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString()).kid as string;
const jwksFetches = () => stack.provider.counters.jwksFetches;

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
  ])('refuses %s with a reason, without throwing', (_name, input) => {
    const result = validatorFor().validateLocally(input);
    expect(result.valid).toBe(false);
    expect(result.reason).toEqual(expect.any(String));
  });

  it('allows 60 s of clock skew on exp, and not a second more', () => {
    const at = (exp: number) =>
      validatorFor().validateLocally(unsigned({ exp, aud: stack.auth0.audience, iss: stack.provider.issuer }));
    expect(at(now() - 30).valid).toBe(true);
    expect(at(now() - 58).valid).toBe(true);
    const late = at(now() - 62);
    expect(late.valid).toBe(false);
    expect(late.reason).toMatch(/expired/);
  });

  it('refuses another audience or issuer', () => {
    expect(
      validatorFor().validateLocally(unsigned({ exp: now() + 60, aud: 'https://other', iss: stack.provider.issuer })).reason,
    ).toMatch(/audience/);
    expect(
      validatorFor().validateLocally(unsigned({ exp: now() + 60, aud: stack.auth0.audience, iss: 'https://evil/' })).reason,
    ).toMatch(/issuer/);
  });

  it('checks the signature against the JWKS: a real token is verified, a forged one is invalid', async () => {
    expect(await validatorFor().verifyLocally(token)).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
    // Unknown kid, and the provider's own kid over a signature of another key: both refused.
    for (const forged of [await forge('unknown-kid'), await forge(kidOf(token))]) {
      const result = await validatorFor().verifyLocally(forged);
      expect(result).toMatchObject({ valid: false, source: 'local', signature: 'invalid' });
      expect(result.reason).toMatch(/not the issuer's|forged or altered/);
    }
  });

  it('says "unverified", and why, when the JWKS cannot be fetched; the claims then decide', async () => {
    const jwks = new JwksCache({ url: 'http://127.0.0.1:1/.well-known/jwks.json' });
    const result = await validatorFor({ jwks }).verifyLocally(token);
    expect(result).toMatchObject({ valid: true, source: 'local', signature: 'unverified' });
    expect(result.signatureReason).toMatch(/could not be fetched \(ECONNREFUSED\)/);
    expect(await validatorFor({ jwks }).verifyLocally(unsigned({ exp: now() - 3600 }))).toMatchObject({ valid: false });
  });

  it('a flood of unknown key ids costs exactly one JWKS re-fetch per cool-down (counted at the provider)', async () => {
    let clockMs = 0;
    const jwks = new JwksCache({ url: `${stack.provider.origin}/.well-known/jwks.json`, now: () => clockMs });
    const validator = validatorFor({ jwks, backend: false });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await Promise.all(Array.from({ length: 20 }, (_, i) => forge(`kid-${i}`, privateKey)));
    const before = jwksFetches();
    expect((await validator.verifyLocally(token)).signature).toBe('verified');
    expect(jwksFetches() - before).toBe(1); // the first load
    expect((await validator.verifyLocally(token)).signature).toBe('verified');
    expect(jwksFetches() - before).toBe(1); // cached
    // The first unknown kid may be a rotation: one re-fetch. The rest, one by one and all at once: none.
    for (const bad of forged.slice(0, 10))
      expect(await validator.verifyLocally(bad)).toMatchObject({ valid: false, signature: 'invalid' });
    const together = await Promise.all(forged.slice(10).map((bad) => validator.verifyLocally(bad)));
    expect(together.every((result) => result.valid === false && result.signature === 'invalid')).toBe(true);
    expect(jwksFetches() - before).toBe(2);
    clockMs += 29_000;
    expect((await validator.verifyLocally(forged[0] as string)).valid).toBe(false);
    expect(jwksFetches() - before).toBe(2);
    // Past the 30 s cool-down: one more re-fetch for the next unknown kid, then none again.
    clockMs += 1_000;
    await Promise.all(forged.map((bad) => validator.verifyLocally(bad)));
    expect(jwksFetches() - before).toBe(3);
    // A known kid with a bad signature never re-fetches.
    clockMs += 60_000;
    expect((await validator.verifyLocally(await forge(kidOf(token), privateKey))).signature).toBe('invalid');
    expect(jwksFetches() - before).toBe(3);
    // After 10 minutes the set is fetched again before use.
    clockMs += 10 * 60_000;
    expect((await validator.verifyLocally(token)).signature).toBe('verified');
    expect(jwksFetches() - before).toBe(4);
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
    expect(result).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
    expect(result.reason).toMatch(/no \/auth\/validate \(HTTP 404\)/);
    // The local stand-in checks the signature: a forged token is not valid.
    const forged = await validatorFor().validate(await forge('unknown-kid'));
    expect(forged).toMatchObject({ valid: false, source: 'local', signature: 'invalid' });
  });

  it('falls back to the local result when a proxy answers /auth/validate with an HTML 404 page', async () => {
    stack.backend.faults.add({ fault: { kind: 'status', status: 404, html: true }, match: { path: '/auth/validate' } });
    const result = await validatorFor().validate(token);
    expect(result).toMatchObject({ valid: true, source: 'local' });
    expect(result.reason).toMatch(/HTTP 404/);
  });

  it('falls back to the local result when the backend cannot be reached', async () => {
    const result = await validatorFor({ apiUrl: 'http://127.0.0.1:1' }).validate(token);
    expect(result).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
    expect(result.reason).toMatch(/Could not reach/);
    expect(await validatorFor({ apiUrl: 'http://127.0.0.1:1' }).validate(await forge(kidOf(token)))).toMatchObject({
      valid: false,
      source: 'local',
      signature: 'invalid',
    });
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
