/**
 * A tiny real issuer for the mesh-sdk/server tests: a `node:http` server on loopback serving a
 * discovery document and a JWKS of keys made with jose, whose behaviour a test steers (rotation,
 * Cache-Control, a slow or failing reply, stopped and started again on the same port), plus tokens
 * signed with its keys and a clock the verifier reads. For the JWKS edge cases the stand-in Auth0
 * (dev/) cannot produce on demand.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export const TEST_AUDIENCE = 'https://api.test.local';

export interface TestIssuer {
  /** `http://127.0.0.1:<port>/`. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Keys published, the signing one last. */
  published: SigningKey[];
  /** JWKS requests answered (whatever the status), and discovery requests. */
  readonly counts: { jwks: number; discovery: number };
  /** `Cache-Control` of the JWKS reply; undefined: none. */
  cacheControl: string | undefined;
  /** Status of the JWKS reply (200: the keys). */
  status: number;
  /** Delay before the JWKS reply, ms. */
  delayMs: number;
  /** Publishes a new key and signs with it from now on (an Auth0 rotation). */
  rotate(): Promise<SigningKey>;
  /** A token signed with the current key (or `key`), for the test audience by default. */
  sign(
    claims?: JWTPayload,
    options?: { key?: SigningKey; header?: Record<string, unknown>; expiresIn?: number; now?: number },
  ): Promise<string>;
  /** Resolves when the next JWKS reply has been sent. */
  nextJwks(): Promise<void>;
  /** Stops listening and drops connections: fetches are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestIssuer(options: { keys?: SigningKey[] } = {}): Promise<TestIssuer> {
  let server: Server;
  let port = 0;
  const waiters: Array<() => void> = [];
  const issuerState = {
    published: options.keys ?? [await newSigningKey('key-1')],
    counts: { jwks: 0, discovery: 0 },
    cacheControl: undefined as string | undefined,
    status: 200,
    delayMs: 0,
  };
  const listen = async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/.well-known/openid-configuration') {
        issuerState.counts.discovery += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: self.issuer, jwks_uri: self.jwksUri }));
        return;
      }
      if (path !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      issuerState.counts.jwks += 1;
      const reply = () => {
        const headers: Record<string, string> = { 'content-type': 'application/jwk-set+json' };
        if (issuerState.cacheControl !== undefined) headers['cache-control'] = issuerState.cacheControl;
        if (issuerState.status !== 200) res.writeHead(issuerState.status, headers).end('{"error":"down"}');
        else res.writeHead(200, headers).end(JSON.stringify({ keys: issuerState.published.map((key) => key.publicJwk) }));
        for (const wake of waiters.splice(0)) wake();
      };
      if (issuerState.delayMs > 0) setTimeout(reply, issuerState.delayMs);
      else reply();
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  };
  await listen();
  const origin = `http://127.0.0.1:${port}`;
  const self: TestIssuer = {
    issuer: `${origin}/`,
    jwksUri: `${origin}/.well-known/jwks.json`,
    get published() {
      return issuerState.published;
    },
    set published(keys) {
      issuerState.published = keys;
    },
    counts: issuerState.counts,
    get cacheControl() {
      return issuerState.cacheControl;
    },
    set cacheControl(value) {
      issuerState.cacheControl = value;
    },
    get status() {
      return issuerState.status;
    },
    set status(value) {
      issuerState.status = value;
    },
    get delayMs() {
      return issuerState.delayMs;
    },
    set delayMs(value) {
      issuerState.delayMs = value;
    },
    async rotate() {
      const key = await newSigningKey(`key-${issuerState.published.length + 1}`);
      issuerState.published = [...issuerState.published, key];
      return key;
    },
    async sign(claims = {}, signOptions = {}) {
      const key = signOptions.key ?? (issuerState.published.at(-1) as SigningKey);
      const now = Math.floor((signOptions.now ?? Date.now()) / 1000);
      return new SignJWT({ sub: 'user-1', scope: 'read write', ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...signOptions.header })
        .setIssuer(self.issuer)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + (signOptions.expiresIn ?? 3600))
        .sign(key.privateKey);
    },
    nextJwks: () => new Promise<void>((resolve) => waiters.push(resolve)),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: listen,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return self;
}

/** A clock a verifier reads (`now: clock.now`), moved by the test instead of waiting. */
export function testClock(start = Date.now()) {
  let at = start;
  return {
    now: () => at,
    advance(seconds: number) {
      at += seconds * 1000;
    },
  };
}
