/**
 * `createVerifier`: who sent this request? An access token from the issuer (signature against its
 * cached keys, then `iss`, `aud`, `exp`/`nbf` with jose's `jwtVerify`), a DPoP proof when the token
 * is bound to a key, or a `mesh_` API key checked by the Mesh backend; then the required scopes.
 * Every refusal is a `VerificationError` with a stable code; every "cannot tell" a
 * `VerifierUnavailableError` (503). The one place jose's errors become ours is `fromJose` below.
 */
import { type JWTPayload, jwtVerify } from 'jose';
import { ApiKeyChecker } from './api-keys.js';
import { type PresentedExtras, presented, type VerifyInput } from './credentials.js';
import { ReplayWindow, verifyDpopProof } from './dpop.js';
import { dpopRefused, MeshAuthError, refused, VerificationError, type VerificationErrorCode } from './errors.js';
import { JwksCache } from './jwks-cache.js';
import { settleOptions, type VerifierOptions, type VerifierSettings } from './options.js';

/** Who a verified request comes from. */
export interface MeshIdentity {
  /** The token's `sub`; for an API key, its owner's Mesh user id (the same value for the same user). */
  subject: string;
  /** The token's `email` claim (or a namespaced `.../email` one); for an API key, the profile's. */
  email?: string;
  /** The token's `scope` and Auth0 `permissions`; for an API key, `apiKeys.scopes`. */
  scopes: string[];
  kind: 'token' | 'api_key';
  /** The token's verified claims; for an API key, the backend's profile of its owner. */
  claims: Record<string, unknown>;
}

/** Per-call options of `verify`. */
export interface VerifyOptions extends PresentedExtras {
  /** Scopes this call requires besides the verifier's `requiredScopes`. */
  requiredScopes?: readonly string[];
}

export interface Verifier {
  /**
   * Verifies a bare token, an `Authorization` header value, or a whole request (Fetch `Request`,
   * Node/Express/Fastify request: the DPoP proof, method and URL are read from it).
   * @throws VerificationError (401/403) or VerifierUnavailableError (503).
   */
  verify(input: VerifyInput, options?: VerifyOptions): Promise<MeshIdentity>;
  /** Fetches the issuer's keys now (at start-up), so the first request does not wait for them. */
  warm(): Promise<void>;
  /** The settled options (defaults applied, frozen). */
  readonly settings: VerifierSettings;
}

const CLAIM_CODES: Record<string, VerificationErrorCode> = { iss: 'token_issuer', aud: 'token_audience', nbf: 'token_expired' };

/** jose's error (or ours, thrown by the key lookup) as a MeshAuthError. */
function fromJose(error: unknown): MeshAuthError {
  if (error instanceof MeshAuthError) return error;
  const { code, claim } = error as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return refused('token_expired', 'the token has expired', error);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const mapped = claim === undefined ? undefined : CLAIM_CODES[claim];
      if (mapped === 'token_expired') return refused(mapped, 'the token is not valid yet (nbf)', error);
      if (mapped) return refused(mapped, `the token's ${claim} claim is not the expected one`, error);
      return refused('token_malformed', `the token's ${claim ?? 'claims'} claim is missing or invalid`, error);
    }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refused('token_signature', "the token's signature does not verify", error);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return refused('token_signature', 'the token is unsigned or signed with an algorithm not allowed', error);
    default:
      return refused('token_malformed', 'the token is not a well-formed JWT', error);
  }
}

function scopesOf(claims: JWTPayload): string[] {
  const scope = claims.scope;
  const listed = typeof scope === 'string' ? scope.split(' ') : Array.isArray(scope) ? scope : [];
  const permissions = Array.isArray(claims.permissions) ? claims.permissions : [];
  const all = new Set<string>();
  for (const item of [...listed, ...permissions]) if (typeof item === 'string' && item !== '') all.add(item);
  return [...all];
}

