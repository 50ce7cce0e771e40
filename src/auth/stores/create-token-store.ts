/**
 * The storage policy: which store a configuration gets, and where its cross-process lock lives.
 * `auto` = keychain, else file (headless: file only), then the Python SDK's headless token file
 * when one is named (`MESH_PYTHON_TOKEN_FILE`; never one found in the working directory);
 * `keychain` fails closed; `file` (+ the named Python file); `env`; `memory`;
 * `redis` (a fleet's shared store, which brings its own lock; seeded from the environment's tokens
 * with `MESH_TOKEN_FROM_ENV=true`); or the user's own TokenStore (its own `lock`, if it has one, is
 * used by the composition root).
 *
 * Profiles (issue 23): the `default` profile is exactly the storage of a client that names none.
 * A named profile `<name>` has its own place in every store: `<dir>/profiles/<name>/token.json`
 * (and its lock beside it), keychain account `<name>` (`<name>@<api host>` off the default
 * deployment), and a Redis key ending in `:profile:<name>`. The name was checked at resolution
 * (letters, digits, `.`, `_`, `-`; never `.` or `..`), so it is one path segment.
 */

import { join, resolve } from 'node:path';
import { DEFAULT_PROFILE } from '../../config/profiles.js';
import type { ResolvedConfig } from '../../config/resolve.js';
import { requireLocalMachine } from '../../config/runtime.js';
import { DEFAULT_API_URL, DEFAULT_AUTH0_AUDIENCE, DEFAULT_AUTH0_CLIENT_ID, DEFAULT_AUTH0_DOMAIN } from '../../config/settings.js';
import { detectHeadless, type HeadlessVerdict } from '../../internal/headless.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import { RefreshLock } from '../locks/refresh-lock.js';
import { EnvStore } from './env-store.js';
import { defaultTokenDirectory, FileStore, TOKEN_FILE_NAME } from './file-store.js';
import { KeychainStore, type KeychainStoreOptions, PYTHON_KEYCHAIN_ACCOUNT } from './keychain-store.js';
import { LayeredStore } from './layered-store.js';
import { MemoryStore } from './memory-store.js';
import { PythonTokenFile } from './python-token-file.js';
import { defaultRedisKey, type RedisTokenStore, redisTokenStore } from './redis-store.js';
import type { TokenSet, TokenStore } from './token-store.js';

export interface TokenStoreDependencies {
  env?: Readonly<Record<string, string | undefined>>;
  logger?: InternalLogger;
  /** Directory for token.json and its lock. @default config.tokenDirectory, else ~/.mesh */
  tokenDirectory?: string;
  /** Keychain details (helper environment, time bound, chunk size, account) for tests and unusual platforms. */
  keychain?: Partial<KeychainStoreOptions>;
  onTokensRefreshed?: (tokens: TokenSet) => void;
}

export interface TokenStoreSelection {
  store: TokenStore;
  /** The profile's token directory (its file store's and lock's), whichever store is used. */
  directory: string;
  /**
   * The lock file for processes sharing a local store; none for memory, env, Redis and user stores
   * (a store that brings its own `lock`, as the Redis store does, is locked with that one).
   */
  lock: RefreshLock | undefined;
  headless: HeadlessVerdict;
}

/** A per-deployment keychain account: one per API origin, so a local stack never overwrites real tokens. */
export function keychainAccountFor(apiUrl: string): string {
  return `tokens@${new URL(apiUrl).host}`;
}

function hostOf(value: string): string {
  try {
    return new URL(value.includes('://') ? value : `https://${value}`).host.toLowerCase();
  } catch {
    return value.toLowerCase();
  }
}

/**
 * Whether a configuration talks to the deployed Mesh (default API URL and Auth0 settings): then
 * its tokens are the Python SDK's too, and they share its keychain slot.
 */
export function isDefaultDeployment(config: Pick<ResolvedConfig, 'apiUrl' | 'auth0'>): boolean {
  const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  return (
    sameUrl(config.apiUrl, DEFAULT_API_URL) &&
    hostOf(config.auth0.domain) === hostOf(DEFAULT_AUTH0_DOMAIN) &&
    config.auth0.clientId === DEFAULT_AUTH0_CLIENT_ID &&
    sameUrl(config.auth0.audience, DEFAULT_AUTH0_AUDIENCE)
  );
}

type ProfileOf = Partial<Pick<ResolvedConfig, 'profile'>>;

function namedProfile(config: ProfileOf): string | undefined {
  return config.profile === undefined || config.profile === DEFAULT_PROFILE ? undefined : config.profile;
}

/**
 * The keychain slot of a configuration. The `default` profile: the Python SDK's (service
 * `mesh-sdk`, account `default`, token_manager.py 1.5.4) for the default deployment, else
 * `tokens@<api host>`. A named profile: account `<name>` for the default deployment, else
 * `<name>@<api host>` (as for the default profile, a local stack never overwrites real tokens);
 * never shared with the Python SDK, which knows only `default`.
 */
