/**
 * Decodes a JWS compact token without verifying it: three base64url parts, JSON header and
 * payload. Verification (signature, audience) happens in the validator; this only reads.
 */

/** Anything longer is not a token we issued or would send (Auth0 tokens are ~1-2 KB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export class JwtFormatError extends Error {}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodePart(part: string, name: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw new JwtFormatError(`the ${name} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtFormatError(`the ${name} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JwtFormatError(`the ${name} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** @throws JwtFormatError saying what is wrong (never including the token). */
export function decodeJwt(token: string): DecodedJwt {
  if (typeof token !== 'string' || token.length === 0) throw new JwtFormatError('the token is empty');
  if (token.length > MAX_TOKEN_LENGTH) throw new JwtFormatError(`the token is over ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtFormatError(`the token has ${parts.length} parts, not 3`);
  const [header, payload, signature] = parts as [string, string, string];
  if (!BASE64URL.test(signature)) throw new JwtFormatError('the signature is not base64url');
  return { header: decodePart(header, 'header'), payload: decodePart(payload, 'payload') };
}

/** The token's `exp` (epoch seconds), or undefined when it is not a JWT or has none. */
export function jwtExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token).payload;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}
