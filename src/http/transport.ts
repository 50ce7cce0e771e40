/**
 * The seam below the HTTP client: what it needs of a connection pool, which is the part of undici's
 * `Dispatcher.request()` it uses. The default is undici (undici-transport.ts: a keep-alive pool,
 * the proxy variables), loaded by the first request, so that a process that brings its own
 * transport never loads it: the CLI's one-shot commands use node:http (node-http-transport.ts),
 * which costs a short process about 300 ms less (undici compiles its WebAssembly parser first).
 * A user's undici `Dispatcher` is a transport as it is.
 */

/** One request: origin and path apart, as undici takes them (no URL parsed per request). */
export interface TransportRequest {
  origin: string;
  /** Path and query, e.g. `/api/v1/listKeys?userId=...`. */
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Bound on the wait for the reply's headers, ms. */
  headersTimeout: number;
  /** Bound on each pause in the reply's body, ms. */
  bodyTimeout: number;
}

/**
 * A reply's body as the HTTP client reads it: a Node readable stream (undici's body, or
 * node:http's reply) with a way to drop it unread.
 */
export interface ReplyBody extends AsyncIterable<Uint8Array> {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'end' | 'close', listener: () => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  destroy(error?: Error): unknown;
  /** Reads at most a little of the rest, then drops it. */
  dump(): Promise<void>;
}

export interface TransportResponse {
  statusCode: number;
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  body: ReplyBody;
}

export interface Transport {
  request(options: TransportRequest): Promise<TransportResponse>;
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

/**
 * The codes of a transport's own timeouts: undici's, and node-http-transport.ts's, which names
 * them the same way so that the client reads both alike.
 */
export const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A request to a whole URL (a redirect's target, a key set's address): split as the transport takes it. */
export function requestTo(url: URL, options: Omit<TransportRequest, 'origin' | 'path'>): TransportRequest {
  return { ...options, origin: url.origin, path: `${url.pathname}${url.search}` };
}
