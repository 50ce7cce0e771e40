import type { TokenLock } from '../locks/token-lock.js';

/**
 * A token set as stored on disk, in the keychain and in the environment: snake_case JSON, the
 * same shape the Python SDK writes, so both SDKs can share `~/.mesh/token.json` and its keychain
 * slot. Fields this SDK does not know (the Python SDK's `expires_in`, anything newer) are not part
 * of this type, yet a set loaded from a store carries them along and writes them back.
 */
export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type?: string;
  /** Epoch seconds (always written as a number: the Python SDK compares it with `time.time()`). */
  expires_at: number;
  scope?: string;
  /**
   * Where the set came from: `"device_flow"` for a device login (the Python SDK's marker), which
   * makes a refresh send `client_type: "device"`; absent for a browser login.
   */
  auth_source?: string;
}

/**
 * Where tokens are kept. Implement this to keep them somewhere of your own (a vault, a database).
 *
 * @example
 * const store: TokenStore = {
 *   async load() { return JSON.parse(await vault.read('mesh')) },
 *   async save(tokens) { await vault.write('mesh', JSON.stringify(tokens)) },
 *   async clear() { await vault.delete('mesh') },
 *   describe() { return 'my vault' },
 * };
 */
export interface TokenStore {
  /** The stored token set, or null when there is none. */
  load(): Promise<TokenSet | null>;
  /** Stores `tokens` in place of any earlier set (after a login and after each refresh); rejects when it cannot. */
  save(tokens: TokenSet): Promise<void>;
  /** Removes the stored tokens (logout): `load()` then answers null. */
  clear(): Promise<void>;
  /** Where the tokens live, for status output, e.g. "file ~/.mesh/token.json". */
  describe(): string;
  /**
   * Every place this store keeps tokens, for logout and status (what a `clear()` empties), when
   * that is more than `describe()` names: a layered store lists the keychain and the file.
   * @default [describe()]
   */
  places?(): string[];
  /**
   * A store shared beyond this machine brings its own cross-process refresh lock (e.g. the Redis
   * store); the token manager uses it instead of the lock file beside the local stores.
   */
  readonly lock?: TokenLock;
  /**
   * The store keeps tokens in this process only (memory, the environment's refreshed set): nothing
   * it holds outlives the process, so a refresh records no intent in it (see refresh-intent.ts).
   * @default false
   */
  readonly inProcessOnly?: boolean;
}
