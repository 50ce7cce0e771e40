/**
 * Where bearer credentials come from: the TokenManager (login, refresh), a static key or token,
 * or the user's TokenProvider. One shape, so the call flow never asks which it has.
 */
import type { TokenManager } from '../auth/token-manager.js';
import type { TokenProvider } from './types.js';

export interface Credentials {
  /** The bearer for the next request. */
  token(signal?: AbortSignal): Promise<string>;
  /** After a 401/404 with `stale`: a different token, or undefined when there is none to try. */
  renew(stale: string, signal?: AbortSignal): Promise<string | undefined>;
  /** Whether the backend should meet the user through `/auth/profile` once. */
  readonly registersUser: boolean;
  /** What to do when the backend refuses these credentials. */
  readonly refusedHint: string;
}

export function managedCredentials(manager: TokenManager): Credentials {
  return {
    token: (signal) => manager.getAccessToken({ signal }),
    async renew(stale, signal) {
      const next = await manager.getAccessToken({ forceRefresh: true, staleToken: stale, signal });
      return next === stale ? undefined : next;
    },
    registersUser: true,
    refusedHint: 'Run `npx mesh-auth` to log in again.',
  };
}

export function staticCredentials(value: string, kind: 'apiKey' | 'authToken'): Credentials {
  return {
    token: async () => value,
    renew: async () => undefined,
    registersUser: kind === 'authToken',
    refusedHint:
      kind === 'apiKey'
        ? 'The API key was refused: it may have been revoked. Create one with `npx mesh-env --api-key` and set MESH_API_KEY.'
        : 'The token given as authToken was refused. Use the default login instead (`npx mesh-auth`).',
  };
}

export function providedCredentials(provider: TokenProvider): Credentials {
  return {
    token: () => provider.getAccessToken(),
    async renew(stale) {
      const next = await provider.getAccessToken();
      return next === stale ? undefined : next;
    },
    registersUser: true,
    refusedHint: 'The token from your TokenProvider was refused.',
  };
}
