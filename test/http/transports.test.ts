// The HTTP client on each of its transports (src/http/transport.ts): undici's default pool, the
// node:http one the CLI uses (node-http-transport.ts), and the fetch one of edge Workers
// (fetch-transport.ts; here over Node's fetch, in workerd by test/runtimes). A real node:http server on loopback; each
// behaviour the client promises must hold on both: what goes out, what comes back, retries,
// timeouts, aborts, size bounds, redirects, streams, kept-alive connections.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { AbortError, NetworkError, RedirectRefusedError, TimeoutError } from '../../src/errors/mesh-error.js';
import { fetchTransport } from '../../src/http/fetch-transport.js';
import { HttpClient } from '../../src/http/http-client.js';
import { nodeHttpTransport } from '../../src/http/node-http-transport.js';
import type { Transport } from '../../src/http/transport.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

type Handler = (req: Seen, res: import('node:http').ServerResponse) => void;

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
let handler: Handler;
const json = (res: import('node:http').ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, socket: req.socket };
      seen.push(entry);
      handler(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  seen.length = 0;
  handler = (_req, res) => json(res, 200, { ok: true });
});

/** A test that does not apply to a transport: not defined for it (not a skip, which CI would count). */
const notApplicable = (_name: string, _test: () => Promise<void>) => {};

/** Name, transport, and whether the client keeps its own pool (fetch pools by itself, as the runtime decides). */
const transports: Array<[string, () => Transport | undefined, { ownPool: boolean }]> = [
  ['undici (the default)', () => undefined, { ownPool: true }],
  ['node:http (the CLI)', () => nodeHttpTransport(), { ownPool: true }],
  ['fetch (edge Workers)', () => fetchTransport(), { ownPool: false }],
];

describe.each(transports)('the HTTP client on %s', (_name, transport, { ownPool }) => {
  const clients: HttpClient[] = [];
  const client = (options: { timeout?: number; maxRetries?: number; maxResponseBytes?: number } = {}) => {
    const http = new HttpClient({ baseUrl, transport: transport(), random: () => 0, ...options });
    clients.push(http);
    return http;
  };
  afterAll(async () => {
    await Promise.all(clients.map((http) => http.close()));
  });

  it('sends the method, path, credential and JSON body; answers the status, headers and parsed body', async () => {
    handler = (req, res) => json(res, 201, { echo: JSON.parse(req.body) }, { 'x-request-id': 'req-1' });
    const response = await client().send({ method: 'POST', path: '/v1/mesh/chat?x=1', token: 'tok-1', body: { a: 'é' } });
    expect([response.status, response.json, response.requestId]).toEqual([201, { echo: { a: 'é' } }, 'req-1']);
    const [request] = seen;
    expect([request?.method, request?.url, request?.headers.authorization]).toEqual([
      'POST',
      '/v1/mesh/chat?x=1',
      'Bearer tok-1',
    ]);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength('{"a":"é"}')));
  });

  // Defined only where the client has a pool of its own: fetch keeps connections as its runtime decides.
  (ownPool ? it : notApplicable)('keeps the connection alive between requests', async () => {
    const http = client();
    await http.send({ method: 'GET', path: '/one' });
    // undici hands the connection back to its pool a moment after the body's end.
    await new Promise((resolve) => setTimeout(resolve, 10));
    await http.send({ method: 'GET', path: '/two' });
    expect(seen.map((entry) => entry.url)).toEqual(['/one', '/two']);
    expect(seen[0]?.socket).toBe(seen[1]?.socket);
  });

  it('retries a GET after a dropped connection, then answers', async () => {
    let drops = 1;
    handler = (req, res) => {
      if (drops-- > 0) req.socket.destroy();
      else json(res, 200, { ok: true });
    };
    const response = await client().send({ method: 'GET', path: '/flaky' });
    expect([response.status, response.attempts]).toEqual([200, 2]);
  });

  it('fails with TimeoutError when the headers do not come within the timeout', async () => {
    handler = () => {}; // never answers
    const error = await client({ timeout: 150, maxRetries: 0 })
      .send({ method: 'GET', path: '/silent' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe('GET /silent got no answer within 150 ms.');
  });

  it('fails with TimeoutError when the body stops arriving', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
    };
    const error = await client({ timeout: 200, maxRetries: 0 })
      .send({ method: 'GET', path: '/drip' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TimeoutError);
  });

  it('fails with NetworkError when nothing listens', async () => {
    // A port that was free a moment ago (not 9, the discard port, which fetch refuses to dial at all).
    const port = await freePort();
    const closed = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, transport: transport(), maxRetries: 0 });
    clients.push(closed);
    const error = await closed.send({ method: 'GET', path: '/x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toBe(`Could not reach http://127.0.0.1:${port} (ECONNREFUSED).`);
  });

  it('fails with AbortError when the caller aborts, at once', async () => {
    handler = () => {};
    const controller = new AbortController();
    const sending = client().send({ method: 'GET', path: '/slow', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(sending).rejects.toBeInstanceOf(AbortError);
  });

  it('refuses a body larger than maxResponseBytes, announced or not', async () => {
    handler = (req, res) => {
      const big = 'x'.repeat(4096);
      if (req.url === '/announced') res.writeHead(200, { 'content-length': String(big.length) }).end(big);
      else res.writeHead(200).end(big); // chunked: counted as it arrives
    };
    for (const path of ['/announced', '/chunked']) {
      const error = await client({ maxResponseBytes: 1024, maxRetries: 0 })
        .send({ method: 'GET', path })
        .catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe('response_too_large');
    }
  });

  it('follows a redirect on the same origin with the credential; refuses one to another origin', async () => {
    handler = (req, res) => {
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else if (req.url === '/away') res.writeHead(307, { location: 'http://localhost:1/steal' }).end();
      else json(res, 200, { at: req.url });
    };
    const http = client();
    const followed = await http.send({ method: 'GET', path: '/old', token: 'tok-2' });
    expect(followed.json).toEqual({ at: '/new' });
    expect(seen.map((entry) => [entry.url, entry.headers.authorization])).toEqual([
      ['/old', 'Bearer tok-2'],
      ['/new', 'Bearer tok-2'],
    ]);
    await expect(http.send({ method: 'GET', path: '/away', token: 'tok-2' })).rejects.toBeInstanceOf(RedirectRefusedError);
  });

  it('hands a stream back unread, to be read chunk by chunk as it arrives', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      setTimeout(() => res.end('data: 2\n\n'), 30);
    };
    const response = await client().send({ method: 'POST', path: '/stream', body: {}, stream: true });
    expect(response.text).toBe('');
    let text = '';
    for await (const chunk of response.body ?? []) text += Buffer.from(chunk).toString();
    expect(text).toBe('data: 1\n\ndata: 2\n\n');
  });
});
