// The MeshClient API against the reference backend speaking contract v2 (the deployed dialect,
// and every ambiguity switch): every method, every auth mode. Passes with and without
// DEV_BACKEND_CAPABILITIES=all: nothing here depends on a part B extension.
import { describe, expect, it } from 'vitest';
import { MeshClient } from '../../src/client/mesh-client.js';
import { ErrorCode } from '../../src/errors/codes.js';
import { NotFoundError, ReauthenticationRequiredError } from '../../src/errors/mesh-error.js';
import { decodeJwtPayload, postJson } from '../helpers/backend-login.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });

const requests = (route: string) => stack.backend.counters.requests[route] ?? 0;
const allRequests = () => Object.values(stack.backend.counters.requests).reduce((sum, n) => sum + n, 0);
const MESH_CHAT = 'POST /v1/mesh/chat';
const COMPLETIONS = 'POST /api/v1/chat/completions';

/** An API key minted by a logged-in owner (the backend issues several formats in turn). */
async function mintApiKeys(count: number, login = 'apikey-owner@example.test'): Promise<string[]> {
  const { client } = await clientWithTokens(stack, { login });
  const keys: string[] = [];
  for (let i = 0; i < count; i++) keys.push((await client.generateApiKey(`server-${i}`)).key);
  return keys;
}

describe('chat', () => {
  it('chats with a string or messages and returns content, model, usage and id (OpenAI reply shape)', async () => {
    const { client } = await clientWithTokens(stack);
    const reply = await client.chat('What is 5 + 7?');
    expect(reply).toMatchObject({
      content: '5 + 7 = 12',
      id: expect.any(String),
      model: 'gpt-4o',
      usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number), totalTokens: expect.any(Number) },
    });
    const withOptions = await client.chat(
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'one two three' }] },
      ],
      { model: 'claude-3-5-haiku-20241022', temperature: 0, maxTokens: 2 },
    );
    // The backend requires model and provider (400 without): the provider came from the model.
    expect(withOptions).toMatchObject({ content: 'Echo: one', model: 'claude-3-5-haiku-20241022' });
  });

  it.each([
    ['content', { content: 'Echo: shape' }],
    // No id or usage invented; model and provider are the ones the call named (gpt-4o, openai by default).
    ['message', { content: 'Echo: shape', id: undefined, model: 'gpt-4o', provider: 'openai', usage: undefined }],
  ] as const)('accepts the %s reply shape, inventing no id or usage', async (shape, expected) => {
    const { client } = await clientWithTokens(stack);
    stack.backend.settings.chatReplyShape = shape;
    expect(await client.chat('shape')).toMatchObject(expected);
  });

  it('falls back to /api/v1/chat/completions when /v1/mesh/chat is absent, and remembers it (streams too)', async () => {
    stack.backend.settings.chatPaths = 'completions';
    const { client } = await clientWithTokens(stack);
    const before = {
      mesh: requests('POST (no route)'),
      completions: requests(COMPLETIONS),
      profiles: stack.backend.counters.profiles,
    };
    expect((await client.chat('first')).content).toBe('Echo: first');
    // Registration, /v1/mesh/chat 404, registering once more, /v1/mesh/chat again, then the other path.
    expect(requests('POST (no route)') - before.mesh).toBe(2);
    expect(requests(COMPLETIONS) - before.completions).toBe(1);
    expect(stack.backend.counters.profiles - before.profiles).toBe(2);
    expect((await client.chat('second')).content).toBe('Echo: second');
    expect(requests('POST (no route)') - before.mesh).toBe(2);
    expect(requests(COMPLETIONS) - before.completions).toBe(2);
    // The stream goes where chat answered: no fallback, whatever that path says to a stream.
    await (async () => {
      for await (const _ of client.chatStream('s')) break;
    })().catch(() => undefined);
    expect(requests(COMPLETIONS) - before.completions).toBe(3);
    expect(requests('POST (no route)') - before.mesh).toBe(2);
  });

  it('on a 404 from chat for a user the backend forgot, registers once more and retries', async () => {
    const { client, tokens } = await clientWithTokens(stack, { login: 'forgotten@example.test' });
    await client.chat('hello');
    const user = stack.backend.state.users.get(decodeJwtPayload(tokens.access_token).sub as string);
    (user as { registered: boolean }).registered = false;
    const before = { chats: requests(MESH_CHAT), profiles: stack.backend.counters.profiles };
    expect((await client.chat('again')).content).toBe('Echo: again');
    expect(requests(MESH_CHAT) - before.chats).toBe(2);
    expect(stack.backend.counters.profiles - before.profiles).toBe(1);
  });

  it('streams OpenAI chunks that add up to the reply, and returns the usage at the end', async () => {
    const { client } = await clientWithTokens(stack);
    const deltas: string[] = [];
    const stream = client.chatStream('What is 6 * 7?');
    let next = await stream.next();
    while (!next.done) {
      deltas.push(next.value);
      next = await stream.next();
    }
    expect(deltas.join('')).toBe('6 * 7 = 42');
    expect(deltas.length).toBeGreaterThan(1);
    expect(next.value).toEqual({
      content: '6 * 7 = 42',
      usage: { promptTokens: expect.any(Number), completionTokens: expect.any(Number), totalTokens: expect.any(Number) },
    });
  });
});

