/**
 * Token validation: local (format, expiry with 60 s leeway, audience, issuer, and the signature
 * against the issuer's JWKS whenever the keys can be fetched) and the backend's `/auth/validate`
 * (status only), falling back to the local result when the deployment lacks it (404/405/501),
 * answers anything else, or cannot be reached within its bound. A Mesh API key is never sent
 * there (the deployed endpoint may not handle them: client.py 1.5.6): only its form is checked.
 */
import type { errors } from 'jose';
import { decodeJwt, JwtFormatError } from '../../internal/jwt.js';
import type { BackendAuth } from '../backend/backend-auth.js';
import type { SkewClock } from './clock.js';
import { JwksCache, JwksUnavailableError } from './jwks.js';

/** Signing algorithms Auth0 uses for API access tokens; a token naming another is not Auth0's. */
const ALGORITHMS = ['RS256', 'PS256'];

/** A verdict on a token (`client.validateToken()`): valid or not, who judged it, and why. */
export interface ValidationResult {
  valid: boolean;
  /** Who answered: the backend's `/auth/validate`, or this machine. */
  source: 'backend' | 'local';
  /** The token's claims when it is a readable JWT. */
  claims?: Record<string, unknown>;
  /** Why it is not valid, or why the local result stands in for the backend's. */
  reason?: string;
  /**
   * Local results for a JWT: `verified` against the issuer's published keys, `invalid` (forged,
   * or signed by a key the issuer does not publish), or `unverified` (the keys could not be
   * fetched: `signatureReason` says why). Absent when the backend answered, or when the claims
   * already failed.
   */
  signature?: 'verified' | 'unverified' | 'invalid';
  /** Why the signature is `unverified` or `invalid`. */
  signatureReason?: string;
}

export interface ValidatorOptions {
  clock: SkewClock;
  /** Expected `aud` (a string, or contained in an array). */
  audience?: string;
  /** Expected `iss`, e.g. `https://tenant.us.auth0.com/`. */
  issuer?: string;
  /** Where the issuer publishes its keys (`<domain>/.well-known/jwks.json`); enables signature checks. */
  jwksUrl?: string;
  /** The issuer's keys, when the caller keeps them (tests, a shared cache); else one made from `jwksUrl`. */
  jwks?: JwksCache;
  backendAuth?: BackendAuth;
  /** Clock-skew leeway on `exp`, seconds. @default 60 */
  leewaySeconds?: number;
}

/** `mesh_` and an opaque rest of any length (contract part A: the client checks only the prefix). */
export function isMeshApiKey(token: string): boolean {
  return token.startsWith('mesh_') && token.length > 'mesh_'.length;
}

export class TokenValidator {
  readonly #options: ValidatorOptions;
  readonly #jwks: JwksCache | undefined;

  constructor(options: ValidatorOptions) {
    this.#options = options;
    this.#jwks = options.jwks ?? (options.jwksUrl === undefined ? undefined : new JwksCache({ url: options.jwksUrl }));
  }

