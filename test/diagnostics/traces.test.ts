// The refresh and login traces against the real local stack (issue 22, goal 4): the
// `mesh-sdk:refresh` and `mesh-sdk:login` tracing channels and the OpenTelemetry spans, on success
// and on failure (error.type the MeshError code), with no token anywhere in a message or a span.
// The request traces: test/client/traces.test.ts. The module itself: test/internal/tracing.test.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { approveDeviceOverHttp, loginOverHttp } from '../../dev/login-driver.js';
import { freePort } from '../../dev/ports.js';
import type { ProviderSettings } from '../../dev/provider/provider.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { MemoryStore } from '../../src/auth/stores/memory-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { MeshError, ReauthenticationRequiredError } from '../../src/errors/mesh-error.js';
import type { DeviceVerification } from '../../src/flow/device-login.js';
import { flowFor } from '../flow/flow-for.js';
import { postJson } from '../helpers/backend-login.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { managerFor, storedTokens } from '../helpers/token-manager.js';
import { type ChannelRecorder, recordChannel, spanText, useSpans } from '../helpers/traces.js';

const ports: number[] = [];
const stack = useStack(async () => {
  for (let i = 0; i < 4; i++) ports.push(await freePort());
  return { callbackPorts: ports };
});
const otel = useSpans();

let providerDefaults: ProviderSettings;
beforeAll(() => {
  providerDefaults = { ...stack.provider.settings };
});
let recorder: ChannelRecorder | undefined;
afterEach(() => {
  recorder?.stop();
  recorder = undefined;
  stack.backend.reset();
  Object.assign(stack.provider.settings, providerDefaults);
});

const expired = (tokens: TokenSet): TokenSet => ({ ...tokens, expires_at: Math.floor(Date.now() / 1000) - 10 });

/** Every secret of these sets, none of which may appear in a message or a span. */
function secretsOf(...sets: Array<TokenSet | null | undefined>): string[] {
  return sets.flatMap((set) => [set?.access_token, set?.refresh_token, set?.id_token]).filter((s): s is string => !!s);
}

function expectNoSecret(texts: string[], secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
}

const messagesText = (r: ChannelRecorder) => JSON.stringify(r.events.map((e) => e.message));

