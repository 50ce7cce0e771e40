// What crosses the wire: proxies from the environment, redirects that keep the credential at
// home, and debug lines that say what happened without a single secret.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../dev/stack.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { HttpClient } from '../../src/http/http-client.js';
import { clientWithTokens } from '../helpers/client.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('proxies', () => {
  it('sends every request through HTTP_PROXY from the environment', async () => {
    const seen: string[] = [];
    // A forward proxy: undici tunnels through it with CONNECT, as corporate proxies expect.
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = (req.url as string).split(':');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    const proxyUrl = await listen(proxy);
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = proxyUrl;
    process.env.NO_PROXY = '';
    let client: MeshClient;
    try {
      ({ client } = await clientWithTokens(stack)); // the agent reads the environment here
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    try {
      expect((await client.chat('via proxy')).content).toBe('Echo: via proxy');
      expect(seen).toContain(`CONNECT ${new URL(stack.apiUrl).host}`);
    } finally {
      await client.close();
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});

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

  it('never carries the Authorization header to another origin', async () => {
    const http = new HttpClient({ baseUrl: homeUrl });
    const response = await http.send({ method: 'GET', path: '/to-elsewhere', token: 'secret-token' });
    expect(response.status).toBe(200);
    expect(authorizationSeen.at(-1)).toBeUndefined();
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
  });
});

describe('debug logging', () => {
  it('logs method, path, status, attempt, duration and request id, and no secret at all', async () => {
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
    const { client, tokens } = await clientWithTokens(stack, { debug: true, logger });
    const canaryKey = 'sk-canary-0123456789abcdef';
    await client.storeKey('canary', canaryKey);
    stack.backend.faults.add({ fault: { kind: 'status', status: 503 }, match: { path: '/api/v1/listKeys' } });
    expect(await client.listKeys()).toContain('canary');
    expect(await client.getKey('canary')).toBe(canaryKey);
    const apiKey = await client.generateApiKey('canary-key');
    await client.chat('hello');
    const keyClient = new MeshClient({ env: { ...stack.env }, apiKey: apiKey.key, debug: true, logger });
    await keyClient.chat('with the key');
    const all = lines.join('\n');
    // The request id is quoted when the backend sends one (`request_id` advertised).
    expect(all).toMatch(/GET \/api\/v1\/listKeys\?userId=\S+ 503 \(attempt 1, \d+ ms(, \S+)?\)/);
    expect(all).toMatch(/GET \/api\/v1\/listKeys\?userId=\S+ 200 \(attempt 2, \d+ ms(, \S+)?\)/);
    expect(all).toMatch(/POST \/api\/v1\/storeKey 200/);
    expect(all).toMatch(/GET \/api\/v1\/getKey\?userId=\S+ 200/);
    for (const secret of [canaryKey, tokens.access_token, tokens.refresh_token as string, apiKey.key])
      expect(all).not.toContain(secret);
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
