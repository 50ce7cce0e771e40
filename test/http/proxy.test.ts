// Proxies from the environment, as a user's process sees them: HTTP_PROXY for an http:// backend,
// HTTPS_PROXY for an https:// one (TLS end to end through the tunnel), NO_PROXY naming the host
// to go direct. Each case is a child process, because undici reads NO_PROXY on every request and
// NODE_EXTRA_CA_CERTS (how the child trusts the test origin's certificate) only at start-up.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectProxy, startConnectProxy, startTlsFront, type TlsFront } from '../../dev/middlemen.js';
import { createApiKey } from '../helpers/api-key.js';
import { useStack } from '../helpers/stack.js';

const CHILD = join(import.meta.dirname, 'proxy-child.ts');
const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

const stack = useStack();
let proxy: ConnectProxy;
let front: TlsFront;
let apiKey: string;
let tokenDir: string;
beforeAll(async () => {
  [proxy, front, apiKey, tokenDir] = await Promise.all([
    startConnectProxy(),
    startTlsFront(stack.apiUrl),
    createApiKey(stack, 'proxy-user@example.test'),
    mkdtemp(join(tmpdir(), 'mesh-proxy-')),
  ]);
});
afterAll(async () => {
  await Promise.all([proxy?.close(), front?.close(), tokenDir && rm(tokenDir, { recursive: true, force: true })]);
});

/** Runs one chat in a child whose environment has no proxy setting but `variables`. */
async function chatInChild(apiUrl: string, variables: Record<string, string>, text: string) {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of PROXY_VARIABLES) delete env[name];
  Object.assign(env, stack.env, {
    MESH_API_URL: apiUrl,
    MESH_API_KEY: apiKey,
    MESH_TOKEN_STORE: 'file',
    MESH_TOKEN_DIR: tokenDir,
    CI: 'true',
    NODE_EXTRA_CA_CERTS: front.certFile,
    ...variables,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, text], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as { content?: string; error?: string };
}

const hostOf = (url: string) => new URL(url).host;

describe('proxies from the environment', () => {
  it('HTTP_PROXY: an http:// backend is reached through a tunnel of the proxy', async () => {
    const before = proxy.tunnels.length;
    const reply = await chatInChild(stack.apiUrl, { HTTP_PROXY: proxy.url }, 'over http');
    expect(reply).toEqual({ content: 'Echo: over http' });
    const opened = proxy.tunnels.slice(before);
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.map((t) => t.target)).toEqual(opened.map(() => hostOf(stack.apiUrl)));
  });

  it('HTTPS_PROXY: an https:// backend is reached through the proxy, TLS end to end', async () => {
    const before = { tunnels: proxy.tunnels.length, tls: front.connections };
    const reply = await chatInChild(front.url, { HTTPS_PROXY: proxy.url, NO_PROXY: 'example.test' }, 'over https');
    expect(reply).toEqual({ content: 'Echo: over https' });
    const opened = proxy.tunnels.slice(before.tunnels);
    expect(opened.length).toBeGreaterThan(0);
    // Every tunnel went to the https origin, and what crossed it was a TLS handshake, not HTTP.
    expect(opened).toEqual(opened.map(() => ({ target: hostOf(front.url), firstByte: 0x16 })));
    // Each TLS connection the origin accepted came through a tunnel.
    expect(front.connections - before.tls).toBe(opened.length);
  });

  it('NO_PROXY naming the host: the same https:// backend is reached directly, the proxy never sees it', async () => {
    const before = { tunnels: proxy.tunnels.length, tls: front.connections };
    const reply = await chatInChild(
      front.url,
      { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: 'example.test,127.0.0.1' },
      'direct',
    );
    expect(reply).toEqual({ content: 'Echo: direct' });
    expect(proxy.tunnels.length).toBe(before.tunnels);
    expect(front.connections - before.tls).toBeGreaterThan(0);
  });

  it('without NODE_EXTRA_CA_CERTS the self-signed origin is refused: the trust above is real', async () => {
    const reply = await chatInChild(front.url, { NODE_EXTRA_CA_CERTS: '', NO_PROXY: '127.0.0.1' }, 'untrusted');
    expect(reply.content).toBeUndefined();
    expect(reply.error).toMatch(/^NetworkError: .*(SELF_SIGNED|self-signed|certificate)/i);
  });
});
