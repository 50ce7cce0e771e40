/**
 * Reading a reply's body within bounds: at most `maxBytes` (a `Content-Length` over it is refused
 * before a byte is read), and by a deadline, so that a server dripping a byte every few seconds
 * cannot stretch a call past its timeout (undici's `bodyTimeout` bounds each pause, not the whole).
 * Then the one way a body is checked: a `ReplyCheck` answers in zod's `safeParse` form (a zod
 * schema is one; the hand checks are in hand-checks.ts; the API's in client/replies.ts), and
 * `readReply` turns a refusal into the one `ResponseValidationError`.
 */
import { ErrorCode } from '../errors/codes.js';
import { ResponseValidationError, TimeoutError } from '../errors/mesh-error.js';
import type { ReplyBody } from './transport.js';

export type CheckResult<T> = { readonly success: true; readonly data: T } | { readonly success: false; readonly error: Error };

/** A check of a reply's JSON body: its data, or why not (at once, or once a schema is loaded). */
export interface ReplyCheck<T> {
  safeParse(value: unknown): CheckResult<T> | Promise<CheckResult<T>>;
}

/** The largest reply (or stream) read by default: chat replies are kilobytes, images a few megabytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024; // 32 MiB

export function tooLarge(what: string, maxBytes: number, details: { status?: number; requestId?: string } = {}) {
  return new ResponseValidationError(`${what}: the reply is larger than ${maxBytes} bytes, so it was not read.`, {
    ...details,
    code: ErrorCode.RESPONSE_TOO_LARGE,
    hint: 'Check that MESH_API_URL points at a Mesh backend; raise maxResponseBytes if replies this large are expected.',
  });
}

/** A reply body as JSON, or `undefined` when it is empty or not JSON (an HTML page from a proxy, say). */
export function jsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `Content-Length` a reply announced, when it is a plain number. */
export function announcedLength(headers: Record<string, string | string[] | undefined>): number | undefined {
  const value = headers['content-length'];
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * The body as text. Rejects with `ResponseValidationError` (`response_too_large`) past `maxBytes`,
 * and with `TimeoutError` when the whole body has not arrived `remainingMs` from now; either way
 * the connection is dropped, not drained.
 */
export function readBodyText(
  body: ReplyBody,
  options: { maxBytes: number; remainingMs: number; what: string; details?: { status?: number; requestId?: string } },
): Promise<string> {
  const { maxBytes, what, details } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: Error | undefined;
    const fail = (error: Error) => {
      failure ??= error;
      body.destroy(error);
    };
    const timer = setTimeout(
      () => fail(new TimeoutError(`${what}: the reply did not arrive in full within the timeout.`, details)),
      Math.max(0, options.remainingMs),
    );
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge(what, maxBytes, details));
      else chunks.push(chunk);
    });
    body.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size).toString('utf8'));
    });
    body.once('error', (error) => {
      clearTimeout(timer);
      reject(failure ?? error);
    });
    body.once('close', () => {
      clearTimeout(timer);
      if (failure) reject(failure);
    });
  });
}

/** The chunks of a stream, failing with `response_too_large` once they add up to more than `maxBytes`. */
export async function* boundedChunks(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(what, maxBytes);
    yield chunk;
  }
}

/** Parses a 2xx body with its check, or throws the ResponseValidationError it means. */
export async function readReply<T>(
  check: ReplyCheck<T>,
  response: { status: number; requestId?: string; json: unknown },
  what: string,
): Promise<T> {
  const result = check.safeParse(response.json);
  const parsed = result instanceof Promise ? await result : result;
  if (parsed.success) return parsed.data;
  const shape = response.json === undefined ? 'a body that is not JSON' : 'a body that does not match the contract';
  throw new ResponseValidationError(`${what}: the backend answered HTTP ${response.status} with ${shape}.`, {
    status: response.status,
    requestId: response.requestId,
    hint: 'Check that MESH_API_URL points at a Mesh backend of a compatible version.',
    cause: parsed.error,
  });
}
