/**
 * The HTTP answer to a refused or undecidable request, the same from every middleware: 401 or 403
 * with a `WWW-Authenticate` challenge (RFC 6750 §3 for Bearer, RFC 9449 §7.1 for DPoP, and the Mesh
 * `ApiKey` scheme when keys are accepted), or 503 with `Retry-After` (nothing to authenticate
 * against: a challenge would tell the client to change a credential that may be fine). The body is
 * JSON `{"error": code, "message", "hint"}`.
 */
import { MeshAuthError, type VerificationError } from './errors.js';
import type { VerifierSettings } from './options.js';

export interface ErrorReply {
  status: 401 | 403 | 503;
  headers: Record<string, string>;
  body: string;
}

/** RFC 6750 §3: error_description is printable ASCII without `"` or `\`. */
function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`;
}

function challenge(scheme: string, params: Array<[string, string | undefined]>): string {
  const parts = params.filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${quoted(value as string)}`);
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

/** The `WWW-Authenticate` value for a refusal: a challenge per scheme this verifier takes, the one at fault first with the error. */
export function challengeFor(error: VerificationError, settings: VerifierSettings): string {
  const realm: [string, string] = ['realm', settings.realm];
  const algs: [string, string] = ['algs', settings.dpop.algorithms.join(' ')];
  const description: [string, string] = ['error_description', error.message];
  const bearer = () => challenge('Bearer', [realm]);
  const dpop = () => challenge('DPoP', [realm, algs]);
  const apiKey = () => (settings.acceptApiKeys ? [challenge('ApiKey', [realm])] : []);
  let challenges: string[];
  switch (error.code) {
    case 'token_missing':
      // RFC 6750 §3.1: no error code when the request had no credential at all.
      challenges = settings.dpop.required ? [dpop(), ...apiKey()] : [bearer(), dpop(), ...apiKey()];
      break;
    case 'token_scope':
      challenges = [
        challenge('Bearer', [realm, ['error', 'insufficient_scope'], ['scope', error.requiredScopes?.join(' ')], description]),
      ];
      break;
    case 'dpop_invalid': {
      // A proof problem is `invalid_dpop_proof`; a bound token under the wrong scheme (or the reverse) an invalid token.
      const proofProblem = error.dpop !== 'scheme' && error.dpop !== 'unbound';
      const code = proofProblem ? 'invalid_dpop_proof' : 'invalid_token';
      challenges = [challenge('DPoP', [realm, ['error', code], description, algs[1] ? algs : ['algs', undefined]])];
      if (!settings.dpop.required) challenges.push(bearer());
      break;
    }
    case 'api_key_invalid':
      challenges = settings.acceptApiKeys
        ? [challenge('ApiKey', [realm, ['error', 'invalid_token'], description]), bearer()]
        : [challenge('Bearer', [realm, ['error', 'invalid_token'], description])];
      break;
    default:
      challenges = [challenge('Bearer', [realm, ['error', 'invalid_token'], description]), dpop()];
  }
  return challenges.join(', ');
}

/**
 * The reply for an error `verify` threw; undefined for any other error (a bug to let the
 * framework's own error handling report).
 */
export function replyFor(error: unknown, settings: VerifierSettings): ErrorReply | undefined {
  if (!(error instanceof MeshAuthError)) return undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
  if (error.code === 'verifier_unavailable') {
    headers['retry-after'] = String((error as { retryAfter?: number }).retryAfter ?? 30);
  } else {
    headers['www-authenticate'] = challengeFor(error as VerificationError, settings);
  }
  const body = JSON.stringify({ error: error.code, message: error.message, hint: error.hint });
  return { status: error.status, headers, body };
}
