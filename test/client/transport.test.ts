// What crosses the wire: redirects that keep the credential at home, the credential and
// User-Agent headers, and debug lines that say what happened without a single secret, even when
// a reply quotes the secrets back. (Proxies from the environment: test/http/proxy.test.ts.)
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { FileStore } from '../../src/auth/stores/file-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import type { MeshError } from '../../src/errors/mesh-error.js';
import { HttpClient } from '../../src/http/http-client.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack();

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('redirects', () => {
  let elsewhere: Server;
  let elsewhereUrl: string;
  let home: Server;
  let homeUrl: string;
  const authorizationSeen: Array<string | undefined> = [];
  beforeAll(async () => {
    elsewhere = createServer((req, res) => {
      authorizationSeen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    });
    elsewhereUrl = await listen(elsewhere);
    home = createServer((req, res) => {
      if (req.url === '/same') {
        authorizationSeen.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
        return;
      }
      const target = req.url === '/to-same' ? `${homeUrl}/same` : `${elsewhereUrl}/keys`;
      res.writeHead(307, { location: target }).end();
    });
    homeUrl = await listen(home);
  });
  afterAll(() => {
    elsewhere.close();
    home.close();
  });

  it('never follows a redirect to another origin: RedirectRefusedError naming both origins, nothing sent there', async () => {
    const http = new HttpClient({ baseUrl: homeUrl });
    const before = authorizationSeen.length;
    const error = await http.send({ method: 'GET', path: '/to-elsewhere', token: 'secret-token' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RedirectRefusedError', code: 'redirect_refused', status: 307 });
    expect((error as Error).message).toContain(new URL(homeUrl).origin);
    expect((error as Error).message).toContain(new URL(elsewhereUrl).origin);
    expect(authorizationSeen.length).toBe(before); // the other origin never heard from us
    await http.close();
  });

  it('keeps it for a redirect within the same origin', async () => {
    const http = new HttpClient({ baseUrl: homeUrl });
    await http.send({ method: 'GET', path: '/to-same', token: 'secret-token' });
    expect(authorizationSeen.at(-1)).toBe('Bearer secret-token');
    await http.close();
  });
});

describe('credentials on the wire', () => {
  let seen: Array<{ url: string; headers: IncomingMessage['headers'] }>;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    seen = [];
    // A stand-in deployment that records what arrives and answers like the deployed backend.
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/auth/profile') json({ id: 'user-1' });
      else if (req.url === '/v1/mesh/chat') json({ content: 'ok' });
      else res.writeHead(404).end();
    });
    url = await listen(server);
  });
  afterAll(() => server.close());

  it('an API key goes out as ApiKey and x-api-key on every request, never as Bearer, never to /auth/validate', async () => {
    const key = 'mesh_pk_python_style_key_0123';
    const client = new MeshClient({ env: {}, apiUrl: url, apiKey: key });
    expect((await client.chat('hi')).content).toBe('ok');
    expect((await client.validateToken()).valid).toBe(true);
    await client.close();
    // `/auth/config` (the capabilities, read once) is public: it carries no credential.
    const config = seen.filter((s) => s.url === '/auth/config');
    expect(config.every((s) => s.headers.authorization === undefined && s.headers['x-api-key'] === undefined)).toBe(true);
    const credentialed = seen.filter((s) => s.url !== '/auth/config');
    expect(credentialed.map((s) => s.url)).toEqual(['/auth/profile', '/v1/mesh/chat', '/auth/profile']);
    for (const { headers } of credentialed) {
      expect(headers.authorization).toBe(`ApiKey ${key}`);
      expect(headers['x-api-key']).toBe(key);
    }
    // Every request, the public one included, names the SDK and its version as package.json does.
    expect(seen.map((s) => s.headers['user-agent'])).toEqual(
      seen.map(() => `mesh-sdk/${pkg.version} node/${process.versions.node}`),
    );
  });
});

/**
 * A gateway in front of the reference backend that passes everything through, except the requests
 * a test tells it to refuse: those it answers with the request quoted back (its credential
 * body as a validation error's `input`, its credential headers in prose and as JSON), as some
 * frameworks' validation errors and debugging proxies do. `quoted` keeps every reply it made that way.
 */
interface Refusal {
  method: string;
  path: string;
  status: number;
  times: number;
  headers?: Record<string, string>;
}

