/**
 * What sits between a user and the Mesh backend, on loopback, for the transport tests: a forward
 * proxy that tunnels CONNECT requests as corporate proxies do (and counts the tunnels), and a TLS
 * front that puts an https:// origin with a self-signed certificate (made by `openssl` at start)
 * before the reference backend.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';

export interface Tunnel {
  /** The CONNECT target, `host:port`. */
  target: string;
  /** The first byte the client sent through the tunnel (0x16 opens a TLS handshake). */
  firstByte?: number;
}

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`: a value for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  /** Every tunnel opened, in order. */
  tunnels: Tunnel[];
  close(): Promise<void>;
}

export interface TlsFront {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** The certificate (PEM file): what NODE_EXTRA_CA_CERTS names for a client to trust it. */
  certFile: string;
  /** TLS connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Pipes two sockets into each other; either one failing ends both. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** A forward proxy answering CONNECT only (a plain proxied request gets 405, as undici never sends one). */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: Tunnel[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const tunnel: Tunnel = { target: req.url ?? '' };
    tunnels.push(tunnel);
    const at = tunnel.target.lastIndexOf(':');
    const upstream = connect(Number(tunnel.target.slice(at + 1)), tunnel.target.slice(0, at).replace(/^\[|\]$/g, ''));
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) tunnel.firstByte = head[0];
      else client.once('data', (chunk: Buffer) => (tunnel.firstByte ??= chunk[0]));
      upstream.write(head);
      splice(client, upstream);
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, tunnels, close: () => closeServer(server, sockets) };
}

/**
 * An https origin on 127.0.0.1 in front of `target` (an http://127.0.0.1 origin): TLS ends here
 * and the bytes go on unchanged. The certificate names 127.0.0.1 and localhost and lives a day.
 */
export async function startTlsFront(target: string): Promise<TlsFront> {
  const directory = await mkdtemp(join(tmpdir(), 'mesh-tls-'));
  const keyFile = join(directory, 'key.pem');
  const certFile = join(directory, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=mesh-sdk test origin'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`startTlsFront needs openssl on PATH to make a test certificate: ${(error as Error).message}`);
  }
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const front = {
    url: '',
    certFile,
    connections: 0,
    close: async () => {
      await closeServer(server, sockets);
      await rm(directory, { recursive: true, force: true });
    },
  };
  const server = createTlsServer({ key: await readFile(keyFile), cert: await readFile(certFile) }, (socket) => {
    front.connections += 1;
    const upstream = connect(Number(targetPort), hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    splice(socket, upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  front.url = `https://127.0.0.1:${await listen(server)}`;
  return front;
}

export interface HoldingProxy {
  /** `http://127.0.0.1:<port>`: the MESH_API_URL of a client that goes through it. */
  url: string;
  /** The path whose replies are held (exact match, query ignored); undefined: nothing held. */
  holdPath: string | undefined;
  /** How many replies were held so far. */
  held: number;
  /** Resolves once the next reply on `holdPath` has come back from the backend and is being held. */
  nextHeld(): Promise<void>;
  /** Hands every held reply to its client (a client that went away gets nothing). */
  release(): void;
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of the reference backend that can hold replies: a request on `holdPath`
 * reaches the backend (which does the work: a refresh rotates the token), and its reply waits here
 * until `release()`. What a kill "exactly at the rotation" needs: the provider has rotated, the
 * client has not heard.
 */
export async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const sockets = new Set<Socket>();
  let waiting: Array<() => void> = [];
  let parked: Array<() => void> = [];
  const proxy: HoldingProxy = {
    url: '',
    holdPath: undefined,
    held: 0,
    nextHeld: () => new Promise<void>((resolve) => waiting.push(resolve)),
    release() {
      const replies = parked;
      parked = [];
      for (const send of replies) send();
    },
    close: () => closeServer(server, sockets),
  };
  const server = createHttpServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let upstream: Response;
    try {
      upstream = await fetch(new URL(req.url ?? '/', target), {
        method: req.method,
        headers: Object.fromEntries(
          // fetch sets host, connection and content-length itself (and refuses a content-length given to it).
          Object.entries(req.headers).filter(
            ([name, value]) => typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name),
          ),
        ) as Record<string, string>,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        redirect: 'manual',
      });
    } catch {
      res.destroy();
      return;
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'connection') headers[name] = value;
    });
    const send = () => {
      if (!res.destroyed) res.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) }).end(body);
    };
    if (proxy.holdPath === undefined || (req.url ?? '').split('?')[0] !== proxy.holdPath) {
      send();
      return;
    }
    proxy.held += 1;
    parked.push(send);
    const wake = waiting;
    waiting = [];
    for (const resolve of wake) resolve();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  proxy.url = `http://127.0.0.1:${await listen(server)}`;
  return proxy;
}
