import { describe, expect, it } from 'vitest';
import { defaultModelFor, inspectConfig } from '../../src/config/resolve.js';
import { ConfigError, ErrorCode, MeshClient, type MeshClientOptions, resolveConfig, type TokenStore } from '../../src/index.js';

const resolve = (env: Record<string, string>, options: Omit<MeshClientOptions, 'env'> = {}) => resolveConfig({ ...options, env });

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('uses the defaults of architecture.md when nothing is set', () => {
    const config = resolve({});
    expect(config).toMatchObject({
      apiUrl: 'https://mesh-abh5.onrender.com',
      auth0: {
        domain: 'https://dev-hzpwy8oqs2ojss6r.us.auth0.com',
        clientId: 'Ky6gtf5PPUs1IpIFdm91ttQs4Oxpj0Nq',
        audience: 'https://mesh-abh5.onrender.com',
      },
      callbackPort: 8000,
      autoRefresh: true,
      refreshAheadSeconds: 300,
      headless: undefined,
      tokenStore: 'auto',
      tokenDirectory: undefined,
      extendedTokenLifetime: true,
      apiKey: undefined,
      debug: false,
      defaultProvider: 'openai',
      defaultModel: 'gpt-4o',
      defaultOpenaiModel: 'gpt-4o',
      defaultAnthropicModel: 'claude-3-7-sonnet-20250219',
      timeout: 60_000,
      maxRetries: 2,
    });
    expect(config.sources['auth0.domain']).toBe('default');
  });

  it('takes the environment over defaults, and options over the environment', () => {
    const env = { MESH_API_URL: 'https://env.example', AUTH0_CALLBACK_PORT: '9000', AUTH0_DOMAIN: 'tenant.eu.auth0.com' };
    const fromEnv = resolve(env);
    expect(fromEnv.apiUrl).toBe('https://env.example');
    expect(fromEnv.callbackPort).toBe(9000);
    expect(fromEnv.auth0.domain).toBe('https://tenant.eu.auth0.com');
    expect(fromEnv.sources).toMatchObject({ apiUrl: 'env', callbackPort: 'env', 'auth0.domain': 'env' });

    const fromOptions = resolve(env, { apiUrl: 'https://option.example/', callbackPort: 9100 });
    expect(fromOptions.apiUrl).toBe('https://option.example');
    expect(fromOptions.callbackPort).toBe(9100);
    expect(fromOptions.sources).toMatchObject({ apiUrl: 'option', callbackPort: 'option', 'auth0.domain': 'env' });
  });

  it("accepts the Python SDK's boolean words (true/1/yes/y), their opposites and on/off, in any case", () => {
    for (const [raw, expected] of [
      ['TRUE', true],
      ['1', true],
      ['Yes', true],
      ['y', true],
      ['On', true],
      ['false', false],
      ['0', false],
      ['NO', false],
      ['n', false],
      ['off', false],
    ] as const) {
      expect(resolve({ MESH_HEADLESS: raw }).headless).toBe(expected);
      expect(resolve({ AUTO_REFRESH: raw }).autoRefresh).toBe(expected);
    }
  });

  it.each([
    ['AUTH0_CALLBACK_PORT', 'abc', /AUTH0_CALLBACK_PORT is invalid: got "abc"; expected a port number from 1 to 65535/],
    ['AUTH0_CALLBACK_PORT', '70000', /got "70000"/],
    ['MESH_API_URL', 'ftp://x', /MESH_API_URL is invalid: got "ftp:\/\/x"; expected an https:\/\/ URL/],
    ['MESH_API_URL', 'mesh.example.com', /MESH_API_URL is invalid: got "mesh.example.com"/],
    ['MESH_API_URL', 'http://mesh.example.com', /http:\/\/ only for localhost/],
    ['MESH_HEADLESS', 'maybe', /MESH_HEADLESS is invalid: got "maybe"; expected auto, or one of true\/false, 1\/0, yes\/no/],
    ['AUTO_REFRESH', 'sometimes', /AUTO_REFRESH/],
    ['AUTH0_DOMAIN', 'http://tenant.auth0.com', /AUTH0_DOMAIN is invalid: got "http:\/\/tenant.auth0.com"/],
    ['AUTH0_DOMAIN', 'https://tenant.auth0.com/some/path', /AUTH0_DOMAIN/],
    ['MESH_TOKEN_STORE', 'vault', /MESH_TOKEN_STORE is invalid: got "vault"; expected one of auto, keychain, file, env, memory/],
    ['MESH_TOKEN_FROM_ENV', 'perhaps', /MESH_TOKEN_FROM_ENV/],
    ['DEFAULT_PROVIDER', 'open ai', /DEFAULT_PROVIDER is invalid: got "open ai"; expected a provider name/],
    ['DEFAULT_OPENAI_MODEL', 'gpt 4o', /DEFAULT_OPENAI_MODEL is invalid/],
    ['DEFAULT_ANTHROPIC_MODEL_OVERRIDE', 'claude 3', /DEFAULT_ANTHROPIC_MODEL_OVERRIDE is invalid/],
  ])('rejects %s=%s with a ConfigError naming the variable, the value and what it expects', (name, value, message) => {
    const error = configErrorOf(() => resolve({ [name]: value }));
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message).toMatch(message);
    expect(error.hint).toContain(name);
  });

  it('names the option, not a variable, for a bad option', () => {
    const error = configErrorOf(() => resolve({}, { timeout: -5 }));
    expect(error.message).toMatch(/option timeout is invalid: got -5; expected a whole number of milliseconds/);
  });

  it('allows plain http only for loopback hosts (the local stack)', () => {
    expect(resolve({ MESH_API_URL: 'http://127.0.0.1:4001' }).apiUrl).toBe('http://127.0.0.1:4001');
    expect(resolve({ MESH_API_URL: 'http://localhost:4001/' }).apiUrl).toBe('http://localhost:4001');
    expect(resolve({ AUTH0_DOMAIN: 'http://127.0.0.1:4000' }).auth0.domain).toBe('http://127.0.0.1:4000');
    expect(resolve({ AUTH0_DOMAIN: 'http://[::1]:4000/' }).auth0.domain).toBe('http://[::1]:4000');
  });

  it('treats an empty variable as unset', () => {
    expect(resolve({ AUTH0_CALLBACK_PORT: '', MESH_API_URL: '  ' })).toMatchObject({
      callbackPort: 8000,
      apiUrl: 'https://mesh-abh5.onrender.com',
    });
  });

  it('never echoes a malformed API key', () => {
    for (const secret of ['mesh_half of a pasted secret', 'sk-notAMeshKeyButSecret', 'mesh_']) {
      const error = configErrorOf(() => resolve({ MESH_API_KEY: secret }));
      expect(error.message).toMatch(
        /MESH_API_KEY is invalid: got \(a secret of \d+ characters, not shown\); expected a Mesh API key/,
      );
      const shown = JSON.stringify(error.toJSON());
      expect(shown).not.toContain('pasted');
      expect(shown).not.toContain('notAMesh');
    }
  });

  it('accepts any mesh_ key, whatever its length (the Python SDK checks only the prefix)', () => {
    for (const key of [
      'mesh_yourapikey123456',
      'mesh_pk_live_0123',
      'mesh_x',
      `mesh_${'a'.repeat(43)}`,
      `mesh_${'Z9-_'.repeat(40)}`,
    ]) {
      expect(resolve({ MESH_API_KEY: key }).apiKey).toBe(key);
      expect(resolve({}, { apiKey: `  ${key}\n` }).apiKey).toBe(key);
    }
  });

  it('takes MESH_HEADLESS=auto (the Python default) as "detect"', () => {
    expect(resolve({ MESH_HEADLESS: 'auto' })).toMatchObject({ headless: undefined, sources: { headless: 'env' } });
    expect(resolve({ MESH_HEADLESS: ' AUTO ' }).headless).toBeUndefined();
  });

  it('reads the default provider and models as the Python SDK does (config.py 1.5.5)', () => {
    expect(resolve({ DEFAULT_PROVIDER: 'Anthropic' })).toMatchObject({
      defaultProvider: 'anthropic',
      defaultModel: 'claude-3-7-sonnet-20250219',
    });
    expect(resolve({ DEFAULT_PROVIDER: 'anthropic', DEFAULT_ANTHROPIC_MODEL: 'claude-3-5-haiku-20241022' }).defaultModel).toBe(
      'claude-3-5-haiku-20241022',
    );
    expect(resolve({ DEFAULT_OPENAI_MODEL: 'gpt-4-turbo' })).toMatchObject({
      defaultProvider: 'openai',
      defaultModel: 'gpt-4-turbo',
    });
    // The _OVERRIDE variables win over the plain ones.
    expect(resolve({ DEFAULT_OPENAI_MODEL: 'gpt-4-turbo', DEFAULT_OPENAI_MODEL_OVERRIDE: 'gpt-4.1' }).defaultOpenaiModel).toBe(
      'gpt-4.1',
    );
    // A provider with no default of its own gets OpenAI's, as get_default_model does.
    expect(resolve({ DEFAULT_PROVIDER: 'google' })).toMatchObject({ defaultProvider: 'google', defaultModel: 'gpt-4o' });
    // DEFAULT_MODEL (README 1.5.5) and the option win over the provider's model.
    expect(resolve({ DEFAULT_PROVIDER: 'anthropic', DEFAULT_MODEL: 'claude-3-opus-20240229' }).defaultModel).toBe(
      'claude-3-opus-20240229',
    );
    expect(resolve({ DEFAULT_MODEL: 'gpt-4-turbo' }, { defaultModel: 'o3' })).toMatchObject({
      defaultModel: 'o3',
      sources: { defaultModel: 'option' },
    });
    const config = resolve({ DEFAULT_ANTHROPIC_MODEL: 'claude-x' });
    expect([defaultModelFor(config, 'Anthropic'), defaultModelFor(config, 'openai'), defaultModelFor(config, 'google')]).toEqual([
      'claude-x',
      'gpt-4o',
      'gpt-4o',
    ]);
  });

  it('inspectConfig reports every bad value at once, naming its variable, and fills in the defaults', () => {
    const { config, problems } = inspectConfig({
      env: { MESH_API_URL: 'ftp://x', AUTH0_CALLBACK_PORT: 'abc', MESH_TOKEN_FROM_ENV: 'yes', MESH_TOKEN_STORE: 'file' },
    });
    expect(problems.map(({ setting, variable }) => [setting, variable])).toEqual([
      ['apiUrl', 'MESH_API_URL'],
      ['callbackPort', 'AUTH0_CALLBACK_PORT'],
      ['tokenStore', 'MESH_TOKEN_STORE'],
    ]);
    expect(problems[0]?.error).toBeInstanceOf(ConfigError);
    expect(problems[0]?.error.message).toMatch(/MESH_API_URL is invalid: got "ftp:\/\/x"/);
    expect(config).toMatchObject({ apiUrl: 'https://mesh-abh5.onrender.com', callbackPort: 8000, tokenStore: 'auto' });
    expect(inspectConfig({ env: {}, timeout: -1 }).problems).toMatchObject([{ setting: 'timeout', variable: undefined }]);
    // resolveConfig throws the first of them.
    expect(configErrorOf(() => resolve({ MESH_API_URL: 'ftp://x', AUTH0_CALLBACK_PORT: 'abc' })).message).toMatch(/MESH_API_URL/);
  });

  it('selects the env store with MESH_TOKEN_FROM_ENV, and refuses a conflicting MESH_TOKEN_STORE', () => {
    expect(resolve({ MESH_TOKEN_FROM_ENV: 'true' }).tokenStore).toBe('env');
    expect(resolve({ MESH_TOKEN_STORE: 'Keychain' }).tokenStore).toBe('keychain');
    const error = configErrorOf(() => resolve({ MESH_TOKEN_FROM_ENV: 'yes', MESH_TOKEN_STORE: 'file' }));
    expect(error.message).toMatch(/conflicts/);
  });

  it('accepts a TokenStore object and refuses an object that is not one', () => {
    const store: TokenStore = {
      load: async () => null,
      save: async () => {},
      clear: async () => {},
      describe: () => 'test store',
    };
    expect(resolve({}, { tokenStore: store }).tokenStore).toBe(store);
    configErrorOf(() => resolve({}, { tokenStore: { load: () => null } as unknown as TokenStore }));
  });

  it('turns debug on for DEBUG=true/1/yes or a pattern naming mesh, and leaves it off for other libraries', () => {
    for (const on of ['true', '1', 'yes', 'y', 'Y', 'on', 'mesh*', 'express:*,mesh:http', '*'])
      expect(resolve({ DEBUG: on }).debug).toBe(true);
    for (const off of ['express:*', 'false', '0', '-mesh*']) expect(resolve({ DEBUG: off }).debug).toBe(false);
  });

  it('freezes the resolved configuration', () => {
    const config = resolve({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.auth0)).toBe(true);
  });

  it('is what MeshClient resolves at construction, failing there on a bad value', () => {
    expect(new MeshClient({ env: {}, apiUrl: 'http://127.0.0.1:1234' }).config.apiUrl).toBe('http://127.0.0.1:1234');
    expect(() => new MeshClient({ env: { AUTH0_CALLBACK_PORT: 'abc' } })).toThrow(ConfigError);
  });
});
