import { ConfigError } from '../errors/mesh-error.js';
import type { Logger } from '../internal/logger.js';
import { describeSecret } from '../internal/redact.js';
import type { ConfigInput, CustomTokenStore } from './options.js';
import {
  booleanValue,
  debugFromEnv,
  looksLikeRedisUrl,
  maskedRedisUrl,
  REDIS_URL_FORM,
  type ResolvedTokenStoreKind,
  redisUrlValue,
  showRedisUrl,
  showValueSafely,
  tokenStoreKindValue,
  type ValueParser,
} from './parsers.js';
import { DEFAULT_PROFILE, noUserConfig, PROFILE_SETTING_KEYS, parseUserConfig, type UserConfig } from './profiles.js';
import { SETTINGS, type Setting } from './settings.js';

/**
 * Where a resolved value came from; `status` and `doctor` show it. `file`: the user configuration
 * file (`~/.mesh/config.json`): the profile's settings there, or its `defaultProfile`.
 */
export type ConfigSource = 'option' | 'env' | 'file' | 'default' | 'backend';

/**
 * How the user configuration file is found and read: given by the client layer (config-file.ts,
 * Node), never read by this module itself, so that mesh-sdk/server resolves settings without a
 * file system. Without a reader there is no file: only options, environment and defaults.
 */
export interface ConfigFileReader {
  /** The file when neither `configFile` nor `MESH_CONFIG_FILE` names one (`~/.mesh/config.json`). */
  defaultPath(): string;
  /** Its text, or undefined when there is none. @throws ConfigError for a file not to trust */
  read(path: string): string | undefined;
}

/** Configuration after resolution: every value checked, defaults applied, frozen. */
export interface ResolvedConfig {
  /**
   * The profile: whose tokens, lock and settings this client uses (`default`: the storage of a
   * client that names none). Resolved once; nothing changes it later. `sources.profile` says where
   * it came from (`file`: the configuration file's `defaultProfile`, set by `mesh-auth use`).
   */
  readonly profile: string;
  /** The user configuration file read (whether or not it exists); undefined when none was read. */
  readonly configFile: string | undefined;
  readonly apiUrl: string;
  readonly auth0: { readonly domain: string; readonly clientId: string; readonly audience: string };
  readonly callbackPort: number;
  readonly autoRefresh: boolean;
  readonly refreshAheadSeconds: number;
  /** undefined: detect (display, SSH, container, CI) when it matters. */
  readonly headless: boolean | undefined;
  /** A store kind (`redis`: the URL is `tokenStoreUrl`), or the user's own store object (used by the auth layer as a `TokenStore`). */
  readonly tokenStore: ResolvedTokenStoreKind | CustomTokenStore;
  /**
   * With `tokenStore: 'redis'`: the Redis URL. It may hold a password: show it only redacted
   * (the store's `describe()` does).
   */
  readonly tokenStoreUrl: string | undefined;
  /** The Redis key of the token set; undefined: one key per deployment (API URL + audience). */
  readonly tokenStoreKey: string | undefined;
  /** 64 hex characters: the shared store seals the token set with it (AES-256-GCM). A secret. */
  readonly tokenSealingKey: string | undefined;
  /**
   * `MESH_TOKEN_FROM_ENV=true` with a Redis store: the first instance to find the key empty writes
   * the environment's tokens into it; afterwards every instance uses what Redis holds.
   */
  readonly seedFromEnv: boolean;
  /** Directory of token.json and its lock; undefined: ~/.mesh. */
  readonly tokenDirectory: string | undefined;
  readonly extendedTokenLifetime: boolean;
  readonly apiKey: string | undefined;
  readonly debug: boolean;
  readonly logger: Logger | undefined;
  /** The provider a chat names when the caller names none (lower case). */
  readonly defaultProvider: string;
  /** The model a chat names when the caller names neither model nor provider: the default provider's model. */
  readonly defaultModel: string;
  /** The model for `provider: 'openai'` (and, as in the Python SDK, for a provider it has no default for). */
  readonly defaultOpenaiModel: string;
  /** The model for `provider: 'anthropic'`. */
  readonly defaultAnthropicModel: string;
  /** The Python SDK's headless token file to share (`MESH_PYTHON_TOKEN_FILE`); undefined: none, never one found in the working directory. */
  readonly pythonTokenFile: string | undefined;
  readonly timeout: number;
  readonly maxRetries: number;
  /** The largest reply body (or stream) read, bytes. */
  readonly maxResponseBytes: number;
  /** How long a stream may send nothing but keep-alives, ms. */
  readonly streamIdleTimeout: number;
  /** The source of each setting, keyed by option path (`auth0.domain`, `tokenStore`, ...). */
  readonly sources: Readonly<Record<string, ConfigSource>>;
}

