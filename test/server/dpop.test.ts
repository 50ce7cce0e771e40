// DPoP (RFC 9449) for tokens bound to a key (`cnf.jkt`): a real proof made with jose for each
// request, and each way a proof can be wrong. Tokens come from the test issuer (the stand-in Auth0
// issues no bound tokens).
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type MeshIdentity, VerificationError, type Verifier } from '../../src/server/index.js';
import { type DpopKey, dpopProof, newDpopKey } from '../helpers/server-dpop.js';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer, testClock } from '../helpers/server-issuer.js';

let issuer: TestIssuer;
let holder: DpopKey;
let other: DpopKey;
let bound: string;
const clock = testClock();
const URL_ = 'https://api.example.test/v1/things';

beforeAll(async () => {
  issuer = await startTestIssuer();
  holder = await newDpopKey();
  other = await newDpopKey();
  bound = await issuer.sign({ cnf: { jkt: holder.jkt } });
});
afterAll(async () => {
  await issuer.close();
});

function verifierFor(dpop: { required?: boolean; iatWindowSeconds?: number } = {}): Verifier {
  return createVerifier({
    issuer: issuer.issuer,
    audience: TEST_AUDIENCE,
    jwksUri: issuer.jwksUri,
    env: {},
    now: clock.now,
    dpop,
  });
}

function request(token: string, proof: string | undefined, options: { method?: string; url?: string; scheme?: string } = {}) {
  const headers: Record<string, string> = { authorization: `${options.scheme ?? 'DPoP'} ${token}` };
  if (proof !== undefined) headers.dpop = proof;
  return new Request(options.url ?? URL_, { method: options.method ?? 'POST', headers });
}

/** The DPoP check that failed, 'ok', or another code. */
async function failure(promise: Promise<MeshIdentity>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof VerificationError) return error.code === 'dpop_invalid' ? `dpop:${error.dpop}` : error.code;
    throw error;
  }
}

describe('DPoP-bound tokens', () => {
  it('are accepted with a valid proof for this method and URL (query ignored), the jkt in the claims', async () => {
    const verifier = verifierFor();
    const proof = await dpopProof(holder, { htm: 'POST', htu: URL_, token: bound, iat: clock.now() });
    const identity = await verifier.verify(request(bound, proof, { url: `${URL_}?page=2` }));
    expect(identity.claims.cnf).toEqual({ jkt: holder.jkt });
    // A bare token with the proof and the request's details given per call.
    const again = await dpopProof(holder, { htm: 'GET', htu: URL_, token: bound, iat: clock.now() });
    expect(await failure(verifier.verify(bound, { dpop: again, method: 'GET', url: URL_ }))).toBe('ok');
  });

  it('are refused without a proof, with a proof for another method, URL or time, or replayed', async () => {
    const verifier = verifierFor({ iatWindowSeconds: 60 });
    const at = (seconds: number) => clock.now() + seconds * 1000;
    const make = (claims: Partial<Parameters<typeof dpopProof>[1]> = {}) =>
      dpopProof(holder, { htm: 'POST', htu: URL_, token: bound, iat: clock.now(), ...claims });
    expect(await failure(verifier.verify(request(bound, undefined)))).toBe('dpop:missing');
    expect(await failure(verifier.verify(request(bound, await make({ htm: 'GET' }))))).toBe('dpop:htm');
    expect(await failure(verifier.verify(request(bound, await make({ htu: 'https://api.example.test/v1/other' }))))).toBe(
      'dpop:htu',
    );
    expect(await failure(verifier.verify(request(bound, await make({ htu: 'https://evil.example.test/v1/things' }))))).toBe(
      'dpop:htu',
    );
    expect(await failure(verifier.verify(request(bound, await make({ iat: at(-70) }))))).toBe('dpop:iat');
    expect(await failure(verifier.verify(request(bound, await make({ iat: at(30) }))))).toBe('dpop:iat');
    expect(await failure(verifier.verify(request(bound, await make({ token: 'another-token' }))))).toBe('dpop:ath');

    const once = await make({ iat: at(-50) });
    expect(await failure(verifier.verify(request(bound, once)))).toBe('ok');
    expect(await failure(verifier.verify(request(bound, once)))).toBe('dpop:replayed');
  });

  it('are refused with a proof signed by another key, a private key in the header, or not a dpop+jwt', async () => {
    const verifier = verifierFor();
    const claims = { htm: 'POST', htu: URL_, token: bound, iat: clock.now() };
    expect(await failure(verifier.verify(request(bound, await dpopProof(other, claims))))).toBe('dpop:thumbprint');
    const withPrivate = await dpopProof(holder, claims, { jwk: holder.privateJwk });
    expect(await failure(verifier.verify(request(bound, withPrivate)))).toBe('dpop:signature');
    const wrongType = await dpopProof(holder, claims, { typ: 'JWT' });
    expect(await failure(verifier.verify(request(bound, wrongType)))).toBe('dpop:malformed');
    const hmac = await new SignJWT({ htm: 'POST', htu: URL_, iat: Math.floor(clock.now() / 1000), jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: holder.publicJwk })
      .sign(new TextEncoder().encode('a shared secret'));
    expect(await failure(verifier.verify(request(bound, hmac)))).toBe('dpop:signature');
    expect(await failure(verifier.verify(request(bound, 'not.a.jwt')))).toBe('dpop:malformed');
  });

  it('a bound token sent as Bearer is refused; so is an unbound one under DPoP, and any unbound one when DPoP is required', async () => {
    const proof = await dpopProof(holder, { htm: 'POST', htu: URL_, token: bound, iat: clock.now() });
    expect(await failure(verifierFor().verify(request(bound, proof, { scheme: 'Bearer' })))).toBe('dpop:scheme');
    expect(await failure(verifierFor().verify(bound))).toBe('dpop:scheme');
    const unbound = await issuer.sign();
    const unboundProof = await dpopProof(holder, { htm: 'POST', htu: URL_, token: unbound, iat: clock.now() });
    expect(await failure(verifierFor().verify(request(unbound, unboundProof)))).toBe('dpop:unbound');
    expect(await failure(verifierFor().verify(request(unbound, undefined, { scheme: 'Bearer' })))).toBe('ok');
    expect(await failure(verifierFor({ required: true }).verify(request(unbound, undefined, { scheme: 'Bearer' })))).toBe(
      'dpop:unbound',
    );
  });
});
