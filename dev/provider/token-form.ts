/**
 * Reading a token-endpoint form in front of oidc-provider and handing the request on, for the
 * layers that must see (or change) the form before the provider does (auth0-device.ts,
 * refresh-overlap.ts). oidc-provider reads `req` as a stream (lib/shared/selective_body.js), so a
 * layer that read it hands on a copy whose body can be read again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

const MAX_FORM_BYTES = 64 * 1024;

/** A form POST to `/oauth/token`: the only requests these layers look into. */
export function isTokenEndpointForm(req: IncomingMessage): boolean {
  const path = (req.url ?? '/').split('?')[0];
  const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return req.method === 'POST' && path === '/oauth/token' && isForm;
}

/** The whole body, bounded. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The request again with `body` readable once more. `content-length` is set to the body handed
 * on, since a layer may have rewritten it and the provider refuses a body of another length.
 */
export function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = Readable.from([body], { objectMode: false }) as unknown as IncomingMessage;
  const headers = { ...req.headers, 'content-length': String(body.length) };
  Object.defineProperty(copy, 'headers', { value: headers, enumerable: true });
  for (const key of ['rawHeaders', 'method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor'] as const) {
    Object.defineProperty(copy, key, { value: req[key], enumerable: true });
  }
  Object.defineProperty(copy, 'socket', { value: req.socket });
  Object.defineProperty(copy, 'connection', { value: req.socket });
  return copy;
}

/** The answer to a form that could not be read (too large, or the client went away). */
export function refuseUnreadableForm(res: ServerResponse): void {
  res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
}