/** One invalid setting found by `inspectConfig`. */
export interface ConfigProblem {
  /** The option path (`apiUrl`, `auth0.domain`, ...). */
  readonly setting: string;
  /** The environment variable that held the bad value; undefined when it was an option. */
  readonly variable: string | undefined;
  readonly error: ConfigError;
}

/** Every problem at once, and the configuration with each bad value replaced by its default. */
export interface ConfigReport {
  readonly config: ResolvedConfig;
  readonly problems: readonly ConfigProblem[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** Which environment variable each ConfigError raised here is about (for `inspectConfig`). */
const VARIABLE_OF = new WeakMap<ConfigError, string>();

function aboutVariable(error: ConfigError, variable: string | undefined): ConfigError {
  if (variable !== undefined) VARIABLE_OF.set(error, variable);
  return error;
}

function optionAt(options: ConfigInput, path: string): unknown {
  let value: unknown = options;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

/** An env var set to the empty string counts as unset, as `docker run -e VAR=` produces. */
function envAt(env: Env, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

function invalid(where: string, value: unknown, expected: string, secret = false): ConfigError {
  const shown = secret && typeof value === 'string' ? describeSecret(value) : showValueSafely(value);
  return new ConfigError(`The ${where} is invalid: got ${shown}; expected ${expected}.`, {
    hint: `Fix or unset ${where}.`,
  });
}

function parse<T>(parser: ValueParser<T>, raw: unknown, where: string, secret?: boolean, variable?: string): T {
  const result = parser.parse(raw);
  if (!result.ok) throw aboutVariable(invalid(where, raw, parser.expected, secret), variable);
  return result.value;
}

/** Parses the value of environment variable `name`. */
function parseEnv<T>(parser: ValueParser<T>, raw: string, name: string, secret?: boolean): T {
  return parse(parser, raw, `environment variable ${name}`, secret, name);
}

function envNames(row: Setting<unknown>): readonly string[] {
  if (row.env === undefined) return [];
  return typeof row.env === 'string' ? [row.env] : row.env;
}

/** A profile's value for a setting in the configuration file, and how an error names it. */
type FileValue = { raw: unknown; where: string } | undefined;
type FileLookup = (row: Setting<unknown>) => FileValue;
const NO_FILE: FileLookup = () => undefined;

function resolveSetting<T>(
  row: Setting<T>,
  options: ConfigInput,
  env: Env,
  sources: Record<string, ConfigSource>,
  file: FileLookup = NO_FILE,
): T | undefined {
  const option = optionAt(options, row.option);
  if (option !== undefined) {
    sources[row.option] = 'option';
    return parse(row.parser, option, `option ${row.option}`, row.secret);
  }
  for (const name of envNames(row as Setting<unknown>)) {
    const fromEnv = envAt(env, name);
    if (fromEnv === undefined) continue;
    sources[row.option] = 'env';
    return parseEnv(row.parser, fromEnv, name, row.secret);
  }
  const fromFile = file(row as Setting<unknown>);
  if (fromFile !== undefined) {
    sources[row.option] = 'file';
    return parse(row.parser, fromFile.raw, fromFile.where, row.secret);
  }
  sources[row.option] = 'default';
  return row.default;
}

/** The user configuration file's path: `configFile`, `MESH_CONFIG_FILE`, else the reader's default. */
function resolveConfigFile(
  options: ConfigInput,
  env: Env,
  sources: Record<string, ConfigSource>,
  reader: ConfigFileReader | undefined,
): string | undefined {
  const named = resolveSetting(SETTINGS.configFile, options, env, sources);
  return named ?? reader?.defaultPath();
}

/** The profile: option, `MESH_PROFILE`, the file's `defaultProfile`, else `default`. */
function resolveProfile(options: ConfigInput, env: Env, sources: Record<string, ConfigSource>, file: UserConfig): string {
  return (
    resolveSetting(SETTINGS.profile, options, env, sources, () =>
      file.defaultProfile === undefined ? undefined : { raw: file.defaultProfile, where: `"defaultProfile" in ${file.path}` },
    ) ?? DEFAULT_PROFILE
  );
}

/** The lookup of a profile's settings in the file, by the settings table's names. */
function profileLookup(file: UserConfig, profile: string): FileLookup {
  const settings = file.profiles[profile];
  if (settings === undefined) return NO_FILE;
  const table = SETTINGS as Record<string, Setting<unknown>>;
  return (row) => {
    const key = PROFILE_SETTING_KEYS.find((name) => table[name] === row);
    if (key === undefined || settings[key] === undefined) return undefined;
    return { raw: settings[key], where: `setting "profiles.${profile}.${key}" in ${file.path}` };
  };
}

function isTokenStore(value: unknown): value is CustomTokenStore {
  const store = value as Partial<CustomTokenStore> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.load === 'function' &&
    typeof store.save === 'function' &&
    typeof store.clear === 'function' &&
    typeof store.describe === 'function'
  );
}

interface TokenStoreChoice {
  kind: ResolvedTokenStoreKind | CustomTokenStore;
  url?: string;
  seedFromEnv?: boolean;
}

/** A `tokenStore` string: a Redis URL (the password never shown in the error), or a kind. */
function parseStoreChoice(raw: unknown, where: string, variable?: string): TokenStoreChoice {
  if (typeof raw === 'string' && looksLikeRedisUrl(raw)) {
    const result = redisUrlValue.parse(raw);
    if (!result.ok) {
      const error = new ConfigError(`The ${where} is invalid: got ${showRedisUrl(raw)}; expected ${REDIS_URL_FORM}.`, {
        hint: `Fix ${where}: redis://[user:password@]host:port/db (rediss:// for TLS), or unset it.`,
      });
      throw aboutVariable(error, variable);
    }
    return { kind: 'redis', url: result.value };
  }
  return { kind: parse(tokenStoreKindValue, raw, where, false, variable) };
}

function resolveTokenStore(
  options: ConfigInput,
  env: Env,
  sources: Record<string, ConfigSource>,
  file: FileValue,
): TokenStoreChoice {
  const fromEnvRaw = envAt(env, 'MESH_TOKEN_FROM_ENV');
  const fromEnv = () => (fromEnvRaw === undefined ? false : parseEnv(booleanValue, fromEnvRaw, 'MESH_TOKEN_FROM_ENV'));
  const option = options.tokenStore;
  if (option !== undefined) {
    sources.tokenStore = 'option';
    if (typeof option === 'object') {
      if (!isTokenStore(option)) {
        throw invalid('option tokenStore', '[object]', 'a store kind or an object with load, save, clear and describe');
      }
      return { kind: option };
    }
    const choice = parseStoreChoice(option, 'option tokenStore');
    return choice.kind === 'redis' ? { ...choice, seedFromEnv: fromEnv() } : choice;
  }
  const kind = envAt(env, 'MESH_TOKEN_STORE');
  const seed = fromEnv();
  if (kind !== undefined) {
    const choice = parseStoreChoice(kind, 'environment variable MESH_TOKEN_STORE', 'MESH_TOKEN_STORE');
    sources.tokenStore = 'env';
    // With a shared store, the environment's tokens are a seed for an empty key, not a rival store.
    if (choice.kind === 'redis') return { ...choice, seedFromEnv: seed };
    if (seed && choice.kind !== 'env') {
      const conflict = new ConfigError(`MESH_TOKEN_FROM_ENV=true conflicts with MESH_TOKEN_STORE=${choice.kind}.`, {
        hint: 'Unset one of them, or set MESH_TOKEN_STORE=env (or a redis:// URL, which the tokens then seed).',
      });
      throw aboutVariable(conflict, 'MESH_TOKEN_STORE');
    }
    return choice;
  }
  if (!seed && file !== undefined) {
    sources.tokenStore = 'file';
    const choice = parseStoreChoice(file.raw, file.where);
    return choice.kind === 'redis' ? { ...choice, seedFromEnv: false } : choice;
  }
  sources.tokenStore = seed ? 'env' : 'default';
  return { kind: seed ? 'env' : 'auto' };
}

function resolveDebug(options: ConfigInput, env: Env, sources: Record<string, ConfigSource>): boolean {
  if (options.debug !== undefined) {
    sources.debug = 'option';
    return parse(booleanValue, options.debug, 'option debug');
  }
  const raw = envAt(env, 'DEBUG');
  sources.debug = raw === undefined ? 'default' : 'env';
  return raw === undefined ? false : debugFromEnv(raw);
}

/**
 * The model for a provider when the caller names the provider but no model: the Python SDK's
 * `get_default_model(provider)` (config.py 1.5.5), which falls back to the OpenAI default for a
 * provider it has none for.
 *
 * @example
 * defaultModelFor(client.config, 'anthropic'); // 'claude-3-7-sonnet-20250219' unless configured
 */
export function defaultModelFor(
  config: Pick<ResolvedConfig, 'defaultOpenaiModel' | 'defaultAnthropicModel'>,
  provider: string,
): string {
  return provider.trim().toLowerCase() === 'anthropic' ? config.defaultAnthropicModel : config.defaultOpenaiModel;
}

/**
 * Resolves every setting and collects every invalid one instead of stopping at the first; each bad
 * value is replaced by its default in `config`. For diagnostics (`mesh-auth doctor`): a client is
 * built with `resolveConfig`, which throws.
 */
export function inspectConfig(options: ConfigInput = {}, reader?: ConfigFileReader): ConfigReport {
  const env: Env = options.env ?? process.env;
  const sources: Record<string, ConfigSource> = {};
  const problems: ConfigProblem[] = [];

  function guarded<T>(setting: string, fallback: T, run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push({ setting, variable: VARIABLE_OF.get(error), error });
      sources[setting] = 'default';
      return fallback;
    }
  }
  // The file first: the profile's name may come from it, and the profile's settings do.
  const configFile = guarded('configFile', undefined, () => resolveConfigFile(options, env, sources, reader));
  const userConfig =
    reader === undefined || configFile === undefined
      ? noUserConfig(configFile ?? '')
      : guarded('configFile', noUserConfig(configFile), () => parseUserConfig(reader.read(configFile), configFile));
  const profile = guarded('profile', DEFAULT_PROFILE, () => resolveProfile(options, env, sources, userConfig));
  const fromFile = profileLookup(userConfig, profile);

  const get = <T>(row: Setting<T>) =>
    guarded(row.option, row.default, () => resolveSetting(row, options, env, sources, fromFile)) as T | undefined;

  const defaultProvider = get(SETTINGS.defaultProvider) as string;
  const defaultOpenaiModel = get(SETTINGS.defaultOpenaiModel) as string;
  const defaultAnthropicModel = get(SETTINGS.defaultAnthropicModel) as string;
  const defaultModel =
    get(SETTINGS.defaultModel) ?? defaultModelFor({ defaultOpenaiModel, defaultAnthropicModel }, defaultProvider);

  // Resolved in the literal below, in table order, so that problems come in the order of the settings.
  let store: TokenStoreChoice = { kind: 'auto' };
  const storeChoice = () => {
    const inFile = userConfig.profiles[profile]?.tokenStore;
    const file: FileValue =
      inFile === undefined ? undefined : { raw: inFile, where: `setting "profiles.${profile}.tokenStore" in ${userConfig.path}` };
    store = guarded<TokenStoreChoice>('tokenStore', store, () => resolveTokenStore(options, env, sources, file));
    return store.kind;
  };

  const config: ResolvedConfig = {
    profile,
    configFile,
    apiUrl: get(SETTINGS.apiUrl) as string,
    auth0: Object.freeze({
      domain: get(SETTINGS.auth0Domain) as string,
      clientId: get(SETTINGS.auth0ClientId) as string,
      audience: get(SETTINGS.auth0Audience) as string,
    }),
    callbackPort: get(SETTINGS.callbackPort) as number,
    autoRefresh: get(SETTINGS.autoRefresh) as boolean,
    refreshAheadSeconds: get(SETTINGS.refreshAheadSeconds) as number,
    headless: get(SETTINGS.headless),
    tokenStore: storeChoice(),
    tokenStoreUrl: store.url,
    tokenStoreKey: get(SETTINGS.tokenStoreKey),
    tokenSealingKey: get(SETTINGS.tokenSealingKey),
    seedFromEnv: store.seedFromEnv ?? false,
    tokenDirectory: get(SETTINGS.tokenDirectory),
    extendedTokenLifetime: get(SETTINGS.extendedTokenLifetime) as boolean,
    apiKey: get(SETTINGS.apiKey),
    debug: guarded('debug', false, () => resolveDebug(options, env, sources)),
    logger: options.logger,
    defaultProvider,
    defaultModel,
    defaultOpenaiModel,
    defaultAnthropicModel,
    pythonTokenFile: get(SETTINGS.pythonTokenFile),
    timeout: get(SETTINGS.timeout) as number,
    maxRetries: get(SETTINGS.maxRetries) as number,
    maxResponseBytes: get(SETTINGS.maxResponseBytes) as number,
    streamIdleTimeout: get(SETTINGS.streamIdleTimeout) as number,
    sources: Object.freeze(sources),
  };
  return Object.freeze({ config: Object.freeze(withSecretsHidden(config)), problems: Object.freeze(problems) });
}

/** What `console.log(config)`, `util.inspect` and `JSON.stringify` show of a configuration: its secrets hidden. */
export function shownConfig(config: ResolvedConfig): Record<string, unknown> {
  const { logger: _logger, ...rest } = config;
  return {
    ...rest,
    apiKey: config.apiKey === undefined ? undefined : 'mesh_[REDACTED]',
    tokenSealingKey: config.tokenSealingKey === undefined ? undefined : '[REDACTED]',
    tokenStoreUrl: config.tokenStoreUrl === undefined ? undefined : (maskedRedisUrl(config.tokenStoreUrl) ?? '[REDACTED]'),
    tokenStore: typeof config.tokenStore === 'object' ? '[custom store]' : config.tokenStore,
  };
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The configuration with `toJSON` and Node's inspect hook (both non-enumerable) answering
 * `shownConfig`: the API key, the sealing key and the Redis password stay out of logs, snapshots
 * and `console.log(client)`, while code reading `config.apiKey` still gets the value.
 */
function withSecretsHidden(config: ResolvedConfig): ResolvedConfig {
  const shown = () => shownConfig(config);
  Object.defineProperty(config, 'toJSON', { value: shown, enumerable: false });
  Object.defineProperty(config, INSPECT, {
    value: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) => inspect(shown(), options),
    enumerable: false,
  });
  return config;
}

/**
 * Resolves every setting once: option, then environment, then (with a `reader`) the profile's
 * settings in the user configuration file, then default. The backend's `/auth/config` step for the
 * Auth0 settings happens at login, for those still at `default`.
 *
 * @throws ConfigError naming the option or variable, the value and what was expected.
 * @example
 * const config = resolveConfig({ env: { MESH_API_URL: 'https://mesh.example.com' } });
 * config.apiUrl; // 'https://mesh.example.com'
 */
export function resolveConfig(options: ConfigInput = {}, reader?: ConfigFileReader): ResolvedConfig {
  const { config, problems } = inspectConfig(options, reader);
  if (problems[0]) throw problems[0].error;
  return config;
}
