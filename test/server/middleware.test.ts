// Each middleware of mesh-sdk/server in a real server on loopback (Express, Fastify, node:http, and a
// fetch handler behind a node:http bridge as Hono's node adapter does it), called over real
// sockets with tokens from the local provider: 200, 401 (with and without a credential), 403 and
// 503, each with the right WWW-Authenticate (or Retry-After). Plus a DPoP-bound token through the
// Node adapters, whose request URL the verifier rebuilds from the Host header.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type MeshIdentity, meshAuth, type Verifier } from '../../src/server/index.js';
import { loginTokens } from '../helpers/backend-login.js';
import { dpopProof, newDpopKey } from '../helpers/server-dpop.js';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from '../helpers/server-issuer.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack();
let token: string;
let issuer: TestIssuer;

interface Verifiers {
  me: Verifier;
  down: Verifier;
  bound: Verifier;
}
let verifiers: Verifiers;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  token = (await loginTokens(stack, { login: 'middleware@example.test' })).access_token;
  issuer = await startTestIssuer();
  verifiers = {
    me: createVerifier({ env: stack.env }),
    // The issuer's keys at a closed port: nothing to verify with.
    down: createVerifier({ env: stack.env, jwksUri: 'http://127.0.0.1:9/.well-known/jwks.json' }),
    bound: createVerifier({ issuer: issuer.issuer, audience: TEST_AUDIENCE, env: {} }),
  };
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await issuer.close();
});

async function listening(server: Server): Promise<string> {
  if (!server.listening) await once(server.listen(0, '127.0.0.1'), 'listening');
  closers.push(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const body = (identity: MeshIdentity) => JSON.stringify({ subject: identity.subject, kind: identity.kind });

/** Each framework serves /me, /admin (scope `admin` required), /down (no keys) and /bound (the test issuer, DPoP). */
const APPS: Record<string, () => Promise<string>> = {
  async express() {
    const app = express();
    const who = (req: express.Request, res: express.Response) => {
      res.type('json').send(body((req as unknown as { mesh: MeshIdentity }).mesh));
    };
    app.get('/me', meshAuth.express({ verifier: verifiers.me }), who);
    app.get('/admin', meshAuth.express({ verifier: verifiers.me, requiredScopes: ['admin'] }), who);
    app.get('/down', meshAuth.express({ verifier: verifiers.down }), who);
    app.post('/bound', meshAuth.express({ verifier: verifiers.bound }), who);
    return listening(createServer(app));
  },
  async fastify() {
    const app = Fastify();
    const who = async (request: FastifyRequest) => JSON.parse(body((request as unknown as { mesh: MeshIdentity }).mesh));
    app.register(async (scope) => {
      scope.register(meshAuth.fastify, { verifier: verifiers.me });
      scope.get('/me', who);
      scope.register(async (admin) => {
        admin.register(meshAuth.fastify, { verifier: verifiers.me, requiredScopes: ['admin'] });
        admin.get('/admin', who);
      });
    });
    app.register(async (scope) => {
      scope.register(meshAuth.fastify, { verifier: verifiers.down });
      scope.get('/down', who);
    });
    app.register(async (scope) => {
      scope.register(meshAuth.fastify, { verifier: verifiers.bound });
      scope.post('/bound', who);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  },
  async node() {
    const who = (req: IncomingMessage & { mesh: MeshIdentity }, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body(req.mesh));
    };
    const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
      '/me': meshAuth.node(who, { verifier: verifiers.me }),
      '/admin': meshAuth.node(who, { verifier: verifiers.me, requiredScopes: ['admin'] }),
      '/down': meshAuth.node(who, { verifier: verifiers.down }),
      '/bound': meshAuth.node(who, { verifier: verifiers.bound }),
    };
    return listening(
      createServer((req, res) => {
        const route = routes[req.url ?? ''];
        if (route) route(req, res);
        else res.writeHead(404).end();
      }),
    );
  },
  async fetch() {
    const who = (_request: Request, identity: MeshIdentity) =>
      new Response(body(identity), { headers: { 'content-type': 'application/json' } });
    const routes: Record<string, (request: Request) => Promise<Response>> = {
      '/me': meshAuth.fetch(who, { verifier: verifiers.me }),
      '/admin': meshAuth.fetch(who, { verifier: verifiers.me, requiredScopes: ['admin'] }),
      '/down': meshAuth.fetch(who, { verifier: verifiers.down }),
      '/bound': meshAuth.fetch(who, { verifier: verifiers.bound }),
    };
    // The bridge a Node host of a fetch handler is (Hono's @hono/node-server does the same).
    const server = createServer(async (req, res) => {
      const url = `http://${req.headers.host}${req.url}`;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const handler = routes[new URL(url).pathname];
      const response = handler
        ? await handler(new Request(url, { method: req.method, headers }))
        : new Response(null, { status: 404 });
      res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
    });
    return listening(server);
  },
};

describe.each(Object.keys(APPS))('meshAuth.%s over a real socket', (name) => {
  let base: string;
  beforeAll(async () => {
    base = await (APPS[name] as () => Promise<string>)();
  });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

  it('200 with the identity for a valid token', async () => {
    const response = await get('/me', { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: stack.provider.subjectFor('middleware@example.test'), kind: 'token' });
  });

  it('401 with a bare challenge when there is no credential, and invalid_token for a bad one', async () => {
    const missing = await get('/me');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer realm="mesh", DPoP realm="mesh", algs="[A-Za-z0-9 ]+"$/);
    expect(await missing.json()).toMatchObject({ error: 'token_missing' });

    const [header, payload] = token.split('.');
    const bad = await get('/me', { authorization: `Bearer ${header}.${payload}.AAAA` });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer realm="mesh", error="invalid_token", error_description="[^"]+"/);
    const reply = (await bad.json()) as { error: string; message: string };
    expect(reply.error).toBe('token_signature');
    expect(JSON.stringify(reply)).not.toContain(payload);
  });

  it('403 insufficient_scope naming the scope a route requires', async () => {
    const response = await get('/admin', { authorization: `Bearer ${token}` });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="mesh", error="insufficient_scope", scope="admin"/);
    expect(await response.json()).toMatchObject({ error: 'token_scope' });
  });

  it('503 with Retry-After (and no challenge) when the issuer keys cannot be had', async () => {
    const response = await get('/down', { authorization: `Bearer ${token}` });
    expect(response.status).toBe(503);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await response.json()).toMatchObject({ error: 'verifier_unavailable' });
  });

  it('a DPoP-bound token: 200 with a proof for this URL, 401 invalid_dpop_proof without one', async () => {
    const key = await newDpopKey();
    const bound = await issuer.sign({ cnf: { jkt: key.jkt } });
    const proof = await dpopProof(key, { htm: 'POST', htu: `${base}/bound`, token: bound, iat: Date.now() });
    const ok = await fetch(`${base}/bound`, { method: 'POST', headers: { authorization: `DPoP ${bound}`, dpop: proof } });
    expect(ok.status).toBe(200);
    const refused = await fetch(`${base}/bound`, { method: 'POST', headers: { authorization: `DPoP ${bound}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^DPoP realm="mesh", error="invalid_dpop_proof", error_description="[^"]+", algs="/,
    );
  });
});