  /** Format, expiry, audience and issuer, without any I/O (so never the signature). */
  validateLocally(token: string): ValidationResult {
    if (isMeshApiKey(token))
      return { valid: true, source: 'local', reason: 'a Mesh API key: only its format can be checked locally' };
    let claims: Record<string, unknown>;
    let header: Record<string, unknown>;
    try {
      ({ header, payload: claims } = decodeJwt(token));
    } catch (error) {
      if (error instanceof JwtFormatError) return { valid: false, source: 'local', reason: `not a JWT: ${error.message}` };
      throw error;
    }
    const invalid = (reason: string): ValidationResult => ({ valid: false, source: 'local', claims, reason });
    if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') return invalid('the token is unsigned (alg none)');
    const { exp, aud, iss } = claims;
    if (typeof exp !== 'number') return invalid('the token has no exp claim');
    const leeway = this.#options.leewaySeconds ?? 60;
    if (exp <= this.#options.clock.nowSeconds() - leeway) return invalid('the token has expired');
    const { audience, issuer } = this.#options;
    if (audience !== undefined && !(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) {
      return invalid(`the token is for another audience (expected ${audience})`);
    }
    if (issuer !== undefined && iss !== issuer) return invalid(`the token is from another issuer (expected ${issuer})`);
    return { valid: true, source: 'local', claims };
  }

  /**
   * The local checks plus the signature against the issuer's JWKS (cached; fetched again for an
   * unknown `kid` at most once per cool-down). When the keys cannot be fetched, the claims decide
   * and the result says `signature: 'unverified'` and why.
   */
  async verifyLocally(token: string, signal?: AbortSignal): Promise<ValidationResult> {
    const local = this.validateLocally(token);
    if (!local.valid || local.claims === undefined) return local;
    const jwks = this.#jwks;
    if (!jwks) return { ...local, signature: 'unverified', signatureReason: 'no JWKS address is configured' };
    // jose is loaded on the first signature check, not at import: most programs never make one.
    const jose = await import('jose');
    try {
      await jose.jwtVerify(token, jwks.resolver(signal), {
        algorithms: ALGORITHMS,
        audience: this.#options.audience,
        issuer: this.#options.issuer,
        clockTolerance: this.#options.leewaySeconds ?? 60,
        currentDate: new Date(this.#options.clock.now()),
      });
      return { ...local, signature: 'verified' };
    } catch (error) {
      if (error instanceof JwksUnavailableError) return { ...local, signature: 'unverified', signatureReason: error.message };
      if (!(error instanceof jose.errors.JOSEError)) throw error; // an AbortError, or a bug
      const why = signatureFailure(jose.errors, error, token);
      return { valid: false, source: 'local', claims: local.claims, reason: why, signature: 'invalid', signatureReason: why };
    }
  }

  /**
   * The backend's answer when it can give one, else the local result with the signature checked
   * (which says why it stands in). Never refreshes: the token is judged as it is.
   */
  async validate(token: string, options: { signal?: AbortSignal } = {}): Promise<ValidationResult> {
    const { backendAuth } = this.#options;
    if (isMeshApiKey(token)) return this.validateLocally(token);
    if (!backendAuth) return this.verifyLocally(token, options.signal);
    const backend = await backendAuth.validate(token, options.signal);
    if (backend.kind === 'unavailable') {
      const local = await this.verifyLocally(token, options.signal);
      return { ...local, reason: local.reason ?? `validated locally: ${backend.reason}` };
    }
    const { claims } = this.validateLocally(token);
    if (backend.kind === 'invalid') return { valid: false, source: 'backend', claims, reason: backend.reason };
    return { valid: true, source: 'backend', ...(claims ? { claims } : {}) };
  }
}

/** What a failed jose verification means, in words (never the token). */
function signatureFailure(errors: typeof import('jose').errors, error: errors.JOSEError, token: string): string {
  const kid = headerKid(token);
  if (error instanceof errors.JWKSNoMatchingKey) {
    return `the issuer publishes no key ${kid === undefined ? 'for this token' : `with kid "${kid}"`}: the token is not the issuer's`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "the signature does not match the issuer's key: the token was forged or altered";
  if (error instanceof errors.JOSEAlgNotAllowed)
    return `the token is signed with an algorithm Auth0 does not use for API tokens (${ALGORITHMS.join(', ')})`;
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'the token names no key id and the issuer publishes several keys';
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `the token's ${error.claim} claim is not acceptable (${error.reason})`;
  return `the signature check failed (${error.code})`;
}

function headerKid(token: string): string | undefined {
  try {
    const { kid } = decodeJwt(token).header;
    // The kid is the sender's text: shown only as a short, printable name.
    return typeof kid === 'string' ? kid.replace(/[^\w.:-]/g, '?').slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}
