/**
 * Downloading an image from a foreign host: a plain GET through the client's transport (so
 * HTTPS_PROXY and the caller's own dispatcher apply, and a Worker's fetch), with no Mesh credential and no header of
 * ours beyond the user agent and `accept`, bounded in size and time, following at most 5
 * redirects to http(s) only. Nothing of the client's request pipeline (credentials, breaker,
 * retries) is on this path: it cannot leak a token to the host an image lives on.
 */
import { AbortError } from '../../errors/mesh-error.js';
import { type ReplyBody, requestTo, type Transport } from '../../http/transport.js';
import { SDK_VERSION } from '../../version.js';

/** The largest image the SDK reads from a file, a buffer or a download. */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024; // 32 MiB
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface DownloadOptions {
  /** The client's transport, loaded on first need. */
  transport: () => Promise<Transport>;
  /** The whole download (every redirect and the body), ms. */
  timeout: number;
  signal?: AbortSignal;
  maxBytes?: number;
}

/** A failure to download, said in words for the caller's own error (the abort is an AbortError already). */
export class DownloadFailure extends Error {}

/** A URL as an error may show it: origin and path, never the query (a signed URL's signature lives there). */
export function shownUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.origin}${parsed.pathname}`;
}

/** The bytes at `url`. Throws AbortError when `signal` aborts, DownloadFailure otherwise. */
export async function download(url: URL, options: DownloadOptions): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_IMAGE_BYTES;
  // One deadline for the whole download: undici's timers bound each pause, not the total.
  const deadline = AbortSignal.timeout(options.timeout);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let current = url;
  try {
    const transport = await options.transport();
    for (let redirects = 0; ; redirects++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        throw new DownloadFailure(`${shownUrl(current)} is not an http(s) URL`);
      }
      const response = await transport.request(
        requestTo(current, {
          method: 'GET',
          headers: { accept: 'image/*', 'user-agent': `mesh-sdk/${SDK_VERSION}` },
          signal,
          // The deadline above bounds the whole download; these only keep a stalled one from outliving it.
          headersTimeout: options.timeout,
          bodyTimeout: options.timeout,
        }),
      );
      const location = response.headers.location;
      if (REDIRECTS.has(response.statusCode) && typeof location === 'string') {
        await response.body.dump();
        if (redirects >= MAX_REDIRECTS) throw new DownloadFailure(`${shownUrl(url)} redirected more than ${MAX_REDIRECTS} times`);
        current = new URL(location, current);
        continue;
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        throw new DownloadFailure(`${shownUrl(current)} answered HTTP ${response.statusCode}`);
      }
      const announced = Number(response.headers['content-length']);
      if (announced > maxBytes) {
        response.body.destroy();
        throw new DownloadFailure(`${shownUrl(current)} is larger than ${maxBytes} bytes`);
      }
      return await readBounded(response.body, maxBytes, current);
    }
  } catch (error) {
    if (options.signal?.aborted) throw new AbortError(`Downloading ${shownUrl(url)} was aborted.`, { cause: error });
    if (deadline.aborted) {
      throw new DownloadFailure(`${shownUrl(url)} did not arrive within ${options.timeout} ms`, { cause: error });
    }
    if (error instanceof DownloadFailure) throw error;
    throw new DownloadFailure(
      `${shownUrl(url)} could not be fetched (${(error as { code?: string }).code ?? (error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

async function readBounded(body: ReplyBody, maxBytes: number, url: URL): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new DownloadFailure(`${shownUrl(url)} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
