/**
 * The errors of `mesh-sdk/server`: one class for a credential that is refused (401, or 403 for a
 * missing scope) and one for a verifier that cannot decide (503). Callers and the middlewares match
 * on `code`; `status` is the HTTP status to answer with. No message ever holds a token, a proof or
 * a key: they say what was wrong with it, not what it was.
 */

/**
 * Stable codes of `VerificationError` and `VerifierUnavailableError`, by who raises them.
 *
 * | code | status | meaning |
 * |---|---|---|
 * | `token_missing` | 401 | no credential in the request |
 * | `token_malformed` | 401 | not a JWT, an unknown scheme, a required claim missing |
 * | `token_expired` | 401 | `exp` passed (or `nbf` not reached), beyond `clockTolerance` |
 * | `token_audience` | 401 | `aud` does not hold the configured audience |
 * | `token_issuer` | 401 | `iss` is not the configured issuer |
 * | `token_signature` | 401 | bad signature, `alg: none` or an algorithm not allowed, an unknown key id |
 * | `token_scope` | 403 | a required scope is missing |
 * | `dpop_invalid` | 401 | a DPoP-bound token without a valid proof (RFC 9449), or a proof for another request |
 * | `api_key_invalid` | 401 | the backend does not know the `mesh_` key, or keys are not accepted here |
 * | `verifier_unavailable` | 503 | no usable signing keys (IdP down past `maxStaleSeconds`), or the backend down for an API key |
 */
export const VerificationCode = {
  TOKEN_MISSING: 'token_missing',
  TOKEN_MALFORMED: 'token_malformed',
  TOKEN_EXPIRED: 'token_expired',
  TOKEN_AUDIENCE: 'token_audience',
  TOKEN_ISSUER: 'token_issuer',
  TOKEN_SIGNATURE: 'token_signature',
  TOKEN_SCOPE: 'token_scope',
  DPOP_INVALID: 'dpop_invalid',
  API_KEY_INVALID: 'api_key_invalid',
  VERIFIER_UNAVAILABLE: 'verifier_unavailable',
} as const;

/** A code a refused credential carries (everything but `verifier_unavailable`). */
export type VerificationErrorCode = Exclude<(typeof VerificationCode)[keyof typeof VerificationCode], 'verifier_unavailable'>;

/**
 * Which DPoP check failed, on a `dpop_invalid` error (the Python seed SDK raises all of these as
 * `InvalidDpopProofError`; a bound token sent as Bearer is its `InvalidAuthSchemeError`).
 */
export type DpopFailure =
  | 'missing'
  | 'malformed'
  | 'signature'
  | 'htm'
  | 'htu'
  | 'iat'
  | 'replayed'
  | 'thumbprint'
  | 'ath'
  | 'scheme'
  | 'unbound';

const HINTS: Record<VerificationErrorCode | 'verifier_unavailable', string> = {
  token_missing: 'Send `Authorization: Bearer <access token>` (or an API key as `ApiKey <key>` / `x-api-key`).',
  token_malformed: 'Send an access token issued by the configured issuer, as `Authorization: Bearer <token>`.',
  token_expired: 'Get a new access token (the client refreshes it: `npx mesh-auth token`).',
  token_audience: 'Ask the token for this API: the audience must match the verifier `audience` (AUTH0_AUDIENCE).',
  token_issuer: 'The token comes from another tenant: check the verifier `issuer` (AUTH0_DOMAIN).',
  token_signature: 'The token was not signed by the issuer; get a new one from it.',
  token_scope: 'Ask for a token with the scopes this route requires.',
  dpop_invalid: 'Send a fresh DPoP proof for this method and URL, signed with the key the token is bound to (RFC 9449).',
  api_key_invalid: 'Check the API key (`mesh_...`): it may have been revoked; mint a new one with `mesh-env --api-key`.',
  verifier_unavailable: 'Retry later: the issuer keys or the Mesh backend cannot be reached right now.',
};

/** What both error classes carry besides the message. */
export interface MeshAuthErrorDetails {
  hint?: string;
  cause?: unknown;
}

/**
 * The base of the errors `mesh-sdk/server` throws. Match on `code`, answer with `status`.
 *
 * @example
 * try { await verifier.verify(request); }
 * catch (error) { if (error instanceof MeshAuthError) console.log(error.status, error.code); }
 */
export class MeshAuthError extends Error {
  readonly code: VerificationErrorCode | 'verifier_unavailable';
  /** The HTTP status to answer with: 401, 403 or 503. */
  readonly status: 401 | 403 | 503;
  /** What the caller of your API can do about it. */
  readonly hint: string;

  constructor(
    code: VerificationErrorCode | 'verifier_unavailable',
    status: 401 | 403 | 503,
    message: string,
    details: MeshAuthErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.hint = details.hint ?? HINTS[code];
  }

  /** A plain object for logs and replies: no token, proof or key in it. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, status: this.status, message: this.message, hint: this.hint };
  }
}

/**
 * The credential is refused: 401, or 403 (`token_scope`). The request should not be retried as is.
 *
 * @example
 * catch (error) { if (error instanceof VerificationError && error.code === 'token_expired') refreshAndRetry(); }
 */
export class VerificationError extends MeshAuthError {
  declare readonly code: VerificationErrorCode;
  /** With `token_scope`: the scopes the route requires (for the `WWW-Authenticate` challenge). */
  readonly requiredScopes: readonly string[] | undefined;
  /** With `dpop_invalid`: which check failed. */
  readonly dpop: DpopFailure | undefined;

  constructor(
    code: VerificationErrorCode,
    message: string,
    details: MeshAuthErrorDetails & { requiredScopes?: readonly string[]; dpop?: DpopFailure } = {},
  ) {
    super(code, code === 'token_scope' ? 403 : 401, message, details);
    this.requiredScopes = details.requiredScopes;
    this.dpop = details.dpop;
  }
}

/**
 * The verifier cannot decide: no usable signing keys (the issuer unreachable for longer than
 * `maxStaleSeconds`), or the backend unreachable while checking an API key. Answer 503, never 401:
 * the caller's credential may be perfectly good.
 *
 * @example
 * catch (error) { if (error instanceof VerifierUnavailableError) res.status(503).set('retry-after', String(error.retryAfter)); }
 */
export class VerifierUnavailableError extends MeshAuthError {
  declare readonly code: 'verifier_unavailable';
  /** Seconds after which a retry may succeed (the verifier's cool-down before it asks again). */
  readonly retryAfter: number;

  constructor(message: string, details: MeshAuthErrorDetails & { retryAfter?: number } = {}) {
    super('verifier_unavailable', 503, message, details);
    this.retryAfter = Math.max(1, Math.ceil(details.retryAfter ?? 30));
  }
}

/** A `VerificationError` shortcut for the modules of this folder. */
export function refused(code: VerificationErrorCode, message: string, cause?: unknown): VerificationError {
  return new VerificationError(code, message, cause === undefined ? {} : { cause });
}

/** A `dpop_invalid` error naming the failed check. */
export function dpopRefused(dpop: DpopFailure, message: string): VerificationError {
  return new VerificationError('dpop_invalid', message, { dpop });
}
