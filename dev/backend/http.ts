/** Small HTTP helpers for the reference backend: JSON bodies, credentials, replies, errors in the contract's shapes. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A reply before it is written, so that idempotent replays and faults can reuse or alter it. */
export interface Reply {
  status: number;
  body?: unknown;
  /** Raw text instead of JSON (e.g. an HTML error page). */
  text?: string;
  headers?: Record<string, string>;
}

/**
 * A refusal. `message` is the text of the contract's `{"error": "<text>"}`; `code`, when the
 * refusal has a machine name (an OAuth error, e.g. `invalid_grant`), leads that text
 * (`invalid_grant: ...`) so a reader can tell refusals apart without a field the deployed backend
 * does not send.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get text(): string {
    return this.code === undefined ? this.message : `${this.code}: ${this.message}`;
  }
}

/** How error bodies look and whether they carry the request id (`request_id` capability). */
export interface ErrorStyle {
  shape: 'string' | 'object';
  requestId?: string;
}

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The chat and image routes take bodies this large: five images of a few megabytes each, base64
 * (the deployed server's limit is not evidenced; a real provider's is about 20 MB an image).
 */
export const IMAGE_BODY_BYTES = 32 * 1024 * 1024;

export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      // The rest of the body is never read: close the connection, or the client would reuse a socket
      // the server is about to drop (its next request failing with ECONNRESET).
      throw new HttpError(413, `Request body is over ${limit / (1024 * 1024)} MiB.`, undefined, { connection: 'close' });
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON.');
  }
}

export function errorReply(error: HttpError, style: ErrorStyle): Reply {
  const body: Record<string, unknown> = style.shape === 'object' ? { error: { message: error.text } } : { error: error.text };
  if (style.requestId !== undefined) body.request_id = style.requestId;
  return { status: error.status, body, headers: error.headers };
}

/** Serialises a reply. `splitMs` (slow-body fault) sends the first half, waits, then the rest. */
export async function writeReply(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string> = {}, splitMs = 0) {
  const isText = reply.text !== undefined;
  const payload = isText ? (reply.text as string) : reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...extraHeaders,
    ...reply.headers,
  });
  if (splitMs > 0 && payload.length > 1) {
    const half = Buffer.from(payload).subarray(0, Math.floor(Buffer.byteLength(payload) / 2));
    res.write(half);
    await sleep(splitMs);
    res.end(Buffer.from(payload).subarray(half.length));
    return;
  }
  res.end(payload);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A JSON body's fields; a body that is not an object reads as empty. */
export function fields(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** Reads a string field of a JSON body, or fails with 400 naming it. */
export function requireString(body: unknown, field: string): string {
  const value = fields(body)[field];
  if (typeof value !== 'string' || value === '') {
    throw new HttpError(400, `Field "${field}" is required and must be a non-empty string.`, 'invalid_request');
  }
  return value;
}

/** A boolean field; absent or `null` (the Python client sends unset fields as null) is false. */
export function optionalBoolean(body: unknown, field: string): boolean {
  const value = fields(body)[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new HttpError(400, `Field "${field}" must be a boolean.`, 'invalid_request');
  return value;
}

export function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The API key of `Authorization: ApiKey <key>`. */
export function apiKeyOfAuthorization(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^ApiKey\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The API key of `x-api-key: <key>`. */
export function apiKeyOfHeader(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Ends a response abruptly once what was written has reached the socket (destroy() alone drops it). */
export function cutConnection(res: ServerResponse): void {
  res.write('', () => setTimeout(() => res.socket?.destroy(), 10));
}
