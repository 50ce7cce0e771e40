/**
 * Token validation: local (format, expiry with 60 s leeway, audience, issuer, optionally the
 * signature against the issuer's JWKS) and the backend's `/auth/validate` (status only), falling
 * back to the local result when the deployment lacks it (404/405/501), answers anything else, or
 * cannot be reached within its bound. A Mesh API key is never sent there (the deployed endpoint
 * may not handle them: client.py 1.5.6): only its form is checked.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { decodeJwt, JwtFormatError } from '../internal/jwt.js';
import type { BackendAuth } from './backend-auth.js';
import type { SkewClock } from './clock.js';

export interface ValidationResult {
  valid: boolean;
  /** Who answered: the backend's `/auth/validate`, or this machine. */
  source: 'backend' | 'local';
  /** The token's claims when it is a readable JWT. */
  claims?: Record<string, unknown>;
  /** Why it is not valid, or why the local result stands in for the backend's. */
  reason?: string;
}

export interface ValidatorOptions {
  clock: SkewClock;
  /** Expected `aud` (a string, or contained in an array). */
  audience?: string;
  /** Expected `iss`, e.g. `https://tenant.us.auth0.com/`. */
  issuer?: string;
  /** Where the issuer publishes its keys; enables signature checks. */
  jwksUrl?: string;
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
  #jwks: JWTVerifyGetKey | undefined;

  constructor(options: ValidatorOptions) {
    this.#options = options;
  }

  /** Format, expiry, audience and issuer, without any I/O. */
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
   * Local checks plus the RS256 signature against the issuer's JWKS (cached; re-fetched on an
   * unknown `kid` at most once per cool-down, so a flood of bad tokens cannot hammer the issuer).
   */
  async verifyLocally(token: string): Promise<ValidationResult> {
    const local = this.validateLocally(token);
    if (!local.valid || local.claims === undefined || this.#options.jwksUrl === undefined) return local;
    this.#jwks ??= createRemoteJWKSet(new URL(this.#options.jwksUrl), {
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5_000,
    });
    try {
      await jwtVerify(token, this.#jwks, {
        algorithms: ['RS256'],
        audience: this.#options.audience,
        issuer: this.#options.issuer,
        clockTolerance: this.#options.leewaySeconds ?? 60,
        currentDate: new Date(this.#options.clock.now()),
      });
      return local;
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_JWT_INVALID';
      return { valid: false, source: 'local', claims: local.claims, reason: `the signature check failed (${code})` };
    }
  }

  /** The backend's answer when it can give one, else the local result (which says why). */
  async validate(token: string, options: { signal?: AbortSignal; signature?: boolean } = {}): Promise<ValidationResult> {
    const local = options.signature ? await this.verifyLocally(token) : this.validateLocally(token);
    const { backendAuth } = this.#options;
    if (!backendAuth || isMeshApiKey(token)) return local;
    const backend = await backendAuth.validate(token, options.signal);
    if (backend.kind === 'unavailable') {
      return { ...local, reason: local.reason ?? `validated locally: ${backend.reason}` };
    }
    if (backend.kind === 'invalid') return { valid: false, source: 'backend', claims: local.claims, reason: backend.reason };
    return { valid: true, source: 'backend', ...(local.claims ? { claims: local.claims } : {}) };
  }
}
