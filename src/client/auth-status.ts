/** What `client.authStatus()` reports: never starts a login; a missing or refused token is "not logged in". */
import type { TokenManager } from '../auth/token-manager.js';
import type { ValidationResult } from '../auth/validator.js';
import { ReauthenticationRequiredError } from '../errors/mesh-error.js';
import type { Credentials } from './credentials.js';
import type { AuthStatus } from './types.js';

export interface AuthStatusSources {
  /** Present in the default (login) mode. */
  manager: TokenManager | undefined;
  credentials: Credentials;
  /** Judges the credential: `/auth/validate` or local checks for a token, the profile for an API key. */
  validate(token: string, signal?: AbortSignal): Promise<ValidationResult>;
  store: string;
  signal?: AbortSignal;
}

export async function readAuthStatus({ manager, credentials, validate, store, signal }: AuthStatusSources): Promise<AuthStatus> {
  if (manager && !(await manager.hasTokens())) return { loggedIn: false, store, reason: 'no tokens stored' };
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
    if (error instanceof ReauthenticationRequiredError) return { loggedIn: false, store, reason: error.message };
    throw error;
  }
  const validation = await validate(token, signal);
  const subject = validation.claims?.sub;
  return {
    loggedIn: validation.valid,
    store,
    subject: typeof subject === 'string' ? subject : undefined,
    expiresAt,
    validation,
    ...(validation.valid ? {} : { reason: validation.reason ?? 'the token is not valid' }),
  };
}
