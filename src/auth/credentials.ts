/**
 * Where the credentials of a call come from: the TokenManager (login, refresh: it implements this
 * interface itself), a static API key or token, or the user's token provider. One shape, so the
 * request pipeline asks only for the next credential, a renewed one after a refusal, and what to
 * tell the user when the backend refuses them.
 */

export interface Credentials {
  /**
   * `bearer`: an Auth0 access token (`Authorization: Bearer`), checked by `/auth/validate`.
   * `apiKey`: a Mesh API key (`Authorization: ApiKey` + `x-api-key`), never validated through
   * `/auth/validate` and never refreshed; the profile answers whether it is good.
   */
  readonly kind: 'bearer' | 'apiKey';
  /** The credential for the next request. */
  token(signal?: AbortSignal): Promise<string>;
  /** After a 401/404 with `stale`: a different token, or undefined when there is none to try. */
  renew(stale: string, signal?: AbortSignal): Promise<string | undefined>;
  /** What to do when the backend refuses these credentials. */
  readonly refusedHint: string;
  /**
   * The backend's user id kept with this credential (the token set remembers it), when known:
   * a new process then needs no `/auth/profile` before its first key call.
   */
  rememberedUserId?(credential: string): string | undefined;
  /**
   * Keeps the user id (and the e-mail address) the backend's profile gave for this credential (best
   * effort: never rejects; settles when kept).
   */
  rememberUserId?(credential: string, userId: string, email?: string): Promise<void>;
}

/** The part of the public `TokenProvider` this module needs (the client's type, seen from below). */
export interface AccessTokenSource {
  getAccessToken(): Promise<string>;
}

export function staticCredentials(value: string, kind: 'apiKey' | 'authToken'): Credentials {
  return {
    kind: kind === 'apiKey' ? 'apiKey' : 'bearer',
    token: async () => value,
    renew: async () => undefined,
    refusedHint:
      kind === 'apiKey'
        ? 'The API key was refused: it may have been revoked. Create one with `npx mesh-env --api-key` and set MESH_API_KEY.'
        : 'The token given as authToken was refused. Use the default login instead (`npx mesh-auth`).',
  };
}

export function providedCredentials(provider: AccessTokenSource): Credentials {
  return {
    kind: 'bearer',
    token: () => provider.getAccessToken(),
    async renew(stale) {
      const next = await provider.getAccessToken();
      return next === stale ? undefined : next;
    },
    refusedHint: 'The token from your TokenProvider was refused.',
  };
}
