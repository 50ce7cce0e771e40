// The issuer-key cache of mesh-sdk/server against a real JWKS server on loopback (test/helpers/server-issuer.ts):
// single flight, Cache-Control expiry, refresh ahead of expiry, rotation, a kid flood, an outage
// longer than maxStaleSeconds (503, then recovery), and a store shared by two verifiers. Time is a
// clock the test moves; nothing sleeps.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createVerifier,
  type JwksOptions,
  type JwksStore,
  VerificationError,
  VerifierUnavailableError,
} from '../../src/server/index.js';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer, testClock } from '../helpers/server-issuer.js';

let issuer: TestIssuer;
let clock: ReturnType<typeof testClock>;

beforeEach(async () => {
  issuer = await startTestIssuer();
  clock = testClock();
});
afterEach(async () => {
  await issuer.close();
});

function verifierFor(jwks: JwksOptions = {}, extra: { jwksUri?: string } = { jwksUri: undefined }) {
  return createVerifier({
    issuer: issuer.issuer,
    audience: TEST_AUDIENCE,
    ...(extra.jwksUri === undefined ? {} : { jwksUri: extra.jwksUri }),
    jwks,
    env: {},
    now: clock.now,
  });
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: unknown) =>
      error instanceof VerificationError || error instanceof VerifierUnavailableError ? error.code : String(error),
  );