describe('stored keys', () => {
  it('stores under <userId>_<name>, reads it back, lists the names without the prefix', async () => {
    const { client } = await clientWithTokens(stack, { login: 'keys@example.test' });
    await client.storeKey('openai_key', 'sk-test-123');
    const { id } = await client.profile();
    expect([...(stack.backend.state.users.get(id)?.keys.keys() ?? [])]).toEqual([`${id}_openai_key`]);
    expect(await client.listKeys()).toEqual(['openai_key']);
    expect(await client.getKey('openai_key')).toBe('sk-test-123');
    stack.backend.settings.listKeysPrefixed = false;
    expect(await client.listKeys()).toEqual(['openai_key']);
    stack.backend.settings.getKeyField = 'key';
    expect(await client.getKey('openai_key')).toBe('sk-test-123');
  });

  it.each([404, 200] as const)('a missing key answered %s is NotFoundError', async (status) => {
    const { client } = await clientWithTokens(stack, { login: 'nokeys@example.test' });
    await client.listKeys();
    stack.backend.settings.missingKeyStatus = status;
    const error = await client.getKey('absent').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: ErrorCode.NOT_FOUND, status, serverMessage: 'Key not found' });
  });

  it('fetches the profile once per client: it registers the user and gives the userId', async () => {
    const { client } = await clientWithTokens(stack, { login: 'newcomer@example.test' });
    const before = stack.backend.counters.profiles;
    await Promise.all([
      client.listKeys(),
      client.storeKey('a', 'b'),
      client.chat('hi'),
      client.getKey('a').catch(() => 'none yet'),
    ]);
    await client.listKeys();
    expect(stack.backend.counters.profiles).toBe(before + 1);
    expect(await client.profile()).toMatchObject({
      id: expect.any(String),
      email: 'newcomer@example.test',
      credits: expect.any(Number),
    });
  });

  it('reads a flat profile as well as a nested one', async () => {
    stack.backend.settings.profileShape = 'flat';
    const { client } = await clientWithTokens(stack, { login: 'flat@example.test' });
    await client.storeKey('k', 'v');
    expect(await client.getKey('k')).toBe('v');
    expect(await client.profile()).toMatchObject({ id: expect.any(String), email: 'flat@example.test' });
  });
});

describe('API keys', () => {
  it('creates one on /v1/mesh/api-keys (api_key object), named as asked or by default', async () => {
    const { client } = await clientWithTokens(stack);
    const created = await client.generateApiKey('ci');
    expect(created).toEqual({
      id: expect.any(String),
      name: 'ci',
      key: expect.stringMatching(/^mesh_/),
      createdAt: expect.any(String),
    });
    expect((await client.generateApiKey()).name).toMatch(/^SDK Generated Key \(\d{4}-\d\d-\d\d/);
  });

  it('falls back to /api/v1/api-keys and reads a key given as a string', async () => {
    stack.backend.settings.apiKeysPath = 'api';
    stack.backend.settings.apiKeyReplyShape = 'string';
    const { client } = await clientWithTokens(stack);
    const before = requests('POST /api/v1/api-keys');
    const created = await client.generateApiKey('fallback');
    expect(created).toEqual({ id: undefined, name: 'fallback', key: expect.stringMatching(/^mesh_/), createdAt: undefined });
    expect(requests('POST /api/v1/api-keys') - before).toBe(1);
    await client.generateApiKey('remembered');
    expect(requests('POST /api/v1/api-keys') - before).toBe(2);
  });

  it('deleteKey, listApiKeys and revokeApiKey fail with unsupported_by_backend and send nothing', async () => {
    const { client } = await clientWithTokens(stack);
    await client.listKeys();
    const before = allRequests();
    for (const call of [() => client.deleteKey('x'), () => client.listApiKeys(), () => client.revokeApiKey('key_1')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'UnsupportedByBackendError', code: ErrorCode.UNSUPPORTED_BY_BACKEND });
      expect((error as Error).message).toContain(stack.apiUrl);
    }
    expect(allRequests()).toBe(before);
  });
});

