// The reference backend's ZKP key routes (backend-contract.md part A "ZKP key storage"), by raw
// HTTP: the Python client's flow exactly (zkp_client.py 1.5.5, the doubled keyName on
// getChallenge included), strict 400s, single-use short-lived challenges, and what a server can
// and cannot check.
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHALLENGE_TTL_MS } from '../../dev/backend/zkp-routes.js';
import { registeredTokens } from '../helpers/backend-login.js';
import { rawCall } from '../helpers/raw-call.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
const sha256hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
let token: string;
let userId: string;
let otherToken: string;
let otherId: string;
beforeAll(async () => {
  ({
    userId,
    tokens: { access_token: token },
  } = await registeredTokens(stack, { login: 'zkp-routes@example.test' }));
  ({
    userId: otherId,
    tokens: { access_token: otherToken },
  } = await registeredTokens(stack, { login: 'zkp-other@example.test' }));
});
afterEach(() => {
  vi.useRealTimers();
});

/** GET without a body, POST with one; the first user's token by default. */
const call = (path: string, { body, credential = token }: { body?: unknown; credential?: string | null } = {}) =>
  rawCall(stack.apiUrl, path, { method: body === undefined ? 'GET' : 'POST', body, credential });

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const store = (body: unknown, credential?: string) => call('/api/v1/storeKeyZKP', { body, credential });
const challengeFor = (keyName: string) => call(`/api/v1/getChallenge?${q({ userId, keyName })}`);
const commitmentOf = (keyName: string) => call(`/api/v1/getCommitment?${q({ userId, keyName })}`);
const verify = (body: unknown) => call('/api/v1/verifyProof', { body });

/** The Python client's values for `name` and `value` (zkp_client.py 1.5.5). */
function python(name: string, value: string) {
  const path = `${userId}_${name}`;
  const nullifier = sha256hex(`${path}:${value}`);
  return { path, nullifier, commitment: sha256hex(`${value}:${nullifier}`) };
}

async function freshChallenge(): Promise<string> {
  const { json } = await challengeFor(`${userId}_${userId}_any`);
  return json.challenge as string;
}

describe("the Python client's flow", () => {
  it('store, challenge under the doubled name, commitment, proof: verified', async () => {
    const { path, nullifier, commitment } = python('py_key', 'py-value');
    expect(await store({ userId, keyName: path, commitment })).toMatchObject({ status: 200, json: { success: true } });
    const challenge = await challengeFor(`${userId}_${path}`); // verify_key's get_challenge(user_id, storage_path)
    expect(challenge).toMatchObject({ status: 200, json: { success: true } });
    expect(challenge.json.challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(await commitmentOf(path)).toMatchObject({ status: 200, json: { success: true, commitment } });
    const proof = sha256hex(nullifier + (challenge.json.challenge as string) + commitment);
    const verified = await verify({ userId, keyName: path, proof, challenge: challenge.json.challenge });
    expect([verified.status, verified.json]).toEqual([200, { success: true, verified: true }]);
  });

  it('what the server cannot check: a proof made from a wrong value verifies too (it never sees the value)', async () => {
    const { path, commitment } = python('weak_key', 'right');
    await store({ userId, keyName: path, commitment });
    const challenge = await freshChallenge();
    const wrong = python('weak_key', 'wrong');
    const proof = sha256hex(wrong.nullifier + challenge + commitment);
    expect((await verify({ userId, keyName: path, proof, challenge })).json.verified).toBe(true);
  });
});

describe('challenges', () => {
  it('answer once', async () => {
    const { path, nullifier, commitment } = python('once_key', 'v');
    await store({ userId, keyName: path, commitment });
    const challenge = await freshChallenge();
    const body = { userId, keyName: path, proof: sha256hex(nullifier + challenge + commitment), challenge };
    expect((await verify(body)).status).toBe(200);
    expect(await verify(body)).toMatchObject({ status: 400, json: { error: expect.stringContaining('challenge') } });
  });

  it('expire', async () => {
    const { path, nullifier, commitment } = python('late_key', 'v');
    await store({ userId, keyName: path, commitment });
    const challenge = await freshChallenge();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + CHALLENGE_TTL_MS + 1000 });
    const body = { userId, keyName: path, proof: sha256hex(nullifier + challenge + commitment), challenge };
    expect((await verify(body)).status).toBe(400);
  });

  it('belong to the user they were issued to', async () => {
    const challenge = await freshChallenge();
    const keyName = `${otherId}_k`;
    await store({ userId: otherId, keyName, commitment: 'f'.repeat(64) }, otherToken);
    const theirs = await call('/api/v1/verifyProof', {
      credential: otherToken,
      body: { userId: otherId, keyName, proof: 'a'.repeat(64), challenge },
    });
    expect(theirs.status).toBe(400);
  });

  it('an unknown challenge is a 400', async () => {
    const { path, commitment } = python('unknown_challenge_key', 'v');
    await store({ userId, keyName: path, commitment });
    const body = { userId, keyName: path, proof: 'b'.repeat(64), challenge: 'c'.repeat(64) };
    expect((await verify(body)).status).toBe(400);
  });
});

