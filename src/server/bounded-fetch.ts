/**
 * One GET through the runtime's `fetch`, bounded in time and size, never following a redirect (a
 * key set or a profile that moved elsewhere is not trusted). Runs on Node, Bun, Deno and Workers:
 * no Node built-in here.
 */

export interface FetchedText {
  status: number;
  headers: Headers;
  /** The body, when the status is 200; '' otherwise (not read). */
  text: string;
}

/** The fetch failed before a usable reply (network, timeout, too large); the message says which, never a secret. */
export class FetchFailure extends Error {}

export async function boundedGet(
  fetchImpl: typeof fetch,
  url: string,
  options: { headers?: Record<string, string>; timeoutMs: number; maxBytes: number; what: string },
): Promise<FetchedText> {
  const origin = new URL(url).origin;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...options.headers },
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    throw new FetchFailure(`${options.what} at ${origin} could not be fetched (${reasonOf(error, options.timeoutMs)})`, {
      cause: error,
    });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    return { status: response.status, headers: response.headers, text: '' };
  }
  try {
    return { status: 200, headers: response.headers, text: await readBounded(response, options.maxBytes) };
  } catch (error) {
    if (error instanceof FetchFailure) throw new FetchFailure(`${options.what} at ${origin}: ${error.message}`);
    throw new FetchFailure(`${options.what} at ${origin} could not be read (${reasonOf(error, options.timeoutMs)})`, {
      cause: error,
    });
  }
}

function reasonOf(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code ?? name ?? 'network error';
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new FetchFailure(`the reply is larger than ${maxBytes} bytes`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new FetchFailure(`the reply is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * The lifetime a reply asks to be cached for, seconds (RFC 9111 §5.2.2.1 `max-age`, less the
 * `Age` a cache in between added); `no-store`/`no-cache` count as 0; undefined when it says nothing.
 */
export function maxAgeOf(headers: Headers): number | undefined {
  const control = headers.get('cache-control')?.toLowerCase();
  if (!control) return undefined;
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(control)) return 0;
  const match = /(?:^|[\s,])max-age\s*=\s*"?(\d+)"?/.exec(control);
  if (!match) return undefined;
  const age = Number(headers.get('age'));
  return Math.max(0, Number(match[1]) - (Number.isFinite(age) && age > 0 ? age : 0));
}
