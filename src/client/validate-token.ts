/**
 * `client.validateToken()`: judges a credential as it is, the one given or the client's current
 * one, and never changes it: no refresh, no login (an expired token is "not valid", not a reason
 * to refresh). A JWT goes to `/auth/validate` or the local checks (signature included); a Mesh API
 * key never goes to `/auth/validate` (contract v2 part A): whether the profile answers to it says.
 */

import type { Credentials } from '../auth/credentials.js';
import type { TokenManager } from '../auth/tokens/token-manager.js';
import { isMeshApiKey, type TokenValidator, type ValidationResult } from '../auth/tokens/validator.js';
import { NetworkError } from '../errors/mesh-error.js';
import type { HttpClient } from '../http/http-client.js';
import { PROFILE_PATH } from './operations.js';

export interface ValidateTokenSources {
  /** The token to judge; undefined: the client's current credential. */
  token: string | undefined;
  credentials: Credentials;
  /** Present in the default (login) mode: its token set is read, never refreshed. */
  manager: TokenManager | undefined;
  validator: TokenValidator;
  http: HttpClient;
  signal?: AbortSignal;
}

/** What `validateToken()` answers when the login mode has no token at all. */
export const NO_TOKEN_STORED: ValidationResult = Object.freeze({
  valid: false,
  source: 'local',
  reason: 'no token: none is stored (run `npx mesh-auth` to log in)',
});

export async function validateToken(sources: ValidateTokenSources): Promise<ValidationResult> {
  const { credentials, manager, signal } = sources;
  let token = sources.token;
  if (token === undefined) {
    if (manager) {
      const tokens = await manager.peekTokenSet();
      if (!tokens) return { ...NO_TOKEN_STORED };
      token = tokens.access_token;
    } else {
      // apiKey and authToken hand back their fixed value; a TokenProvider is asked for its current token.
      token = await credentials.token(signal);
    }
    if (credentials.kind === 'apiKey') return validateApiKey(sources.http, token, signal);
  }
  if (isMeshApiKey(token)) return validateApiKey(sources.http, token, signal);
  return sources.validator.validate(token, { signal });
}

/** An API key is good when the backend answers its profile; a 401/403/404 there is a refusal. */
export async function validateApiKey(http: HttpClient, key: string, signal?: AbortSignal): Promise<ValidationResult> {
  try {
    const response = await http.send({ method: 'GET', path: PROFILE_PATH, apiKey: key, signal });
    if (response.status === 200)
      return { valid: true, source: 'backend', reason: 'the backend answered the profile for this API key' };
    if (response.status === 401 || response.status === 403 || response.status === 404)
      return { valid: false, source: 'backend', reason: `the backend refused the API key (HTTP ${response.status})` };
    return {
      valid: true,
      source: 'local',
      reason: `only the mesh_ prefix was checked: the profile answered HTTP ${response.status}`,
    };
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    return { valid: true, source: 'local', reason: `only the mesh_ prefix was checked: ${error.message}` };
  }
}