export function keychainSlotFor(config: Pick<ResolvedConfig, 'apiUrl' | 'auth0'> & ProfileOf): {
  account: string;
  shared: boolean;
} {
  const profile = namedProfile(config);
  if (profile !== undefined) {
    return { account: isDefaultDeployment(config) ? profile : `${profile}@${new URL(config.apiUrl).host}`, shared: false };
  }
  return isDefaultDeployment(config)
    ? { account: PYTHON_KEYCHAIN_ACCOUNT, shared: true }
    : { account: keychainAccountFor(config.apiUrl), shared: false };
}

/**
 * The Redis key of a configuration: `tokenStoreKey` (taken as given, profile or not), else one per
 * deployment (API URL + audience) and, for a named profile, `:profile:<name>` after it.
 */
export function redisKeyFor(config: Pick<ResolvedConfig, 'apiUrl' | 'auth0' | 'tokenStoreKey'> & ProfileOf): string {
  if (config.tokenStoreKey !== undefined) return config.tokenStoreKey;
  const profile = namedProfile(config);
  const key = defaultRedisKey(config.apiUrl, config.auth0.audience);
  return profile === undefined ? key : `${key}:profile:${profile}`;
}

/**
 * The directory of a profile's `token.json` and lock: `base` (MESH_TOKEN_DIR, else `~/.mesh`) for
 * the default profile, `<base>/profiles/<name>` for a named one.
 */
export function tokenDirectoryFor(config: ProfileOf, base: string): string {
  const profile = namedProfile(config);
  return profile === undefined ? base : join(base, PROFILES_DIRECTORY, profile);
}

/** The folder of the named profiles' token directories, inside the token directory. */
export const PROFILES_DIRECTORY = 'profiles';

/**
 * The Redis store of a configuration with `tokenStore: 'redis'` (URL, key, sealing key, and the
 * environment's tokens as the seed of an empty key when `MESH_TOKEN_FROM_ENV=true`).
 */
export function redisStoreFor(
  config: ResolvedConfig,
  deps: Pick<TokenStoreDependencies, 'env' | 'logger'> & { connectTimeoutMs?: number; commandTimeoutMs?: number } = {},
): RedisTokenStore {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? silentLogger;
  return redisTokenStore({
    url: config.tokenStoreUrl,
    key: redisKeyFor(config),
    sealingKey: config.tokenSealingKey,
    logger,
    connectTimeoutMs: deps.connectTimeoutMs,
    commandTimeoutMs: deps.commandTimeoutMs,
    seed: config.seedFromEnv ? () => new EnvStore({ env, logger }).load() : undefined,
  });
}

export function createTokenStore(config: ResolvedConfig, deps: TokenStoreDependencies = {}): TokenStoreSelection {
  if (config.tokenStore === 'auto') {
    requireLocalMachine('Keeping a login (the keychain, else ~/.mesh/token.json)', 'a file system and a keychain');
  }
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? silentLogger;
  const directory = tokenDirectoryFor(config, deps.tokenDirectory ?? config.tokenDirectory ?? defaultTokenDirectory());
  const headless = detectHeadless(config.headless, { env });
  const lock = new RefreshLock(join(directory, `${TOKEN_FILE_NAME}.lock`));
  // The default directory is refused inside a git work tree that does not ignore it; a named one is the user's choice.
  const named = deps.tokenDirectory !== undefined || config.tokenDirectory !== undefined;
  const file = () => new FileStore({ directory, logger, refuseInWorkTree: !named });
  const keychain = () => new KeychainStore({ ...keychainSlotFor(config), logger, ...deps.keychain });
  const acceptOpaque = isDefaultDeployment(config);
  // Only a file the user named: no directory the process did not choose decides the account.
  // The Python SDK knows one login per machine: its file backs the default profile only, so a named
  // profile never reads (or writes back to) the Python login when MESH_PYTHON_TOKEN_FILE is exported.
  const imports = () =>
    config.pythonTokenFile === undefined || namedProfile(config) !== undefined
      ? []
      : [new PythonTokenFile({ path: resolve(config.pythonTokenFile), audience: config.auth0.audience, acceptOpaque, logger })];

  const choice = config.tokenStore;
  if (typeof choice === 'object') return { store: choice as TokenStore, lock: undefined, headless, directory };
  switch (choice) {
    case 'memory':
      return { store: new MemoryStore(), lock: undefined, headless, directory };
    case 'redis':
      // Its lock is the store's own (`store.lock`, the fleet-wide Redis lease): the composition root uses it.
      return { store: redisStoreFor(config, { env, logger }), lock: undefined, headless, directory };
    case 'env':
      return {
        store: new EnvStore({ env, logger, onTokensRefreshed: deps.onTokensRefreshed }),
        lock: undefined,
        headless,
        directory,
      };
    case 'file':
      return { store: new LayeredStore(undefined, file(), logger, imports()), lock, headless, directory };
    case 'keychain':
      return { store: keychain(), lock, headless, directory };
    case 'auto':
      return {
        store: new LayeredStore(headless.headless ? undefined : keychain(), file(), logger, imports()),
        lock,
        headless,
        directory,
      };
  }
}