function oneSpan(name: string): ReadableSpan {
  const spans = otel.spans(name);
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

describe('refresh traces', () => {
  it('a refresh: start then asyncEnd on mesh-sdk:refresh, and a mesh.refresh span with the store kind and the outcome', async () => {
    const directory = await scratchDir('mesh-traces-');
    const store = new FileStore({ directory });
    const tokens = await storedTokens(stack);
    await store.save(expired(tokens));
    recorder = recordChannel('refresh');
    const access = await managerFor(stack, store).getAccessToken();
    expect(access).not.toBe(tokens.access_token);

    expect(recorder.names()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(recorder.events[0]?.message).toEqual({
      kind: 'refresh',
      operation: 'refresh',
      store: 'file',
      startTime: expect.any(Number),
    });
    expect(recorder.events.at(-1)?.message).toMatchObject({ outcome: 'rotated', durationMs: expect.any(Number) });

    const span = oneSpan('mesh.refresh');
    expect(span.attributes).toEqual({
      'mesh.operation': 'refresh',
      'mesh.token_store': 'file',
      'mesh.refresh.outcome': 'rotated',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);

    const secrets = secretsOf(tokens, await store.load());
    expect(secrets).toContain(access);
    expectNoSecret([messagesText(recorder), spanText(span)], secrets);
  });

  it('a refused refresh (a revoked family): an error span and error event whose error.type is the code, one span for both tries', async () => {
    const tokens = await storedTokens(stack);
    // Rotate once elsewhere, then reuse: the provider revokes the family.
    await postJson(`${stack.apiUrl}/auth/refresh-token`, { refresh_token: tokens.refresh_token, client_type: 'web' });
    recorder = recordChannel('refresh');
    const error = await managerFor(stack, new MemoryStore(expired(tokens)))
      .getAccessToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReauthenticationRequiredError);
    const refused = (error as Error).cause as MeshError;
    expect(refused).toBeInstanceOf(MeshError);

    expect(recorder.names()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(recorder.events.at(-1)?.message).toMatchObject({
      store: 'memory',
      status: refused.status,
      errorType: refused.code,
      error: { name: refused.name, code: refused.code, status: refused.status },
    });

    const span = oneSpan('mesh.refresh'); // refused as web, then tried as device: one refresh, one span
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe(refused.code);
    expect(span.attributes['http.response.status_code']).toBe(refused.status);
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(span.events[0]?.attributes?.['exception.type']).toBe(refused.code);
    expectNoSecret([messagesText(recorder), spanText(span)], secretsOf(tokens));
  });

  it('a refresh that fails on the network side (an HTML 520 page on every try): error.type is the MeshError code', async () => {
    const tokens = await storedTokens(stack);
    stack.backend.faults.add({
      fault: { kind: 'status', status: 520, html: true },
      match: { path: '/auth/refresh-token' },
      times: 3,
    });
    const error = (await managerFor(stack, new MemoryStore(expired(tokens)))
      .getAccessToken()
      .catch((e: unknown) => e)) as MeshError;
    expect(error).toBeInstanceOf(MeshError);
    const span = oneSpan('mesh.refresh');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe(error.code);
    expect(spanText(span)).not.toContain(tokens.refresh_token as string);
  });
});

describe('login traces', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await scratchDir('mesh-traces-login-');
    stack.provider.settings.deviceInterval = 1; // the provider's default 5 s would make every test slow
  });

  const deviceClient = (deny = false) =>
    new MeshClient({
      env: { ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory },
      headless: true,
      interactive: false,
      loginUi: {
        onHeadlessTokens: () => {},
        onVerification: (v: DeviceVerification) =>
          void approveDeviceOverHttp(v.verificationUriComplete as string, { deny }).catch(() => {}),
      },
    });

  it('a device login: mesh-sdk:login start and asyncEnd, a mesh.login span (method device, store file), no token', async () => {
    recorder = recordChannel('login');
    const mesh = deviceClient();
    try {
      await mesh.login();
    } finally {
      await mesh.close();
    }
    expect(recorder.names()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(recorder.events.at(-1)?.message).toEqual({
      kind: 'login',
      operation: 'login',
      loginMethod: 'device',
      store: 'file',
      startTime: expect.any(Number),
      durationMs: expect.any(Number),
    });
    const span = oneSpan('mesh.login');
    expect(span.attributes).toEqual({ 'mesh.operation': 'login', 'mesh.login.method': 'device', 'mesh.token_store': 'file' });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    const stored = JSON.parse(await readFile(join(directory, 'token.json'), 'utf8')) as TokenSet;
    expectNoSecret([messagesText(recorder), spanText(span)], secretsOf(stored));
  });

  it('a denied device login: an error span with error.type login_access_denied, and the error event', async () => {
    recorder = recordChannel('login');
    const mesh = deviceClient(true);
    const error = await mesh.login().catch((e: unknown) => e);
    await mesh.close();
    expect(error).toMatchObject({ code: 'login_access_denied' });
    expect(recorder.names()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(recorder.events.at(-1)?.message).toMatchObject({ loginMethod: 'device', errorType: 'login_access_denied' });
    const span = oneSpan('mesh.login');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('login_access_denied');
    expect(span.events[0]?.attributes?.['exception.type']).toBe('login_access_denied');
  });

  it.each([
    ['completes', false],
    ['is denied', true],
  ])('a browser login that %s: a mesh.login span with method browser and the configured store kind', async (_name, deny) => {
    const port = ports.shift() as number;
    let page: Promise<unknown> | undefined;
    const { flow, close } = flowFor(
      { env: stack.env, callbackPort: port },
      {
        onAuthUrl: (url) => {
          page = loginOverHttp(url, `http://localhost:${port}/callback`, { deny }).then((callback) => fetch(callback));
        },
      },
    );
    recorder = recordChannel('login');
    let tokens: TokenSet | undefined;
    let error: unknown;
    try {
      tokens = (await flow.login({ openBrowser: false, timeoutMs: 20_000 })).tokens;
    } catch (caught) {
      error = caught;
    } finally {
      await page?.catch(() => {});
      await close();
    }
    const span = oneSpan('mesh.login');
    expect(span.attributes).toMatchObject({ 'mesh.login.method': 'browser', 'mesh.token_store': 'auto' });
    if (deny) {
      expect(error).toMatchObject({ code: 'login_access_denied' });
      expect(span.attributes['error.type']).toBe('login_access_denied');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(recorder.names()).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    } else {
      expect(error).toBeUndefined();
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(recorder.names()).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      expectNoSecret([messagesText(recorder), spanText(span)], secretsOf(tokens));
    }
  });
});
