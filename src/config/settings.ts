import type { ValueParser } from './parsers.js';
import {
  apiKeyValue,
  apiUrlValue,
  auth0DomainValue,
  booleanValue,
  bytesValue,
  directoryValue,
  filePathValue,
  headlessValue,
  millisecondsValue,
  modelValue,
  nonEmptyValue,
  portValue,
  providerValue,
  redisKeyValue,
  retriesValue,
  sealingKeyValue,
  secondsValue,
} from './parsers.js';
import { DEFAULT_PROFILE, profileNameValue } from './profiles.js';

export const DEFAULT_API_URL = 'https://mesh-abh5.onrender.com';
export const DEFAULT_AUTH0_DOMAIN = 'dev-hzpwy8oqs2ojss6r.us.auth0.com';
export const DEFAULT_AUTH0_CLIENT_ID = 'Ky6gtf5PPUs1IpIFdm91ttQs4Oxpj0Nq';
export const DEFAULT_AUTH0_AUDIENCE = 'https://mesh-abh5.onrender.com';
/** The Python SDK's model defaults (config.py 1.5.5: DEFAULT_PROVIDER, DEFAULT_OPENAI_MODEL, DEFAULT_ANTHROPIC_MODEL). */
export const DEFAULT_PROVIDER = 'openai';
export const DEFAULT_OPENAI_MODEL = 'gpt-4o';
export const DEFAULT_ANTHROPIC_MODEL = 'claude-3-7-sonnet-20250219';

/** One row of the configuration table: option path, environment variable, parser and default. */
export interface Setting<T> {
  /** Dotted option path, e.g. `auth0.domain`. */
  readonly option: string;
  /** Its environment variable; with several, the first one set wins. */
  readonly env?: string | readonly string[];
  readonly parser: ValueParser<T>;
  readonly default: T | undefined;
  /** Never echo the value in an error. */
  readonly secret?: boolean;
}

function setting<T>(row: Setting<T>): Setting<T> {
  return row;
}

/**
 * The plain settings of architecture.md's configuration table. `tokenStore`, `debug` and
 * `logger` have rules of their own and are resolved beside these (see resolve.ts).
 */
export const SETTINGS = {
  // Resolved by rules of their own too (resolve.ts): the profile falls back to the user configuration
  // file's defaultProfile before its default, and the file's default path is the client's (~/.mesh).
  profile: setting({ option: 'profile', env: 'MESH_PROFILE', parser: profileNameValue, default: DEFAULT_PROFILE }),
  configFile: setting<string>({ option: 'configFile', env: 'MESH_CONFIG_FILE', parser: filePathValue, default: undefined }),
  apiUrl: setting({ option: 'apiUrl', env: 'MESH_API_URL', parser: apiUrlValue, default: DEFAULT_API_URL }),
  auth0Domain: setting({
    option: 'auth0.domain',
    env: 'AUTH0_DOMAIN',
    parser: auth0DomainValue,
    default: `https://${DEFAULT_AUTH0_DOMAIN}`,
  }),
  auth0ClientId: setting({
    option: 'auth0.clientId',
    env: 'AUTH0_CLIENT_ID',
    parser: nonEmptyValue,
    default: DEFAULT_AUTH0_CLIENT_ID,
  }),
  auth0Audience: setting({
    option: 'auth0.audience',
    env: 'AUTH0_AUDIENCE',
    parser: nonEmptyValue,
    default: DEFAULT_AUTH0_AUDIENCE,
  }),
  callbackPort: setting({ option: 'callbackPort', env: 'AUTH0_CALLBACK_PORT', parser: portValue, default: 8000 }),
  autoRefresh: setting({ option: 'autoRefresh', env: 'AUTO_REFRESH', parser: booleanValue, default: true }),
  refreshAheadSeconds: setting({
    option: 'refreshAheadSeconds',
    env: 'MESH_REFRESH_AHEAD_SECONDS',
    parser: secondsValue,
    default: 300,
  }),
  headless: setting<boolean | undefined>({ option: 'headless', env: 'MESH_HEADLESS', parser: headlessValue, default: undefined }),
  extendedTokenLifetime: setting({
    option: 'extendedTokenLifetime',
    env: 'MESH_EXTENDED_TOKEN_LIFETIME',
    parser: booleanValue,
    default: true,
  }),
  apiKey: setting<string>({
    option: 'apiKey',
    env: 'MESH_API_KEY',
    parser: apiKeyValue,
    default: undefined,
    secret: true,
  }),
  tokenDirectory: setting<string>({
    option: 'tokenDirectory',
    env: 'MESH_TOKEN_DIR',
    parser: directoryValue,
    default: undefined,
  }),
  // The Redis store's key; unset: one key per deployment (auth/stores/redis-store.ts defaultRedisKey).
  tokenStoreKey: setting<string>({
    option: 'tokenStoreKey',
    env: 'MESH_TOKEN_STORE_KEY',
    parser: redisKeyValue,
    default: undefined,
  }),
  tokenSealingKey: setting<string>({
    option: 'tokenSealingKey',
    env: 'MESH_TOKEN_KEY',
    parser: sealingKeyValue,
    default: undefined,
    secret: true,
  }),
  defaultProvider: setting({
    option: 'defaultProvider',
    env: 'DEFAULT_PROVIDER',
    parser: providerValue,
    default: DEFAULT_PROVIDER,
  }),
  // No default of its own: the default provider's model (see resolve.ts). DEFAULT_MODEL is what the
  // Python README 1.5.5 documents; its config.py reads only the per-provider variables below.
  defaultModel: setting<string>({ option: 'defaultModel', env: 'DEFAULT_MODEL', parser: modelValue, default: undefined }),
  // The _OVERRIDE variables win over the plain ones, as in config.py 1.5.5 get_default_model_with_override.
  defaultOpenaiModel: setting({
    option: 'defaultOpenaiModel',
    env: ['DEFAULT_OPENAI_MODEL_OVERRIDE', 'DEFAULT_OPENAI_MODEL'],
    parser: modelValue,
    default: DEFAULT_OPENAI_MODEL,
  }),
  defaultAnthropicModel: setting({
    option: 'defaultAnthropicModel',
    env: ['DEFAULT_ANTHROPIC_MODEL_OVERRIDE', 'DEFAULT_ANTHROPIC_MODEL'],
    parser: modelValue,
    default: DEFAULT_ANTHROPIC_MODEL,
  }),
  // The Python SDK's headless token file, used only when named (never found in the working directory).
  pythonTokenFile: setting<string>({
    option: 'pythonTokenFile',
    env: 'MESH_PYTHON_TOKEN_FILE',
    parser: filePathValue,
    default: undefined,
  }),
  timeout: setting({ option: 'timeout', parser: millisecondsValue, default: 60_000 }),
  maxRetries: setting({ option: 'maxRetries', parser: retriesValue, default: 2 }),
  maxResponseBytes: setting({ option: 'maxResponseBytes', parser: bytesValue, default: 32 * 1024 * 1024 }),
  streamIdleTimeout: setting({ option: 'streamIdleTimeout', parser: millisecondsValue, default: 60_000 }),
} as const;
