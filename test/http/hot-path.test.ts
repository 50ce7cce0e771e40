// The HTTP layer's fast paths against a real node:http server on a free port: origin + path
// straight to the dispatcher (a base URL with a path prefix, a trailing slash, a query), and the
// plain headers kept per credential (they follow every change of credential; a retry, a body, an
// Idempotency-Key or a user's dispatcher get their own).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/http/http-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let server: Server;
let origin: string;
const seen: Seen[] = [];
let statuses: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      res.writeHead(statuses.shift() ?? 200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  seen.length = 0;
  statuses = [];
});

describe('request paths', () => {
  it.each([
    ['no path', '', '/api/v1/listKeys?userId=u%201'],
    ['a path prefix', '/mesh', '/mesh/api/v1/listKeys?userId=u%201'],
    ['a nested prefix', '/a/b', '/a/b/api/v1/listKeys?userId=u%201'],
    // Concatenated as before: the base URL's own slash stays.
    ['a trailing slash', '/', '//api/v1/listKeys?userId=u%201'],
    ['a prefix with a trailing slash', '/mesh/', '/mesh//api/v1/listKeys?userId=u%201'],
  ])('sends to base URL + path with %s', async (_name, prefix, expected) => {
    const http = new HttpClient({ baseUrl: `${origin}${prefix}` });
    const response = await http.send({ method: 'GET', path: '/api/v1/listKeys?userId=u%201', token: 't' });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ ok: true });
    expect(seen[0]?.url).toBe(expected);
    await http.close();
  });
});

describe('plain headers per credential', () => {
  it('follows every change of credential and kind', async () => {
    const http = new HttpClient({ baseUrl: origin });
    await http.send({ method: 'GET', path: '/a', token: 'one' });
    await http.send({ method: 'GET', path: '/a', token: 'one' });
    await http.send({ method: 'GET', path: '/a', token: 'two' });
    await http.send({ method: 'GET', path: '/a', apiKey: 'mesh_k' });
    await http.send({ method: 'GET', path: '/a' });
    await http.send({ method: 'GET', path: '/a', token: 'one' });
    const seenAuth = seen.map((s) => [s.headers.authorization, s.headers['x-api-key']]);
    expect(seenAuth).toEqual([
      ['Bearer one', undefined],
      ['Bearer one', undefined],
      ['Bearer two', undefined],
      ['ApiKey mesh_k', 'mesh_k'],
      [undefined, undefined],
      ['Bearer one', undefined],
    ]);
    for (const s of seen) {
      expect(s.headers.accept).toBe('application/json');
      expect(s.headers['x-mesh-retry-count']).toBeUndefined();
    }
    await http.close();
  });

  it('gives a retry, a body, an Idempotency-Key and a stream their own headers, and leaves the plain ones alone', async () => {
    const http = new HttpClient({ baseUrl: origin, random: () => 0 });
    statuses = [503];
    await http.send({ method: 'GET', path: '/a', token: 't' });
    await http.send({ method: 'POST', path: '/b', token: 't', body: { x: 1 }, idempotencyKey: 'k1' });
    const streamed = await http.send({ method: 'GET', path: '/c', token: 't', stream: true });
    await streamed.body?.dump();
    await http.send({ method: 'GET', path: '/a', token: 't' });
    expect(seen.map((s) => s.headers['x-mesh-retry-count'])).toEqual([undefined, '1', undefined, undefined, undefined]);
    expect(seen[2]?.headers['content-type']).toBe('application/json');
    expect(seen[2]?.headers['idempotency-key']).toBe('k1');
    expect(seen[3]?.headers.accept).toBe('text/event-stream');
    const last = seen[4]?.headers;
    expect([last?.accept, last?.['content-type'], last?.['idempotency-key'], last?.authorization]).toEqual([
      'application/json',
      undefined,
      undefined,
      'Bearer t',
    ]);
    await http.close();
  });

  it('builds fresh headers per request for a dispatcher it does not own', async () => {
    const dispatcher = new Agent();
    const objects: unknown[] = [];
    const spy = new Proxy(dispatcher, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'request' && property !== 'dispatch') return typeof value === 'function' ? value.bind(target) : value;
        return (options: { headers?: unknown }, ...rest: unknown[]) => {
          objects.push(options.headers);
          return (value as (...args: unknown[]) => unknown).call(target, options, ...rest);
        };
      },
    });
    const http = new HttpClient({ baseUrl: origin, dispatcher: spy });
    await http.send({ method: 'GET', path: '/a', token: 't' });
    await http.send({ method: 'GET', path: '/a', token: 't' });
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer t', 'Bearer t']);
    const requested = objects.filter((o) => o !== undefined);
    expect(requested.length).toBeGreaterThanOrEqual(2);
    expect(requested[0]).not.toBe(requested[1]);
    await dispatcher.close();
  });
});
