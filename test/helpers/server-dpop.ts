/** DPoP (RFC 9449) as a client makes it, for the mesh-sdk/server tests: a key pair and a proof per request. */
import { randomUUID } from 'node:crypto';
import { base64url, type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface DpopKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** Only to test that a proof carrying a private key is refused. */
  privateJwk: JWK;
  /** RFC 7638 thumbprint: what a bound token's `cnf.jkt` holds. */
  jkt: string;
}

export async function newDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { privateKey, publicJwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(publicJwk) };
}

export interface ProofClaims {
  htm: string;
  htu: string;
  /** The access token the proof goes with (its hash is `ath`). */
  token: string;
  /** Epoch ms. */
  iat: number;
  jti?: string;
}

export async function dpopProof(key: DpopKey, claims: ProofClaims, header: Record<string, unknown> = {}): Promise<string> {
  const ath = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(claims.token))));
  return new SignJWT({
    htm: claims.htm,
    htu: claims.htu,
    iat: Math.floor(claims.iat / 1000),
    jti: claims.jti ?? randomUUID(),
    ath,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk, ...header })
    .sign(key.privateKey);
}