async function startQuotingGateway(target: string) {
  const refusals: Refusal[] = [];
  const quoted: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '').split('?')[0];
      const refusal = refusals.find((r) => r.times > 0 && r.method === req.method && r.path === path);
      if (refusal) {
        refusal.times -= 1;
        const { authorization, 'x-api-key': apiKey } = req.headers;
        const prose = [authorization && `Authorization: ${authorization}`, apiKey && `x-api-key: ${apiKey}`].filter(Boolean);
        const text = JSON.stringify({
          detail: [
            { type: 'refused', msg: 'Refused by the gateway', input: body.length > 0 ? JSON.parse(body.toString()) : null },
          ],
          error: { message: `The gateway refused ${req.method} ${path} (${prose.join(', ')})` },
          request: { headers: { authorization, 'x-api-key': apiKey } },
        });
        quoted.push(text);
        res.writeHead(refusal.status, { 'content-type': 'application/json', ...refusal.headers }).end(text);
        return;
      }
      const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  const url = await listen(server);
  return {
    url,
    quoted,
    refuse: (refusal: Refusal) => refusals.push(refusal),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('debug logging', () => {
  it('says method, path, status, attempt, duration, request id and the server’s words, and no secret even when a reply quotes them', async () => {
    const gateway = await startQuotingGateway(stack.apiUrl);
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    const env = { MESH_API_URL: gateway.url };
    // Tokens the SDK must refresh before its first call (expired by its own clock).
    const fresh = await storedTokens(stack, 'debug-lines@example.test');
    const given: TokenSet = { ...fresh, expires_at: Math.floor(Date.now() / 1000) - 60 };
    const { client, directory } = await clientWithTokens(stack, { tokens: given, env, debug: true, logger, maxRetries: 2 });
    const canaryKey = 'sk-canary-0123456789abcdef';
    try {
      // The refresh token and the new bearer token quoted back; registration fails and says so.
      gateway.refuse({ method: 'POST', path: '/auth/refresh-token', status: 429, times: 1, headers: { 'retry-after': '0' } });
      gateway.refuse({ method: 'GET', path: '/auth/profile', status: 500, times: 3 });
      expect((await client.chat('first')).content).toBe('Echo: first');
      // The stored key value quoted back, as a validation error quotes its input.
      gateway.refuse({ method: 'POST', path: '/api/v1/storeKey', status: 422, times: 1 });
      const refused = (await client.storeKey('canary', canaryKey).then(
        () => undefined,
        (error: unknown) => error,
      )) as MeshError;
      expect(refused).toMatchObject({ name: 'MeshError', status: 422 });
      await client.storeKey('canary', canaryKey);
      stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, match: { path: '/api/v1/listKeys' } });
      expect(await client.listKeys()).toContain('canary');
      expect(await client.getKey('canary')).toBe(canaryKey);
      const apiKey = await client.generateApiKey('canary-key');
      // The API key, sent as ApiKey and x-api-key, quoted back.
      gateway.refuse({ method: 'GET', path: '/auth/profile', status: 503, times: 1 });
      const keyClient = new MeshClient({ env: { ...stack.env, ...env }, apiKey: apiKey.key, debug: true, logger });
      expect((await keyClient.chat('with the key')).content).toBe('Echo: with the key');
      await keyClient.close();

      const refreshed = (await new FileStore({ directory }).load()) as TokenSet;
      const secrets = {
        'old access token': given.access_token,
        'old refresh token': given.refresh_token as string,
        'new access token': refreshed.access_token,
        'new refresh token': refreshed.refresh_token as string,
        'stored key value': canaryKey,
        'API key': apiKey.key,
      };
      expect(refreshed.refresh_token).not.toBe(given.refresh_token);
      // Each secret went out and came back in a reply the SDK read: the lines below had them to leak.
      const quoted = gateway.quoted.join('\n');
      expect(quoted).toContain(`"refresh_token":"${given.refresh_token}"`);
      expect(quoted).toContain(`Bearer ${refreshed.access_token}`);
      expect(quoted).toContain(`"keyValue":"${canaryKey}"`);
      expect(quoted).toContain(`ApiKey ${apiKey.key}`);
      expect(quoted).toContain(`x-api-key: ${apiKey.key}`);

      const all = lines.join('\n');
      for (const [what, secret] of Object.entries(secrets)) expect(all.includes(secret), `${what} in a debug line`).toBe(false);
      // The facts, with the server's words (redacted) after a failure.
      const id = stack.backend.has('request_id') ? ', req_[0-9a-f]+' : '';
      const facts = [
        /^POST \/auth\/refresh-token 429 \(attempt 1, \d+ ms\): .*"refresh_token":"\[REDACTED\]"/m,
        new RegExp(`^POST /auth/refresh-token 200 \\(attempt 2, \\d+ ms${id}\\)$`, 'm'),
        /^GET \/auth\/profile 500 \(attempt 1, \d+ ms\): .*Authorization: Bearer \[REDACTED\]/m,
        /^GET \/auth\/profile 500 \(attempt 3, \d+ ms\): /m,
        /^Registering through \/auth\/profile failed: .*HTTP 500.*Authorization: Bearer \[REDACTED\]/m,
        /^POST \/api\/v1\/storeKey 422 \(attempt 1, \d+ ms\): .*"keyValue":"\[REDACTED\]"/m,
        new RegExp(`^POST /api/v1/storeKey 200 \\(attempt 1, \\d+ ms${id}\\)$`, 'm'),
        new RegExp(`^GET /api/v1/listKeys\\?userId=\\S+ 503 \\(attempt 1, \\d+ ms${id}\\): .*Injected 503`, 'm'),
        new RegExp(`^GET /api/v1/listKeys\\?userId=\\S+ 200 \\(attempt 2, \\d+ ms${id}\\)$`, 'm'),
        new RegExp(`^GET /api/v1/getKey\\?userId=\\S+ 200 \\(attempt 1, \\d+ ms${id}\\)$`, 'm'),
        /^GET \/auth\/profile 503 \(attempt 1, \d+ ms\): .*Authorization: ApiKey \[REDACTED\], x-api-key: \[REDACTED\]/m,
      ];
      for (const fact of facts) expect(all).toMatch(fact);
      // What the caller got is clean too.
      const error = JSON.stringify({ message: refused.message, ...refused.toJSON() });
      expect(refused.message).toMatch(
        /\(HTTP 422\): The gateway refused POST \/api\/v1\/storeKey \(Authorization: Bearer \[REDACTED\]\)$/,
      );
      for (const [what, secret] of Object.entries(secrets)) expect(error.includes(secret), `${what} in the error`).toBe(false);
    } finally {
      await client.close();
      gateway.close();
    }
  });

  it('stays silent without DEBUG', async () => {
    const lines: string[] = [];
    const { client } = await clientWithTokens(stack, { logger: { debug: (m) => lines.push(m), warn: (m) => lines.push(m) } });
    await client.listKeys();
    expect(lines).toEqual([]);
  });

  it('turns on with DEBUG=mesh*', () => {
    expect(new MeshClient({ env: { DEBUG: 'mesh*' } }).config.debug).toBe(true);
  });
});