function emailOf(claims: JWTPayload): string | undefined {
  if (typeof claims.email === 'string') return claims.email;
  for (const [name, value] of Object.entries(claims)) if (name.endsWith('/email') && typeof value === 'string') return value;
  return undefined;
}

function requireScopes(identity: MeshIdentity, required: readonly string[]): MeshIdentity {
  if (required.length === 0) return identity;
  const missing = required.filter((scope) => !identity.scopes.includes(scope));
  if (missing.length === 0) return identity;
  throw new VerificationError(
    'token_scope',
    `the credential lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    {
      requiredScopes: required,
    },
  );
}

/**
 * A verifier for Mesh credentials: keep one per process (or isolate) and share it between routes;
 * its caches are its state.
 *
 * @example
 * import { createVerifier } from 'mesh-sdk/server';
 * const verifier = createVerifier({ acceptApiKeys: true, requiredScopes: ['chat'] });
 * const identity = await verifier.verify(request); // { subject, email, scopes, kind, claims }
 */
export function createVerifier(options: VerifierOptions = {}): Verifier {
  const settings = settleOptions(options);
  const jwks = new JwksCache(settings);
  const apiKeys = new ApiKeyChecker(settings);
  const replays = new ReplayWindow(settings.dpop.maxReplayEntries);
  const getKey = (header: { alg?: string; kid?: string }) => jwks.keyFor(header.alg as string, header.kid);
  const algorithms = [...settings.algorithms];
  // jose reads its own clock unless given one: a Date per call only when the clock is injected.
  const clockInjected = options.now !== undefined;

  async function verifyToken(token: string, scheme: 'bearer' | 'dpop', extras: PresentedExtras): Promise<MeshIdentity> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, getKey, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms,
        clockTolerance: settings.clockTolerance,
        ...(clockInjected ? { currentDate: new Date(settings.now()) } : {}),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw fromJose(error);
    }
    const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (typeof jkt === 'string') {
      // RFC 9449 §7.1: a bound token travels with the DPoP scheme; as Bearer it would be usable without the key.
      if (scheme !== 'dpop')
        throw dpopRefused('scheme', 'the token is DPoP-bound: send it as `Authorization: DPoP <token>` with a proof');
      await verifyDpopProof(settings, replays, { proof: extras.dpop, method: extras.method, url: extras.url }, token, jkt);
    } else if (scheme === 'dpop') {
      throw dpopRefused('unbound', 'the DPoP scheme carries a token that is not bound to a key');
    } else if (settings.dpop.required) {
      throw dpopRefused('unbound', 'this API accepts DPoP-bound tokens only');
    }
    const email = emailOf(claims);
    return {
      subject: claims.sub as string,
      ...(email === undefined ? {} : { email }),
      scopes: scopesOf(claims),
      kind: 'token',
      claims: claims as Record<string, unknown>,
    };
  }

  async function verifyApiKey(key: string): Promise<MeshIdentity> {
    if (!settings.acceptApiKeys) throw refused('api_key_invalid', 'API keys are not accepted here (acceptApiKeys is off)');
    const owner = await apiKeys.check(key);
    return {
      subject: owner.id,
      ...(owner.email === undefined ? {} : { email: owner.email }),
      scopes: [...settings.apiKeys.scopes],
      kind: 'api_key',
      claims: owner.profile,
    };
  }

  return Object.freeze({
    settings,
    warm: () => jwks.warm(),
    async verify(input: VerifyInput, call: VerifyOptions = {}): Promise<MeshIdentity> {
      const what = presented(input, call);
      let identity: MeshIdentity;
      if (what.kind === 'none') throw refused('token_missing', 'the request carries no credential');
      if (what.kind === 'api_key') identity = await verifyApiKey(what.key);
      else identity = await verifyToken(what.token, what.scheme, { dpop: what.proof, method: what.method, url: what.url });
      const required = call.requiredScopes?.length
        ? [...settings.requiredScopes, ...call.requiredScopes]
        : settings.requiredScopes;
      return requireScopes(identity, required);
    },
  });
}
