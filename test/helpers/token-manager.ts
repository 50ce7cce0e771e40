/** Builds TokenManagers against a running local stack, as the SDK will wire them. */

import type { Stack } from '../../dev/stack.js';
import { BackendAuth } from '../../src/auth/backend/backend-auth.js';
import type { TokenSet, TokenStore } from '../../src/auth/stores/token-store.js';
import { SkewClock } from '../../src/auth/tokens/clock.js';
import { TokenManager, type TokenManagerOptions } from '../../src/auth/tokens/token-manager.js';
import { HttpClient } from '../../src/http/http-client.js';
import { jwtExpiry } from '../../src/internal/jwt.js';
import { loginTokens } from './backend-login.js';

/** The SDK's BackendAuth for a stack (its own HttpClient and clock). */
export function backendAuthFor(stack: Stack, clock = new SkewClock(), options: { timeout?: number; maxRetries?: number } = {}) {
  const http = new HttpClient({ baseUrl: stack.apiUrl, timeout: options.timeout ?? 10_000, maxRetries: options.maxRetries });
  return new BackendAuth({ http, clock });
}

export function managerFor(
  stack: Stack,
  store: TokenStore,
  options: Partial<TokenManagerOptions> & { localNow?: () => number } = {},
): TokenManager {
  const clock = options.clock ?? new SkewClock(options.localNow);
  const backendAuth = options.backendAuth ?? backendAuthFor(stack, clock);
  return new TokenManager({ store, backendAuth, clock, ...options });
}

/** A fresh token set for the test user, in the stored format. */
export async function storedTokens(stack: Stack, login = 'alice@example.test'): Promise<TokenSet> {
  const reply = await loginTokens(stack, { login });
  return {
    access_token: reply.access_token,
    refresh_token: reply.refresh_token,
    token_type: 'Bearer',
    // As a load returns it: the earlier of the reply's lifetime and the JWT's exp (a second boundary
    // between issue and now would otherwise put expires_at one second past exp).
    expires_at: Math.min(Math.floor(Date.now() / 1000) + reply.expires_in, jwtExpiry(reply.access_token) ?? Infinity),
  };
}

/** A store that counts calls, around another store. */
export class CountingStore implements TokenStore {
  loads = 0;
  saves = 0;
  constructor(readonly inner: TokenStore) {}
  load() {
    this.loads += 1;
    return this.inner.load();
  }
  save(tokens: TokenSet) {
    this.saves += 1;
    return this.inner.save(tokens);
  }
  clear() {
    return this.inner.clear();
  }
  describe() {
    return this.inner.describe();
  }
}
