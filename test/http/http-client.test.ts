// The HTTP layer against a real node:http server on a free port: which credential headers go
// out, and when a request is sent again (contract v2 part C).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
let script: Array<number | 'drop'> = [];

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

describe('retries', () => {
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
