// `mesh_` API keys checked through the reference backend's GET /auth/profile (dev/backend): a real
// key minted as the deployed backend mints it, revoked in the backend's store, the backend failing.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifier,
  type MeshIdentity,
  VerificationError,
  type VerifierOptions,
  VerifierUnavailableError,
} from '../../src/server/index.js';
import { createApiKey } from '../helpers/api-key.js';
import { testClock } from '../helpers/server-issuer.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
const LOGIN = 'keys@example.test';
let key: string;

beforeAll(async () => {
  key = await createApiKey(stack, LOGIN, 'server test');
});

const verifierFor = (options: VerifierOptions = {}) => createVerifier({ env: stack.env, acceptApiKeys: true, ...options });
const profileCalls = () => stack.backend.counters.requests['GET /auth/profile'] ?? 0;

async function outcome(promise: Promise<MeshIdentity>): Promise<string | MeshIdentity> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof VerificationError || error instanceof VerifierUnavailableError) return `${error.status} ${error.code}`;
    throw error;
  }
}

describe('API keys through the backend', () => {
  it("a valid key is its owner's identity, however it is sent, and is checked once while cached", async () => {
    const verifier = verifierFor();
    const before = profileCalls();
    const inputs = [
      `ApiKey ${key}`,
      key,
      new Request('http://127.0.0.1/x', { headers: { 'x-api-key': key } }),
      { headers: { authorization: `ApiKey ${key}`, 'x-api-key': key } },
    ];
    const identities = await Promise.all(inputs.map((input) => verifier.verify(input)));
    for (const identity of identities) {
      expect(identity).toMatchObject({ kind: 'api_key', subject: stack.provider.subjectFor(LOGIN), scopes: [] });
    }
    expect(identities[0]?.claims.id).toBe(stack.provider.subjectFor(LOGIN));
    expect(profileCalls() - before).toBe(1); // single flight, then the cache
  });

  it('keys are refused when acceptApiKeys is off, and an unknown key is api_key_invalid, remembered briefly', async () => {
    expect(await outcome(verifierFor({ acceptApiKeys: false }).verify(`ApiKey ${key}`))).toBe('401 api_key_invalid');
    const clock = testClock();
    const verifier = verifierFor({ now: clock.now, apiKeys: { negativeTtlSeconds: 5 } });
    const before = profileCalls();
    expect(await outcome(verifier.verify('ApiKey mesh_not_a_real_key'))).toBe('401 api_key_invalid');
    expect(await outcome(verifier.verify('ApiKey mesh_not_a_real_key'))).toBe('401 api_key_invalid');
    expect(profileCalls() - before).toBe(1);
    clock.advance(6);
    expect(await outcome(verifier.verify('ApiKey mesh_not_a_real_key'))).toBe('401 api_key_invalid');
    expect(profileCalls() - before).toBe(2);
    expect(await outcome(verifier.verify({ headers: { 'x-api-key': 'not-mesh' } }))).toBe('401 api_key_invalid');
  });

  it('a revoked key keeps working at most ttlSeconds, then is refused', async () => {
    const revocable = await createApiKey(stack, LOGIN, 'to revoke');
    const clock = testClock();
    const verifier = verifierFor({ now: clock.now, apiKeys: { ttlSeconds: 30 } });
    expect(await outcome(verifier.verify(`ApiKey ${revocable}`))).toHaveProperty('kind', 'api_key');
    // The reference backend has no revoke route (none is evidenced): revoke in its store.
    expect(stack.backend.state.apiKeys.delete(createHash('sha256').update(revocable).digest('hex'))).toBe(true);
    clock.advance(29);
    expect(await outcome(verifier.verify(`ApiKey ${revocable}`))).toHaveProperty('kind', 'api_key');
    clock.advance(2);
    expect(await outcome(verifier.verify(`ApiKey ${revocable}`))).toBe('401 api_key_invalid');
  });

  it('the backend down is a 503, never a 401, and is not remembered', async () => {
    const verifier = verifierFor();
    stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, match: { method: 'GET', path: '/auth/profile' } });
    expect(await outcome(verifier.verify(`ApiKey ${key}`))).toBe('503 verifier_unavailable');
    stack.backend.faults.add({
      fault: { kind: 'status', status: 520, html: true },
      match: { method: 'GET', path: '/auth/profile' },
    });
    expect(await outcome(verifier.verify(`ApiKey ${key}`))).toBe('503 verifier_unavailable');
    expect(await outcome(verifier.verify(`ApiKey ${key}`))).toHaveProperty('kind', 'api_key');

    const unreachable = verifierFor({ apiUrl: 'http://127.0.0.1:9' });
    const error = await unreachable.verify(`ApiKey ${key}`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VerifierUnavailableError);
    expect(JSON.stringify((error as VerifierUnavailableError).toJSON())).not.toContain(key);

    const slow = verifierFor({ apiKeys: { timeout: 200 } });
    stack.backend.faults.add({ fault: { kind: 'slowHeaders', ms: 1_000 }, match: { method: 'GET', path: '/auth/profile' } });
    expect(await outcome(slow.verify(`ApiKey ${key}`))).toBe('503 verifier_unavailable');
  });
});