describe('strict validation', () => {
  const good = () => python('strict_key', 'v');

  const broken: [string, (body: Record<string, unknown>) => void][] = [
    ['no userId', (body) => delete body.userId],
    ['no keyName', (body) => delete body.keyName],
    ['no commitment', (body) => delete body.commitment],
    ['an empty commitment', (body) => Object.assign(body, { commitment: '' })],
    ['a commitment that is not hex', (body) => Object.assign(body, { commitment: 'z'.repeat(64) })],
    ['a commitment of the wrong length', (body) => Object.assign(body, { commitment: 'a'.repeat(63) })],
    ['an uppercase commitment (a SHA-256 hexdigest is lowercase)', (body) => Object.assign(body, { commitment: 'A'.repeat(64) })],
    ['a keyName without the userId prefix', (body) => Object.assign(body, { keyName: 'strict_key' })],
    ['a keyName that is only the prefix', (body) => Object.assign(body, { keyName: `${userId}_` })],
    ['a commitment that is a number', (body) => Object.assign(body, { commitment: 12 })],
  ];
  it.each(broken)('storeKeyZKP with %s: 400', async (_what, change) => {
    const body: Record<string, unknown> = { userId, keyName: good().path, commitment: good().commitment };
    change(body);
    expect((await store(body)).status).toBe(400);
  });

  it('storeKeyZKP for another user: 403; without a credential: 404 (the deployed default)', async () => {
    const { path, commitment } = good();
    expect((await store({ userId, keyName: path, commitment }, otherToken)).status).toBe(403);
    expect((await call('/api/v1/storeKeyZKP', { body: { userId, keyName: path, commitment }, credential: null })).status).toBe(
      404,
    );
  });

  it('getChallenge and getCommitment need userId and keyName: 400', async () => {
    for (const route of ['getChallenge', 'getCommitment']) {
      expect((await call(`/api/v1/${route}?${q({ userId })}`)).status).toBe(400);
      expect((await call(`/api/v1/${route}?${q({ keyName: `${userId}_k` })}`)).status).toBe(400);
      expect((await call(`/api/v1/${route}?${q({ userId, keyName: 'no_prefix' })}`)).status).toBe(400);
    }
  });

  it('getCommitment of a name never stored: 404, or 200 {"success": false} with missingKeyStatus 200', async () => {
    expect((await commitmentOf(`${userId}_never`)).status).toBe(404);
    stack.backend.settings.missingKeyStatus = 200;
    expect(await commitmentOf(`${userId}_never`)).toMatchObject({ status: 200, json: { success: false } });
  });

  it('verifyProof: each field required, the proof 64 hex digits, a stored commitment', async () => {
    const { path, commitment } = good();
    await store({ userId, keyName: path, commitment });
    const full = { userId, keyName: path, proof: 'd'.repeat(64), challenge: 'e'.repeat(64) };
    for (const field of Object.keys(full)) {
      const body: Record<string, unknown> = { ...full };
      delete body[field];
      expect((await verify(body)).status, field).toBe(400);
    }
    expect((await verify({ ...full, proof: 'not-a-proof', challenge: await freshChallenge() })).status).toBe(400);
    const missing = await verify({ ...full, keyName: `${userId}_never`, challenge: await freshChallenge() });
    expect(missing.status).toBe(404);
  });
});
