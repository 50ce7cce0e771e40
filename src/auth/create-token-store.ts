/**
 * The storage policy: which store a configuration gets, and where its cross-process lock lives.
 * `auto` = keychain, else file (headless: file only); `keychain` fails closed; `file`; `env`;
 * `memory`; or the user's own TokenStore.
 */
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import { detectHeadless, type HeadlessVerdict } from './headless.js';
import { RefreshLock } from './refresh-lock.js';
import { EnvStore } from './stores/env-store.js';
import { defaultTokenDirectory, FileStore, TOKEN_FILE_NAME } from './stores/file-store.js';
import { KeychainStore, type KeychainStoreOptions } from './stores/keychain-store.js';
import { LayeredStore } from './stores/layered-store.js';
import { MemoryStore } from './stores/memory-store.js';
import type { TokenSet, TokenStore } from './token-store.js';

export interface TokenStoreDependencies {
  env?: Readonly<Record<string, string | undefined>>;
  logger?: InternalLogger;
  /** Directory for token.json and its lock. @default config.tokenDirectory, else ~/.mesh */
  tokenDirectory?: string;
  /** Keychain details (helper environment, time bound, chunk size) for tests and unusual platforms. */
  keychain?: Partial<KeychainStoreOptions>;
  onTokensRefreshed?: (tokens: TokenSet) => void;
}

export interface TokenStoreSelection {
  store: TokenStore;
  /** A lock for processes sharing the store; none for memory, env and user stores. */
  lock: RefreshLock | undefined;
  headless: HeadlessVerdict;
}

/** The keychain account for a backend: one per API origin, so a local stack never overwrites real tokens. */
export function keychainAccountFor(apiUrl: string): string {
  return `tokens@${new URL(apiUrl).host}`;
}

export function createTokenStore(config: ResolvedConfig, deps: TokenStoreDependencies = {}): TokenStoreSelection {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? silentLogger;
  const directory = deps.tokenDirectory ?? config.tokenDirectory ?? defaultTokenDirectory();
  const headless = detectHeadless(config.headless, { env });
  const lock = new RefreshLock(join(directory, `${TOKEN_FILE_NAME}.lock`));
  const file = () => new FileStore({ directory, logger });
  const keychain = () => new KeychainStore({ account: keychainAccountFor(config.apiUrl), logger, ...deps.keychain });

  const choice = config.tokenStore;
  if (typeof choice === 'object') return { store: choice, lock: undefined, headless };
  switch (choice) {
    case 'memory':
      return { store: new MemoryStore(), lock: undefined, headless };
    case 'env':
      return { store: new EnvStore({ env, logger, onTokensRefreshed: deps.onTokensRefreshed }), lock: undefined, headless };
    case 'file':
      return { store: file(), lock, headless };
    case 'keychain':
      return { store: keychain(), lock, headless };
    case 'auto':
      logger.debug(`Headless: ${headless.headless} (${headless.reason}).`);
      return { store: headless.headless ? file() : new LayeredStore(keychain(), file(), logger), lock, headless };
  }
}
