/** What `client.authStatus()` reports: never starts a login; a missing or refused token is "not logged in". */

import type { Credentials } from '../auth/credentials.js';
import type { TokenManager } from '../auth/tokens/token-manager.js';
import type { ValidationResult } from '../auth/tokens/validator.js';
import { ReauthenticationRequiredError } from '../errors/mesh-error.js';
import type { AuthStatus } from './types.js';

export interface AuthStatusSources {
  /** Present in the default (login) mode. */
  manager: TokenManager | undefined;
  credentials: Credentials;
  /** Judges the credential: `/auth/validate` or local checks for a token, the profile for an API key. */
  validate(token: string, signal?: AbortSignal): Promise<ValidationResult>;
  /** Where the tokens are: asked after they were read, so it names the store that holds them (file, keychain, the named Python file). */
  store: () => string;
  signal?: AbortSignal;
}

export async function readAuthStatus(sources: AuthStatusSources): Promise<AuthStatus> {
  const { manager, credentials, validate, signal } = sources;
  if (manager && !(await manager.hasTokens())) return { loggedIn: false, store: sources.store(), reason: 'no tokens stored' };
  let token: string;
  let expiresAt: number | undefined;
  try {
    if (manager) {
      const tokens = await manager.getTokenSet({ signal, allowLogin: false });
      token = tokens.access_token;
      expiresAt = tokens.expires_at;
    } else {
      token = await credentials.token(signal);
    }
  } catch (error) {
    if (error instanceof ReauthenticationRequiredError) return { loggedIn: false, store: sources.store(), reason: error.message };
    throw error;
  }
  const validation = await validate(token, signal);
  const subject = validation.claims?.sub;
  return {
    loggedIn: validation.valid,
    store: sources.store(),
    subject: typeof subject === 'string' ? subject : undefined,
    expiresAt,
    validation,
    ...(validation.valid ? {} : { reason: validation.reason ?? 'the token is not valid' }),
  };
}
