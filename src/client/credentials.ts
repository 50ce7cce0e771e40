/**
 * Where credentials come from: the TokenManager (login, refresh), a static API key or token, or
 * the user's TokenProvider. One shape, so the call flow asks only which headers to send.
 */
import type { TokenManager } from '../auth/tokens/token-manager.js';
import type { TokenProvider } from './types.js';

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
}

export function managedCredentials(manager: TokenManager): Credentials {
  return {
    kind: 'bearer',
    token: (signal) => manager.getAccessToken({ signal }),
    async renew(stale, signal) {
      const next = await manager.getAccessToken({ forceRefresh: true, staleToken: stale, signal });
      return next === stale ? undefined : next;
    },
    refusedHint: 'Run `npx mesh-auth` to log in again.',
  };
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

export function providedCredentials(provider: TokenProvider): Credentials {
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
