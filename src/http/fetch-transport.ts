/**
 * A transport over the runtime's `fetch`, for edge Workers (workerd), which have no undici and no
 * node:http to build one on. The Worker entry (src/worker.ts) makes it the default; everything
 * above the transport (retries, timeouts, redirects, the breaker, reply checks, streams) is the
 * HTTP client's, as on Node.js.
 *
 * It behaves as the other transports do where the client can tell: redirects come back to the
 * client unfollowed (it decides where a credential may go), the wait for the headers and each pause
 * in the body are bounded and fail with undici's timeout codes, and the body is a `ReplyBody`: read
 * by events or by `for await`, dropped by `destroy()`.
 */
import type { ReplyBody, Transport, TransportRequest, TransportResponse } from './transport.js';

/** An error carrying undici's code for a transport timeout, so the client reads it as one. */
function timeoutError(code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT', ms: number): Error {
  const what = code === 'UND_ERR_HEADERS_TIMEOUT' ? 'headers' : 'body';
  return Object.assign(new Error(`No ${what} within ${ms} ms.`), { code });
}

export function fetchTransport(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Transport {
  return {
    async request(options: TransportRequest): Promise<TransportResponse> {
      const controller = new AbortController();
      const { signal } = options;
      const onAbort = () => controller.abort(signal?.reason);
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const headersTimer = setTimeout(
        () => controller.abort(timeoutError('UND_ERR_HEADERS_TIMEOUT', options.headersTimeout)),
        options.headersTimeout,
      );
      const stopWatching = () => signal?.removeEventListener('abort', onAbort);
      try {
        const response = await fetchImpl(`${options.origin}${options.path}`, {
          method: options.method,
          headers: options.headers,
          body: options.body,
          redirect: 'manual',
          signal: controller.signal,
        });
        return {
          statusCode: response.status,
          headers: headerRecord(response.headers),
          body: new WebReplyBody(response.body, options.bodyTimeout, (reason) => {
            stopWatching();
            controller.abort(reason);
          }),
        };
      } catch (error) {
        stopWatching();
        // fetch rejects with the abort's reason: the timeout's coded error, or the caller's.
        if (controller.signal.aborted && controller.signal.reason instanceof Error) throw controller.signal.reason;
        // Node's, Bun's and Deno's fetch wrap the system's error (ECONNREFUSED...) as the cause of
        // a TypeError('fetch failed'): the code is what the retry policy reads. workerd has none.
        const cause = (error as { cause?: unknown }).cause;
        throw cause instanceof Error && typeof (cause as { code?: unknown }).code === 'string' ? cause : error;
      } finally {
        clearTimeout(headersTimer);
      }
    },
    // fetch pools its connections itself: nothing of ours to close.
    close: async () => {},
  };
}

/** Lower-case names, as undici gives them; a repeated header (set-cookie) as its list. */
function headerRecord(headers: Headers): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    record[name] = value;
  });
  const cookies = headers.getSetCookie?.() ?? [];
  if (cookies.length > 1) record['set-cookie'] = cookies;
  return record;
}

type Listener = (...args: never[]) => void;
type BodyEvent = 'data' | 'end' | 'error' | 'close';

/**
 * A web `ReadableStream` as the Node-style body the client reads: 'data', 'end', 'error' and
 * 'close' events once a 'data' listener is added (as a Node stream starts flowing), or the async
 * iterator; `destroy(error?)` cancels the read and aborts the request, `dump()` drops the rest.
 * Each wait for a chunk is bounded by the body timeout.
 */
class WebReplyBody implements ReplyBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #bodyTimeout: number;
  readonly #abort: (reason?: unknown) => void;
  readonly #listeners = new Map<BodyEvent, Array<{ listener: Listener; once: boolean }>>();
  #flowing = false;
  #finished = false;
  /** What destroy() was given: a pending or later read fails with it (as a Node stream's iterator does). */
  #error: Error | undefined;

  constructor(stream: ReadableStream<Uint8Array> | null, bodyTimeout: number, abort: (reason?: unknown) => void) {
    this.#reader = stream?.getReader();
    this.#bodyTimeout = bodyTimeout;
    this.#abort = abort;
  }

  on(event: BodyEvent, listener: Listener): this {
    this.#add(event, listener, false);
    if (event === 'data' && !this.#flowing) {
      this.#flowing = true;
      void this.#flow();
    }
    return this;
  }

  once(event: BodyEvent, listener: Listener): this {
    this.#add(event, listener, true);
    return this;
  }

  destroy(error?: Error): this {
    if (this.#finished) return this;
    this.#finish();
    this.#error = error;
    this.#reader?.cancel(error).catch(() => {});
    this.#abort(error);
    if (error !== undefined) this.#emit('error', error);
    this.#emit('close');
    return this;
  }

  async dump(): Promise<void> {
    this.destroy();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for (;;) {
        const chunk = await this.#read();
        if (chunk === undefined) return;
        yield chunk;
      }
    } finally {
      // A `break`, or the end: either way the request is over.
      this.destroy();
    }
  }

  /** The next chunk, undefined at the end; fails when none comes within the body timeout. */
  async #read(): Promise<Uint8Array | undefined> {
    const reader = this.#reader;
    if (this.#finished || reader === undefined) return this.#ended();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeoutError('UND_ERR_BODY_TIMEOUT', this.#bodyTimeout)), this.#bodyTimeout);
    });
    try {
      const { done, value } = await Promise.race([reader.read(), overdue]);
      return done || this.#finished ? this.#ended() : value;
    } catch (error) {
      this.destroy(error as Error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #flow(): Promise<void> {
    try {
      for (;;) {
        const chunk = await this.#read();
        if (this.#finished && chunk === undefined) return;
        if (chunk === undefined) break;
        this.#emit('data', toBuffer(chunk));
      }
    } catch {
      return; // destroy() already said it: 'error', then 'close'
    }
    this.#finish();
    this.#emit('end');
    this.#emit('close');
  }

  /** The end of the chunks: nothing more, or the error the body was destroyed with. */
  #ended(): undefined {
    if (this.#error !== undefined) throw this.#error;
    return undefined;
  }

  #finish(): void {
    this.#finished = true;
  }

  #add(event: BodyEvent, listener: Listener, once: boolean): void {
    const list = this.#listeners.get(event) ?? [];
    list.push({ listener, once });
    this.#listeners.set(event, list);
  }

  #emit(event: BodyEvent, ...args: unknown[]): void {
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(
      event,
      list.filter((entry) => !entry.once),
    );
    for (const { listener } of list) (listener as (...values: unknown[]) => void)(...args);
  }
}

/** A chunk as the client's readers take it (a Buffer shares the bytes; no copy). */
function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
