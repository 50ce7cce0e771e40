/** Small HTTP helpers for the reference backend: JSON bodies, replies, errors in the contract's shape. */
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

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const MAX_BODY_BYTES = 1024 * 1024;

export function newRequestId(): string {
  return `req_${randomBytes(12).toString('hex')}`;
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'payload_too_large', 'Request body is over 1 MiB.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_request', 'Request body is not valid JSON.');
  }
}

export function errorReply(error: HttpError, requestId: string, oauth = false): Reply {
  const body = oauth
    ? { error: error.error, error_description: error.message, request_id: requestId, ...error.extra }
    : { error: error.error, message: error.message, request_id: requestId, ...error.extra };
  return { status: error.status, body, headers: error.headers };
}

/** Serialises a reply. `splitMs` (slow-body fault) sends the first half, waits, then the rest. */
export async function writeReply(res: ServerResponse, reply: Reply, requestId: string, splitMs = 0): Promise<void> {
  const isText = reply.text !== undefined;
  const payload = isText ? (reply.text as string) : reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    'cache-control': 'no-store',
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

/** Reads a string field of a JSON body, or fails with 400 invalid_request naming it. */
export function requireString(body: unknown, field: string): string {
  const value = (body as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value === '') {
    throw new HttpError(400, 'invalid_request', `Field "${field}" is required and must be a non-empty string.`);
  }
  return value;
}

export function optionalBoolean(body: unknown, field: string): boolean {
  const value = (body as Record<string, unknown> | null)?.[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new HttpError(400, 'invalid_request', `Field "${field}" must be a boolean.`);
  return value;
}

export function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** Ends a response abruptly once what was written has reached the socket (destroy() alone drops it). */
export function cutConnection(res: ServerResponse): void {
  res.write('', () => setTimeout(() => res.socket?.destroy(), 10));
}
