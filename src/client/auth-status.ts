/** What `client.authStatus()` reports: never starts a login; a missing or refused token is "not logged in". */

import type { Credentials } from '../auth/credentials.js';
import type { TokenManager } from '../auth/tokens/token-manager.js';
import type { ValidationResult } from '../auth/tokens/validator.js';
import { ReauthenticationRequiredError } from '../errors/mesh-error.js';
import { decodeJwt } from '../internal/jwt.js';
import type { AuthStatus, CredentialKind } from './types.js';

export interface AuthStatusSources {
  /** Present in the default (login) mode. */
  manager: TokenManager | undefined;
  credentials: Credentials;
  /** Judges the credential: `/auth/validate` or local checks for a token, the profile for an API key. */
  validate(token: string, signal?: AbortSignal): Promise<ValidationResult>;
  /** Where the tokens are: asked after they were read, so it names the store that holds them (file, keychain, the named Python file). */
  store: () => string;
  /** The client's profile and credential kind, said in every answer. */
  profile: string;
  credential: CredentialKind;
  signal?: AbortSignal;
}

/** The `email` claim of an ID token, when it has one (decoded only: the client's own stored token). */
export function idTokenEmail(idToken: string | undefined): string | undefined {
  if (idToken === undefined) return undefined;
  try {
    const { email } = decodeJwt(idToken).payload;
    return typeof email === 'string' && email.includes('@') ? email : undefined;
  } catch {
    return undefined;
  }
}

export async function readAuthStatus(sources: AuthStatusSources): Promise<AuthStatus> {
  const { manager, credentials, validate, signal, profile, credential } = sources;
  const which = { profile, credential };
  if (manager && !(await manager.hasTokens()))
    return { loggedIn: false, ...which, store: sources.store(), reason: 'no tokens stored' };
  let token: string;
  let expiresAt: number | undefined;
  let email: string | undefined;
  try {
    if (manager) {
      const tokens = await manager.getTokenSet({ signal, allowLogin: false });
      token = tokens.access_token;
      expiresAt = tokens.expires_at;
      email = idTokenEmail(tokens.id_token) ?? manager.rememberedEmail(tokens.access_token);
    } else {
      token = await credentials.token(signal);
    }
  } catch (error) {
    if (error instanceof ReauthenticationRequiredError)
      return { loggedIn: false, ...which, store: sources.store(), reason: error.message };
    throw error;
  }
  const validation = await validate(token, signal);
  const subject = validation.claims?.sub;
  return {
    loggedIn: validation.valid,
    ...which,
    store: sources.store(),
    subject: typeof subject === 'string' ? subject : undefined,
    ...(email === undefined ? {} : { email }),
    expiresAt,
    validation,
    ...(validation.valid ? {} : { reason: validation.reason ?? 'the token is not valid' }),
  };
}
