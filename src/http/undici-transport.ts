/**
 * The default transport: undici. Loaded by the HTTP client's first request (http-client.ts), never
 * at import: a process that brings its own transport (the CLI) does not pay for it.
 */
import { Agent, type Dispatcher, EnvHttpProxyAgent, getGlobalDispatcher, request } from 'undici';
import { proxyConfigured } from '../internal/environment.js';
import type { Transport, TransportRequest, TransportResponse } from './transport.js';

/**
 * A keep-alive pool. With a proxy configured, undici's EnvHttpProxyAgent, which honours
 * HTTP(S)_PROXY and NO_PROXY as curl does; without one, a plain Agent, because the proxy agent's
 * per-request checks cost about a fifth of the throughput (bench/http.bench.ts). Both read the
 * environment once, here.
 */
export function defaultDispatcher(): Dispatcher {
  const pool = { keepAliveTimeout: 10_000, connections: 64 };
  return proxyConfigured() ? new EnvHttpProxyAgent(pool) : new Agent(pool);
}

/**
 * A dispatcher as a transport: one with `request()` (every undici dispatcher) is one already; a
 * duck-typed one with only `dispatch()` goes through `undici.request`, which calls it.
 */
export function dispatcherTransport(dispatcher: Dispatcher): Transport {
  if (typeof (dispatcher as Partial<Dispatcher>).request === 'function') return dispatcher; // a Transport as it is (type-checked)
  return {
    request: ({ origin, path, method, ...rest }: TransportRequest) =>
      request(`${origin}${path}`, {
        ...rest,
        method: method as Dispatcher.HttpMethod,
        dispatcher,
      }) as unknown as Promise<TransportResponse>,
    close: () => dispatcher.close(),
  };
}

/** undici's global dispatcher (the one `undici.request` uses without one) as a transport. */
export function globalTransport(): Transport {
  return dispatcherTransport(getGlobalDispatcher());
}