describe('auth modes', () => {
  it('works with an API key alone, in every format the backend issues (mesh_pk_... too): no login, refresh or validate', async () => {
    const keys = await mintApiKeys(3);
    expect(keys.some((key) => key.startsWith('mesh_pk_'))).toBe(true);
    const before = { refreshes: stack.backend.counters.refreshes, validations: stack.backend.counters.validations };
    for (const key of keys) {
      const client = new MeshClient({ env: { ...stack.env, MESH_API_KEY: key } });
      expect((await client.chat('What is 2 + 2?')).content).toBe('2 + 2 = 4');
      await client.storeKey('server_key', 'sk-server');
      expect(await client.listKeys()).toEqual(['server_key']);
      expect(client.describeTokenStore()).toMatch(/none/);
      expect(await client.validateToken()).toMatchObject({ valid: true, source: 'backend' });
    }
    expect(stack.backend.counters.refreshes).toBe(before.refreshes);
    expect(stack.backend.counters.validations).toBe(before.validations);
  });

  it.each(['authorization', 'x-api-key'] as const)('reaches a deployment that reads only the %s header', async (header) => {
    const [key] = await mintApiKeys(1);
    stack.backend.settings.apiKeyHeaders = header;
    const client = new MeshClient({ env: { ...stack.env }, apiKey: key });
    expect((await client.chat('hi')).content).toBe('Echo: hi');
  });

  it('says what to do when the API key is refused', async () => {
    const client = new MeshClient({ env: { ...stack.env }, apiKey: 'mesh_pk_not_a_key_the_backend_knows' });
    const error = await client.listKeys().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AuthenticationError', code: 'authentication_failed' });
    expect((error as { hint: string }).hint).toMatch(/revoked.*MESH_API_KEY/);
    expect(await client.validateToken()).toMatchObject({ valid: false, source: 'backend' });
  });

  it('accepts the deprecated authToken option, with one DeprecationWarning carrying a code', async () => {
    const { tokens } = await clientWithTokens(stack);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const first = new MeshClient({ env: { ...stack.env }, authToken: tokens.access_token });
      new MeshClient({ env: { ...stack.env }, authToken: tokens.access_token });
      expect((await first.chat('hello')).content).toBe('Echo: hello');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ name: 'DeprecationWarning', code: 'MESH_DEP_AUTH_TOKEN' });
  });

  it('uses a custom TokenProvider, asking it again once after a refusal', async () => {
    const { tokens } = await clientWithTokens(stack);
    const fresh = await postJson(`${stack.apiUrl}/auth/refresh-token`, {
      refresh_token: tokens.refresh_token,
      client_type: 'web',
    });
    const handed = ['garbage-token', fresh.json.access_token as string];
    let asked = 0;
    const client = new MeshClient({
      env: { ...stack.env },
      tokenProvider: { getAccessToken: async () => handed[Math.min(asked++, 1)] as string },
    });
    const refreshes = stack.backend.counters.refreshes;
    expect(await client.listKeys()).toEqual([]);
    // Registration: the garbage token (404, not valid), asked again once (accepted); then one ask per call.
    expect(asked).toBe(3);
    await client.listKeys();
    expect(asked).toBe(4);
    expect(stack.backend.counters.refreshes).toBe(refreshes);
  });

  it('refuses two credentials at once', () => {
    expect(() => new MeshClient({ env: {}, apiKey: 'mesh_pk_abc', authToken: 'x' })).toThrow(
      /only one of apiKey, authToken and tokenProvider/,
    );
  });

  it('refuses a token provider without getAccessToken (a bare function, from plain JavaScript) as it is built', () => {
    const bare = async () => 'token';
    expect(() => new MeshClient({ env: {}, tokenProvider: bare as never })).toThrow(
      expect.objectContaining({
        code: ErrorCode.CONFIG_INVALID,
        message: expect.stringMatching(/tokenProvider is invalid: it has no getAccessToken\(\) method/),
        hint: expect.stringContaining('{ getAccessToken: async () => token }'),
      }),
    );
  });

  it('validates its token, saying which source answered', async () => {
    const { client } = await clientWithTokens(stack);
    expect(await client.validateToken()).toMatchObject({ valid: true, source: 'backend' });
    stack.backend.settings.validateEndpoint = false;
    expect(await client.validateToken()).toMatchObject({ valid: true, source: 'local' });
  });

  it('logs out: the store is cleared and the next call needs a login', async () => {
    const { client } = await clientWithTokens(stack);
    expect(client.describeTokenStore()).toMatch(/^file /);
    await client.listKeys();
    await client.logout();
    await expect(client.listKeys()).rejects.toBeInstanceOf(ReauthenticationRequiredError);
  });
});