describe('the issuer key cache', () => {
  it('a cold start fetches the discovery document and the keys once for all concurrent requests', async () => {
    const verifier = verifierFor();
    const token = await issuer.sign();
    const identities = await Promise.all(Array.from({ length: 25 }, () => verifier.verify(token)));
    expect(identities.every((identity) => identity.subject === 'user-1' && identity.kind === 'token')).toBe(true);
    expect(issuer.counts).toEqual({ jwks: 1, discovery: 1 });
  });

  it("keeps the set for the reply's max-age and refreshes it in the background ahead of expiry, nobody waiting", async () => {
    issuer.cacheControl = 'public, max-age=120';
    const verifier = verifierFor({ refreshAheadSeconds: 60 });
    const token = await issuer.sign();
    await verifier.verify(token);
    clock.advance(59);
    await verifier.verify(token);
    expect(issuer.counts.jwks).toBe(1);

    clock.advance(11); // 70 s: inside the refresh-ahead window (from 60 s)
    issuer.delayMs = 400;
    let replied = false;
    const refreshed = issuer.nextJwks().then(() => {
      replied = true;
    });
    await verifier.verify(token);
    expect(replied, 'the request did not wait for the background fetch').toBe(false);
    await refreshed;
    expect(issuer.counts.jwks).toBe(2);

    clock.advance(60); // 130 s: past the first set's expiry, inside the second's
    issuer.delayMs = 0;
    await verifier.verify(token);
    expect(issuer.counts.jwks).toBe(2);
  });

  it('without Cache-Control the set lives defaultMaxAgeSeconds; a max-age below the cool-down is raised to it', async () => {
    const verifier = verifierFor({ defaultMaxAgeSeconds: 300, refreshAheadSeconds: 0 });
    const token = await issuer.sign();
    await verifier.verify(token);
    clock.advance(299);
    await verifier.verify(token);
    expect(issuer.counts.jwks).toBe(1);
    clock.advance(2);
    await verifier.verify(token); // expired: this request needed the fetch
    expect(issuer.counts.jwks).toBe(2);

    issuer.cacheControl = 'no-store';
    clock.advance(301);
    await verifier.verify(token);
    expect(issuer.counts.jwks).toBe(3);
    clock.advance(29); // the cool-down (30 s) is the shortest lifetime
    await verifier.verify(token);
    expect(issuer.counts.jwks).toBe(3);
  });

  it('a rotation at the issuer: the new key id fetches once, tokens of the old key still verify', async () => {
    const verifier = verifierFor();
    const oldToken = await issuer.sign();
    await verifier.verify(oldToken);
    await issuer.rotate();
    const newToken = await issuer.sign();
    const identities = await Promise.all([verifier.verify(newToken), verifier.verify(newToken), verifier.verify(oldToken)]);
    expect(identities).toHaveLength(3);
    expect(issuer.counts.jwks).toBe(2);
  });

  it('a flood of made-up key ids costs the issuer exactly one fetch per cool-down', async () => {
    const verifier = verifierFor({ cooldownSeconds: 30 });
    await verifier.verify(await issuer.sign());
    expect(issuer.counts.jwks).toBe(1);
    const flood = async () =>
      Promise.all(
        await Promise.all(
          Array.from({ length: 200 }, async () =>
            refusal(verifier.verify(await issuer.sign({}, { header: { kid: randomUUID() } }))),
          ),
        ),
      );
    expect(new Set(await flood())).toEqual(new Set(['token_signature']));
    expect(issuer.counts.jwks).toBe(2);
    clock.advance(29);
    expect(new Set(await flood())).toEqual(new Set(['token_signature']));
    expect(issuer.counts.jwks).toBe(2);
    clock.advance(2);
    await flood();
    expect(issuer.counts.jwks).toBe(3);
    // alg none and disallowed algorithms never reach the key lookup.
    const none = `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`;
    expect(await refusal(verifier.verify(none))).toBe('token_signature');
    expect(issuer.counts.jwks).toBe(3);
  });

  it('the issuer down: keys serve up to maxStaleSeconds past expiry, then 503 (never 401) until it answers again', async () => {
    issuer.cacheControl = 'max-age=60';
    const verifier = verifierFor({ maxStaleSeconds: 120, cooldownSeconds: 5, refreshAheadSeconds: 0 });
    const token = await issuer.sign({}, { expiresIn: 3600 });
    await verifier.verify(token);
    await issuer.stop();

    clock.advance(61); // expired; the fetch fails; the stale set serves
    expect(await refusal(verifier.verify(token))).toBe('accepted');
    clock.advance(118); // 179 s: 119 s past expiry
    expect(await refusal(verifier.verify(token))).toBe('accepted');
    clock.advance(2); // 181 s: 121 s past expiry
    const error = await verifier.verify(token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VerifierUnavailableError);
    expect((error as VerifierUnavailableError).status).toBe(503);
    expect((error as VerifierUnavailableError).retryAfter).toBeGreaterThanOrEqual(1);
    // Within the cool-down nobody asks again: still 503, at once.
    expect(await refusal(verifier.verify(token))).toBe('verifier_unavailable');

    await issuer.start();
    clock.advance(5);
    expect(await refusal(verifier.verify(token))).toBe('accepted');
    expect(issuer.counts.jwks).toBe(2); // the first fetch and the recovery: the refused ones never arrived
  });

  it('no keys at all (the first fetch fails) is a 503, and the cool-down passes before the next try', async () => {
    issuer.status = 500;
    const verifier = verifierFor({ cooldownSeconds: 10 });
    const token = await issuer.sign();
    expect(await refusal(verifier.verify(token))).toBe('verifier_unavailable');
    expect(await refusal(verifier.verify(token))).toBe('verifier_unavailable');
    expect(issuer.counts.jwks).toBe(1);
    issuer.status = 200;
    clock.advance(10);
    expect(await refusal(verifier.verify(token))).toBe('accepted');
    expect(issuer.counts.jwks).toBe(2);
  });

  it('a store shares the set: a second isolate verifies without asking the issuer', async () => {
    const entries = new Map<string, string>();
    const ttls: number[] = [];
    const store: JwksStore = {
      get: async (key) => entries.get(key),
      set: async (key, value, ttl) => {
        entries.set(key, value);
        ttls.push(ttl);
      },
    };
    const token = await issuer.sign();
    await verifierFor({ store }, { jwksUri: issuer.jwksUri }).verify(token);
    await verifierFor({ store }, { jwksUri: issuer.jwksUri }).verify(token);
    expect(issuer.counts).toEqual({ jwks: 1, discovery: 0 });
    expect(entries.size).toBe(1);
    expect([...entries.values()][0]).not.toMatch(/"d":/); // public keys only
    expect(ttls[0]).toBeGreaterThan(600);
    // A failing store is skipped, not fatal.
    const broken: JwksStore = {
      get: async () => Promise.reject(new Error('down')),
      set: async () => Promise.reject(new Error('down')),
    };
    await verifierFor({ store: broken }, { jwksUri: issuer.jwksUri }).verify(token);
    expect(issuer.counts.jwks).toBe(2);
  });
});
