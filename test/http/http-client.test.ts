// The HTTP layer against a real node:http server on a free port: which credential headers go
// out, and when a request is sent again (contract v2 part C).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { HttpClient } from '../../src/http/http-client.js';
import { createLogger } from '../../src/internal/logger.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
/** Statuses to answer, in order; then 200. `drop` destroys the socket after reading the request. */
let script: Array<number | 'drop' | { status: number; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      const next = script.shift() ?? 200;
      if (next === 'drop') {
        req.socket.destroy();
        return;
      }
      if (typeof next === 'object') {
        res.writeHead(next.status, { 'content-type': 'application/json' }).end(next.body);
        return;
      }
      res
        .writeHead(next, { 'content-type': 'application/json' })
        .end(JSON.stringify(next === 200 ? { ok: true } : { error: 'x' }));
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
  script = [];
});

const fast = () => new HttpClient({ baseUrl, maxRetries: 2, random: () => 0 });

describe('credential headers', () => {
  it('sends an API key as both Authorization: ApiKey and x-api-key, never as Bearer', async () => {
    const http = fast();
    const key = 'mesh_pk_abc123';
    await http.send({ method: 'GET', path: '/auth/profile', apiKey: key });
    expect(seen[0]?.headers.authorization).toBe(`ApiKey ${key}`);
    expect(seen[0]?.headers['x-api-key']).toBe(key);
    await http.send({ method: 'GET', path: '/auth/profile', token: 'jwt.a.b' });
    expect(seen[1]?.headers.authorization).toBe('Bearer jwt.a.b');
    expect(seen[1]?.headers['x-api-key']).toBeUndefined();
    await http.close();
  });
});

describe('User-Agent', () => {
  it('names the package version (package.json) and the Node version on every request, retries included', async () => {
    const http = fast();
    script = [503];
    await http.send({ method: 'GET', path: '/x', token: 'jwt.a.b' });
    await http.send({ method: 'POST', path: '/v1/mesh/chat', body: {} });
    expect(seen.map((s) => s.headers['user-agent'])).toEqual(
      Array(3).fill(`mesh-sdk/${pkg.version} node/${process.versions.node}`),
    );
    await http.close();
  });
});

describe('retries', () => {
  it.each([0, 1, 3])('maxRetries %i: exactly that many retries of a GET that keeps failing, no more', async (maxRetries) => {
    const http = new HttpClient({ baseUrl, maxRetries, random: () => 0 });
    script = Array(10).fill(503);
    const response = await http.send({ method: 'GET', path: '/x' });
    expect([response.status, response.attempts, seen.length]).toEqual([503, maxRetries + 1, maxRetries + 1]);
    // The per-call option wins over the client's.
    seen.length = 0;
    script = Array(10).fill(503);
    expect((await http.send({ method: 'GET', path: '/x', maxRetries: 0 })).attempts).toBe(1);
    expect(seen).toHaveLength(1);
    await http.close();
  });

  it('drops out of retrying once the next wait would pass the bound on all waits (maxRetryWaitMs)', async () => {
    const http = new HttpClient({ baseUrl, maxRetries: 10, maxRetryWaitMs: 250, random: () => 0.999 });
    script = Array(20).fill(503);
    // Full jitter at ~100%: 499 ms for the first retry already passes 250 ms: no retry at all.
    const response = await http.send({ method: 'GET', path: '/x' });
    expect([response.attempts, response.waitedMs]).toEqual([1, 0]);
    await http.close();
  });

  it('retries a GET on 503 (3 attempts)', async () => {
    const http = fast();
    script = [503, 503];
    expect((await http.send({ method: 'GET', path: '/x' })).status).toBe(200);
    expect(seen).toHaveLength(3);
    await http.close();
  });

  it('does not retry a POST without an Idempotency-Key after a 503, a 520 or a dropped connection', async () => {
    const http = fast();
    script = [503];
    expect((await http.send({ method: 'POST', path: '/v1/mesh/chat', body: {} })).status).toBe(503);
    script = [520];
    expect((await http.send({ method: 'POST', path: '/v1/mesh/chat', body: {} })).status).toBe(520);
    script = ['drop'];
    await expect(http.send({ method: 'POST', path: '/v1/mesh/api-keys', body: {} })).rejects.toMatchObject({
      name: 'NetworkError',
    });
    expect(seen).toHaveLength(3);
    expect(seen.every((s) => s.headers['idempotency-key'] === undefined)).toBe(true);
    await http.close();
  });

  it('retries a POST after a 429 (refused before processing)', async () => {
    const http = fast();
    script = [429];
    expect((await http.send({ method: 'POST', path: '/v1/mesh/chat', body: {} })).status).toBe(200);
    expect(seen).toHaveLength(2);
    await http.close();
  });

  it('retries a POST carrying an Idempotency-Key, with the same key on every attempt', async () => {
    const http = fast();
    script = [503, 'drop'];
    const response = await http.send({ method: 'POST', path: '/v1/mesh/api-keys', body: {}, idempotencyKey: 'idem-1' });
    expect(response.status).toBe(200);
    expect(seen.map((s) => s.headers['idempotency-key'])).toEqual(['idem-1', 'idem-1', 'idem-1']);
    await http.close();
  });

  it('retries a POST whose connection was refused: it was never sent', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const logs: string[] = [];
    const http = new HttpClient({
      baseUrl: `http://127.0.0.1:${port}`,
      maxRetries: 1,
      random: () => 0,
      logger: createLogger({ debug: true, logger: { debug: (m) => logs.push(m), warn: () => {} } }),
    });
    await expect(http.send({ method: 'POST', path: '/v1/mesh/chat', body: {} })).rejects.toMatchObject({ name: 'NetworkError' });
    expect(logs.filter((line) => /ECONNREFUSED/.test(line) && /attempt \d/.test(line))).toHaveLength(2);
    await http.close();
  });
});

describe('debug lines', () => {
  it("quote an error reply's words on one line, cut between words: no piece of a token that straddles the cut", async () => {
    const lines: string[] = [];
    const logger = createLogger({ debug: true, logger: { debug: (m) => lines.push(m), warn: () => {} } });
    const http = new HttpClient({ baseUrl, maxRetries: 0, logger });
    // A bare JWT (no Bearer, no field name) starting just before the 300th character.
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
    const words = `${'word '.repeat(55)}\n  token ${jwt} ends`;
    script = [
      { status: 400, body: JSON.stringify({ error: words }) },
      { status: 404, body: '{"error":"No such key"}' },
    ];
    await http.send({ method: 'GET', path: '/long' });
    await http.send({ method: 'GET', path: '/short' });
    await http.send({ method: 'GET', path: '/fine' });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^GET \/long 400 \(attempt 1, \d+ ms\): \{"error":"(word ){55}\\n token \.\.\.$/);
    expect(lines[0]).not.toContain('eyJ');
    expect(lines[1]).toMatch(/^GET \/short 404 \(attempt 1, \d+ ms\): \{"error":"No such key"\}$/);
    expect(lines[2]).toMatch(/^GET \/fine 200 \(attempt 1, \d+ ms\)$/);
    await http.close();
  });
});
