/**
 * DPoP proofs (RFC 9449) for access tokens bound to a key (`cnf.jkt`, §6.1). A proof is accepted
 * when (§4.3): it is a JWT of type `dpop+jwt` signed with an asymmetric algorithm by the public key
 * in its own header; `htm` is the request's method and `htu` its URL (no query or fragment);
 * `iat` is within the window; its `jti` was not seen within the window (replay, §11.1); `ath` is
 * the hash of the access token (§4.2); and the key's thumbprint (RFC 7638) is the token's `cnf.jkt`.
 * Each failure is a `VerificationError` with code `dpop_invalid` and `dpop` naming the check.
 */
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, jwtVerify } from 'jose';
import { dpopRefused, VerifierUnavailableError } from './errors.js';
import type { VerifierSettings } from './options.js';

/** What the request said: its method and absolute URL, and the proof it carried. */
export interface DpopRequest {
  proof: string | undefined;
  method: string | undefined;
  url: string | undefined;
}

/** Proof ids seen within the window, by (key thumbprint, jti); bounded. */
export class ReplayWindow {
  readonly #seen = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Records `id` until `until` (epoch ms); false when it was already there (a replay). */
  remember(id: string, now: number, until: number): boolean {
    const earlier = this.#seen.get(id);
    if (earlier !== undefined && earlier > now) return false;
    if (this.#seen.size >= this.#max) this.#purge(now);
    if (this.#seen.size >= this.#max) {
      // Every remembered proof is still inside its window: forgetting one would allow its replay.
      throw new VerifierUnavailableError('mesh-sdk/server: too many DPoP proofs within the replay window', {
        retryAfter: 1,
      });
    }
    this.#seen.set(id, until);
    return true;
  }

  #purge(now: number): void {
    for (const [id, until] of this.#seen) if (until <= now) this.#seen.delete(id);
  }
}

/** RFC 9449 §4.3 item 9: scheme and host compared case-insensitively (URL does that), no query, no fragment. */
function htuOf(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return undefined;
  }
}

async function sha256Base64url(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

/**
 * Checks the proof of a request presenting `token` (already verified) bound to `jkt`.
 * @throws VerificationError `dpop_invalid`.
 */
export async function verifyDpopProof(
  settings: VerifierSettings,
  replays: ReplayWindow,
  request: DpopRequest,
  token: string,
  jkt: string,
): Promise<void> {
  const { proof } = request;
  if (proof === undefined || proof === '')
    throw dpopRefused('missing', 'the token is DPoP-bound and the request has no DPoP proof');
  let header: { typ?: unknown; alg?: unknown; jwk?: unknown };
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw dpopRefused('malformed', 'the DPoP proof is not a JWT');
  }
  if (header.typ !== 'dpop+jwt') throw dpopRefused('malformed', 'the DPoP proof is not of type dpop+jwt');
  if (typeof header.alg !== 'string' || !settings.dpop.algorithms.includes(header.alg)) {
    throw dpopRefused('signature', 'the DPoP proof is signed with an algorithm not allowed');
  }
  let payload: Record<string, unknown>;
  try {
    // EmbeddedJWK: the key in the proof's header, refused when it is not a public key.
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...settings.dpop.algorithms],
      currentDate: new Date(settings.now()),
    }));
  } catch {
    throw dpopRefused('signature', "the DPoP proof's signature does not verify with the key it carries");
  }
  const { htm, htu, iat, jti, ath } = payload;
  if (typeof jti !== 'string' || jti === '' || typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number') {
    throw dpopRefused('malformed', 'the DPoP proof lacks jti, htm, htu or iat');
  }
  if (request.method === undefined || htm !== request.method.toUpperCase()) {
    throw dpopRefused('htm', "the DPoP proof's htm is not the request's method");
  }
  const expected = request.url === undefined ? undefined : htuOf(request.url);
  if (expected === undefined || htuOf(htu) !== expected)
    throw dpopRefused('htu', "the DPoP proof's htu is not the request's URL");
  const now = settings.now();
  const windowMs = settings.dpop.iatWindowSeconds * 1000;
  const toleranceMs = settings.clockTolerance * 1000;
  if (iat * 1000 > now + toleranceMs || iat * 1000 < now - windowMs - toleranceMs) {
    throw dpopRefused('iat', "the DPoP proof's iat is outside the accepted window");
  }
  if (ath !== (await sha256Base64url(token))) throw dpopRefused('ath', "the DPoP proof's ath is not the access token's hash");
  let thumbprint: string;
  try {
    thumbprint = await calculateJwkThumbprint(header.jwk as JWK, 'sha256');
  } catch {
    throw dpopRefused('malformed', "the DPoP proof's key has no thumbprint");
  }
  if (thumbprint !== jkt)
    throw dpopRefused('thumbprint', 'the DPoP proof is signed by another key than the one the token is bound to');
  // Remembered until the proof would be refused by its iat anyway: past that, a replay fails the iat check.
  if (!replays.remember(`${jkt}:${jti}`, now, iat * 1000 + windowMs + toleranceMs * 2)) {
    throw dpopRefused('replayed', 'the DPoP proof was already used');
  }
}
