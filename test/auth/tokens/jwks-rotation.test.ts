// A signing-key rotation at the provider (Auth0 rotates its tenant key): a token signed by the new
// key validates locally after exactly one JWKS re-fetch, counted at the provider; tokens of the
// old key stay valid; the backend's word is not needed for any of it.
import { describe, expect, it } from 'vitest';
import { SkewClock } from '../../../src/auth/tokens/clock.js';
import { JwksCache } from '../../../src/auth/tokens/jwks.js';
import { TokenValidator } from '../../../src/auth/tokens/validator.js';
import { MeshClient } from '../../../src/client/mesh-client.js';
import { loginTokens } from '../../helpers/backend-login.js';
import { useStack } from '../../helpers/stack.js';

const stack = useStack({ provider: { spareSigningKey: true } });

const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString()).kid as string;
const jwksFetches = () => stack.provider.counters.jwksFetches;

describe('a signing-key rotation at the issuer', () => {
  it('a token of the new key validates after one JWKS re-fetch; the old key still verifies', async () => {
    const validator = new TokenValidator({
      clock: new SkewClock(),
      audience: stack.auth0.audience,
      issuer: stack.provider.issuer,
      jwks: new JwksCache({ url: `${stack.provider.origin}/.well-known/jwks.json` }),
    });
    const before = jwksFetches();
    const old = (await loginTokens(stack)).access_token;
    expect(await validator.validate(old)).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
    expect(jwksFetches() - before).toBe(1);

    stack.provider.rotateKeys();
    const rotated = (await loginTokens(stack)).access_token;
    expect(kidOf(rotated)).not.toBe(kidOf(old));
    expect(jwksFetches() - before).toBe(1); // logging in fetches no keys
    // Within the cool-down of the first load, and still: the unknown kid is worth one re-fetch.
    expect(await validator.validate(rotated)).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
    expect(jwksFetches() - before).toBe(2);
    expect(await validator.validate(rotated)).toMatchObject({ valid: true, signature: 'verified' });
    expect(await validator.validate(old)).toMatchObject({ valid: true, signature: 'verified' });
    expect(jwksFetches() - before).toBe(2);
  });

  it("MeshClient.validateToken(token) verifies a new key's token locally when /auth/validate is absent", async () => {
    stack.backend.settings.validateEndpoint = false;
    try {
      const client = new MeshClient({ env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'env' } });
      const token = (await loginTokens(stack)).access_token;
      expect(await client.validateToken(token)).toMatchObject({ valid: true, source: 'local', signature: 'verified' });
      await client.close();
    } finally {
      stack.backend.reset();
    }
  });
});
