/**
 * The token side of the CLI's client without its HTTP stack, for `mesh-auth token` and
 * `print-tokens` (issue 22): the same configuration, store, lock, clock and TokenManager that
 * MeshClient wires (client/assemble.ts, default login mode, `interactive: false`), with the
 * backend's auth endpoints, and with them the HTTP client and undici, built by the first refresh
 * instead of at start. A valid stored token is handed out without loading any HTTP code; a refresh
 * goes through the very HttpClient and BackendAuth a MeshClient would have (assemble.ts's own
 * `httpClientFor` and `backendAuthFor`).
 *
 * Where this wiring would not do exactly what `new MeshClient(options).tokenSet()` does, it answers
 * undefined and the caller takes that path instead: an API key configured (tokenSet() refuses it),
 * a token store object (never from the CLI), or a proxy variable set (constructing the HTTP client
 * reads it and refuses a malformed one at once, before any token is read).
 */
import type { BackendAuth } from '../auth/backend/backend-auth.js';
import { createTokenStore } from '../auth/stores/create-token-store.js';
import { SkewClock } from '../auth/tokens/clock.js';
import { TokenManager } from '../auth/tokens/token-manager.js';
import { resolveConfig } from '../client/configuration.js';
import type { MeshClientOptions } from '../client/options.js';
import { proxyConfigured } from '../internal/environment.js';
import { createLogger } from '../internal/logger.js';

/**
 * The TokenManager `new MeshClient(options)` would build, its backend loaded on first use; undefined
 * where only a MeshClient does the same (see above). Throws what the client's construction throws
 * for a bad setting (resolveConfig's ConfigError).
 */
export function tokenManagerWithoutHttp(options: MeshClientOptions): TokenManager | undefined {
  if (options.apiKey !== undefined || options.authToken !== undefined || options.tokenProvider !== undefined) return undefined;
  if (options.dispatcher !== undefined || options.tokenStore !== undefined || options.interactive !== false) return undefined;
  const config = resolveConfig(options);
  if (config.apiKey !== undefined || typeof config.tokenStore === 'object') return undefined;
  if (proxyConfigured()) return undefined;
  const logger = createLogger({ debug: config.debug, logger: options.logger });
  const clock = new SkewClock();
  const selection = createTokenStore(config, { env: options.env ?? process.env, logger });
  let backend: Promise<BackendAuth> | undefined;
  const loadBackend = () =>
    (backend ??= Promise.all([
      import('../client/assemble.js'),
      import('../http/circuit-breaker.js'),
      import('./cli-transport.js'),
    ]).then(([{ httpClientFor, backendAuthFor }, { CircuitBreaker }, { cliTransport }]) =>
      backendAuthFor(
        config,
        httpClientFor(config, { breaker: new CircuitBreaker(options.circuitBreaker), logger, transport: cliTransport() }),
        clock,
        logger,
      ),
    ));
  return new TokenManager({
    store: selection.store,
    backendAuth: lazyBackendAuth(loadBackend),
    clock,
    lock: selection.lock ?? selection.store.lock,
    refreshAheadSeconds: config.refreshAheadSeconds,
    autoRefresh: config.autoRefresh,
    logger,
  });
}

/**
 * A BackendAuth whose every method waits for the real one (each of them answers a promise) and
 * then runs on it: nothing is loaded until the token manager first asks the backend (a refresh).
 * Not a thenable: awaiting the object itself gives the object.
 */
function lazyBackendAuth(load: () => Promise<BackendAuth>): BackendAuth {
  return new Proxy({} as BackendAuth, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) =>
        load().then((real) => {
          const member: unknown = Reflect.get(real, name);
          if (typeof member !== 'function') throw new TypeError(`BackendAuth has no method ${String(name)}`);
          return Reflect.apply(member, real, args);
        });
    },
  });
}
