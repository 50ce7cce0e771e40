import type { TokenStore } from '../auth/token-store.js';
import { ConfigError } from '../errors/mesh-error.js';
import { describeSecret } from '../internal/redact.js';
import type { Logger, MeshClientOptions } from './options.js';
import { booleanValue, debugFromEnv, type TokenStoreKind, tokenStoreKindValue, type ValueParser } from './parsers.js';
import { SETTINGS, type Setting } from './settings.js';

/** Where a resolved value came from; `status` and `doctor` show it. */
export type ConfigSource = 'option' | 'env' | 'default' | 'backend';

/** Configuration after resolution: every value checked, defaults applied, frozen. */
export interface ResolvedConfig {
  readonly apiUrl: string;
  readonly auth0: { readonly domain: string; readonly clientId: string; readonly audience: string };
  readonly callbackPort: number;
  readonly autoRefresh: boolean;
  readonly refreshAheadSeconds: number;
  /** undefined: detect (display, SSH, container, CI) when it matters. */
  readonly headless: boolean | undefined;
  readonly tokenStore: TokenStoreKind | TokenStore;
  /** Directory of token.json and its lock; undefined: ~/.mesh. */
  readonly tokenDirectory: string | undefined;
  readonly extendedTokenLifetime: boolean;
  readonly apiKey: string | undefined;
  readonly debug: boolean;
  readonly logger: Logger | undefined;
  readonly timeout: number;
  readonly maxRetries: number;
  /** The source of each setting, keyed by option path (`auth0.domain`, `tokenStore`, ...). */
  readonly sources: Readonly<Record<string, ConfigSource>>;
}

type Env = Readonly<Record<string, string | undefined>>;

function optionAt(options: MeshClientOptions, path: string): unknown {
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
  const shown = secret && typeof value === 'string' ? describeSecret(value) : JSON.stringify(value);
  return new ConfigError(`The ${where} is invalid: got ${shown}; expected ${expected}.`, {
    hint: `Fix or unset ${where}.`,
  });
}

function parse<T>(parser: ValueParser<T>, raw: unknown, where: string, secret?: boolean): T {
  const result = parser.schema.safeParse(raw);
  if (!result.success) throw invalid(where, raw, parser.expected, secret);
  return result.data;
}

function resolveSetting<T>(
  row: Setting<T>,
  options: MeshClientOptions,
  env: Env,
  sources: Record<string, ConfigSource>,
): T | undefined {
  const option = optionAt(options, row.option);
  if (option !== undefined) {
    sources[row.option] = 'option';
    return parse(row.parser, option, `option ${row.option}`, row.secret);
  }
  const fromEnv = envAt(env, row.env);
  if (fromEnv !== undefined) {
    sources[row.option] = 'env';
    return parse(row.parser, fromEnv, `environment variable ${row.env}`, row.secret);
  }
  sources[row.option] = 'default';
  return row.default;
}

function isTokenStore(value: unknown): value is TokenStore {
  const store = value as Partial<TokenStore> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.load === 'function' &&
    typeof store.save === 'function' &&
    typeof store.clear === 'function' &&
    typeof store.describe === 'function'
  );
}

function resolveTokenStore(options: MeshClientOptions, env: Env, sources: Record<string, ConfigSource>) {
  const option = options.tokenStore;
  if (option !== undefined) {
    sources.tokenStore = 'option';
    if (typeof option === 'object') {
      if (!isTokenStore(option)) {
        throw invalid('option tokenStore', '[object]', 'a store kind or an object with load, save, clear and describe');
      }
      return option;
    }
    return parse(tokenStoreKindValue, option, 'option tokenStore');
  }
  const kind = envAt(env, 'MESH_TOKEN_STORE');
  const fromEnvRaw = envAt(env, 'MESH_TOKEN_FROM_ENV');
  const fromEnv = fromEnvRaw === undefined ? false : parse(booleanValue, fromEnvRaw, 'environment variable MESH_TOKEN_FROM_ENV');
  if (kind !== undefined) {
    const parsed = parse(tokenStoreKindValue, kind, 'environment variable MESH_TOKEN_STORE');
    if (fromEnv && parsed !== 'env') {
      throw new ConfigError(`MESH_TOKEN_FROM_ENV=true conflicts with MESH_TOKEN_STORE=${parsed}.`, {
        hint: 'Unset one of them, or set MESH_TOKEN_STORE=env.',
      });
    }
    sources.tokenStore = 'env';
    return parsed;
  }
  sources.tokenStore = fromEnv ? 'env' : 'default';
  return fromEnv ? 'env' : 'auto';
}

function resolveDebug(options: MeshClientOptions, env: Env, sources: Record<string, ConfigSource>): boolean {
  if (options.debug !== undefined) {
    sources.debug = 'option';
    return parse(booleanValue, options.debug, 'option debug');
  }
  const raw = envAt(env, 'DEBUG');
  sources.debug = raw === undefined ? 'default' : 'env';
  return raw === undefined ? false : debugFromEnv(raw);
}

/**
 * Resolves every setting once: option, then environment, then default. The backend's
 * `/auth/config` step for the Auth0 settings happens at login, for those still at `default`.
 *
 * @throws ConfigError naming the option or variable, the value and what was expected.
 */
export function resolveConfig(options: MeshClientOptions = {}): ResolvedConfig {
  const env: Env = options.env ?? process.env;
  const sources: Record<string, ConfigSource> = {};
  const get = <T>(row: Setting<T>) => resolveSetting(row, options, env, sources);

  const config: ResolvedConfig = {
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
    tokenStore: resolveTokenStore(options, env, sources),
    tokenDirectory: get(SETTINGS.tokenDirectory),
    extendedTokenLifetime: get(SETTINGS.extendedTokenLifetime) as boolean,
    apiKey: get(SETTINGS.apiKey),
    debug: resolveDebug(options, env, sources),
    logger: options.logger,
    timeout: get(SETTINGS.timeout) as number,
    maxRetries: get(SETTINGS.maxRetries) as number,
    sources: Object.freeze(sources),
  };
  return Object.freeze(config);
}
