/**
 * The fleet token store (issue 14): one token set in Redis shared by every instance of a
 * deployment, with a distributed refresh lock (`RedisLock`) and fencing. The record is versioned
 * and written only by compare-and-set on the version last read, so an instance whose lock lease
 * ran out mid-refresh cannot overwrite the newer set another instance wrote meanwhile: its save is
 * refused with `TokenStoreConflictError` and the token manager adopts the newer set. Optionally
 * sealed with AES-256-GCM (`MESH_TOKEN_KEY`).
 *
 * Seeding (`seed`, what `MESH_TOKEN_FROM_ENV=true` with a Redis URL wires): a store whose first read
 * finds the key absent writes the seed by compare-and-set against "absent", so exactly one instance
 * of a fleet seeds it and the others read what that one wrote; once a store has seen a record (or
 * saved, or cleared), it never seeds again, so stale environment tokens never replace a live set.
 *
 * Record under the key (JSON): `{"format":1,"version":N,"tokens":{...}}`, or
 * `{"format":1,"version":N,"sealed":{"kid","iv","tag","data"}}`. Anything else under the key is
 * reported as a typed error and never overwritten.
 */

import { createHash } from 'node:crypto';
import { requireLocalMachine } from '../../config/runtime.js';
import { DEFAULT_API_URL, DEFAULT_AUTH0_AUDIENCE } from '../../config/settings.js';
import { ErrorCode } from '../../errors/codes.js';
import { ConfigError, MeshError } from '../../errors/mesh-error.js';
import { isObject } from '../../internal/json-text.js';
import { createLogger, type InternalLogger } from '../../internal/logger.js';
import { RedisLock } from '../locks/redis-lock.js';
import type { TokenLock } from '../locks/token-lock.js';
import { parseStoredTokenSet, TokenSetFormatError, tokenSetJson } from '../tokens/token-set.js';
import { type RedisClientLike, RedisConnection, type RedisModuleLike, RedisReplyError } from './redis-connection.js';
import { parseSealingKey, type SealedData, type SealingKey, seal, unseal } from './seal.js';
import type { TokenSet, TokenStore } from './token-store.js';
import { TokenStoreConflictError } from './token-store-conflict.js';

export type { RedisClientLike } from './redis-connection.js';
export { TokenStoreConflictError } from './token-store-conflict.js';

export const REDIS_KEY_PREFIX = 'mesh-sdk:tokens:';
const RECORD_FORMAT = 1;
const WRONG_TYPE = 'it is not a string value (another program uses this key)';

/** One key per deployment: `mesh-sdk:tokens:` + the first 16 hex of sha256(apiUrl + "\n" + audience). */
export function defaultRedisKey(apiUrl: string, audience: string): string {
  return REDIS_KEY_PREFIX + createHash('sha256').update(`${apiUrl}\n${audience}`).digest('hex').slice(0, 16);
}

/** Options of `redisTokenStore`: where Redis is, the key, the sealing key, seeding, and the bounds on each wait. */
export interface RedisTokenStoreOptions {
  /** `redis://[user:password@]host:port/db` or `rediss://...` (TLS). Either this or `client`. */
  url?: string;
  /** Your own node-redis client (`createClient()` from `redis`); the store never closes it. */
  client?: RedisClientLike;
  /** The key holding the token set. @default defaultRedisKey(default API URL, default audience) */
  key?: string;
  /** 64 hex characters (256 bits): seal the set with AES-256-GCM. Env `MESH_TOKEN_KEY`. */
  sealingKey?: string;
  logger?: InternalLogger;
  /** The refresh lock's lease. @default 45_000 */
  leaseMs?: number;
  /** How long to wait for another instance's refresh lock. @default 60_000 */
  lockWaitMs?: number;
  /** Bound on reaching Redis. @default 5000 */
  connectTimeoutMs?: number;
  /** Bound on one Redis command, from when it has a connection (reaching Redis has its own bound). @default 5000 */
  commandTimeoutMs?: number;
  /**
   * Tokens to write when this store's first read finds the key absent (e.g. the environment's
   * `MESH_ACCESS_TOKEN`/`MESH_REFRESH_TOKEN`): written only if the key is still absent, so one
   * instance of a fleet seeds it and the others use what it wrote. Never used once the store has
   * seen a record, saved or cleared. @default none
   */
  seed?: () => TokenSet | null | Promise<TokenSet | null>;
  /** @internal Test seam: how the `redis` package is loaded. */
  loadRedis?: () => Promise<RedisModuleLike>;
}

/** What `inspect()` found under the key: no token, no key material. */
export interface RedisStoreInspection {
  /** Where Redis is (the URL with its password redacted) and the key. */
  readonly where: string;
  readonly key: string;
  /** Whether the key holds a value. */
  readonly present: boolean;
  /** The record's version (when it is a mesh-sdk record). */
  readonly version?: number;
  /** Whether the record is sealed. */
  readonly sealed?: boolean;
  /** The sealed record's key id (first 8 hex of sha256 of its key). */
  readonly recordKeyId?: string;
  /** This store's sealing key id (`MESH_TOKEN_KEY`), when it has one. */
  readonly sealingKeyId?: string;
  /** Why the value is not a usable mesh-sdk record, when it is not (it was left untouched). */
  readonly unusable?: string;
  /** Milliseconds left on the refresh lock's lease, when another process holds it. */
  readonly lockHeldMs?: number;
}

/** The value under the key is not a mesh-sdk token record (corrupt, or something else's). Never overwritten. */
/** A sealed token record is a few kilobytes; 64 KiB is far beyond any. */
const MAX_RECORD_CHARS = 64 * 1024;

export class TokenStoreRecordError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.TOKEN_STORE_CORRUPT;
}

// Compare-and-set in one atomic step. ARGV[1]: the version read (0 = read as absent), or -1 for an
// unconditional write (a login: it wins). ARGV[2]: the record body after the version. Never
// overwrites a value that is not our record. Replies {1, new version}, {0, current version} on a
// conflict, {-1, 0} when the value is not ours.
const SAVE_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
local current = 0
if raw then
  local ok, record = pcall(cjson.decode, raw)
  if not ok or type(record) ~= 'table' or record.format ~= 1 or type(record.version) ~= 'number' then
    return {-1, 0}
  end
  local tokens = record.tokens
  local usable = type(record.sealed) == 'table' or (type(tokens) == 'table' and
    (type(tokens.access_token) == 'string' or type(tokens.refresh_token) == 'string'))
  if not usable then
    return {-1, 0}
  end
  current = record.version
end
local expected = tonumber(ARGV[1])
if expected >= 0 and current ~= expected then
  return {0, current}
end
local nextVersion = current + 1
redis.call('SET', KEYS[1], '{"format":1,"version":' .. string.format('%d', nextVersion) .. ',' .. ARGV[2] .. '}')
return {1, nextVersion}
`;

interface ParsedRecord {
  version: number;
  tokens?: unknown;
  sealed?: SealedData;
}

function isSealed(value: unknown): value is SealedData {
  return isObject(value) && ['kid', 'iv', 'tag', 'data'].every((field) => typeof value[field] === 'string');
}

/**
 * The store returned by `redisTokenStore`. Its `save` writes by compare-and-set on the version last
 * read (a newer set written meanwhile makes it throw `TokenStoreConflictError` and write nothing);
 * its `clear` deletes the key.
 */
export interface RedisTokenStore extends TokenStore {
  /** The fleet-wide refresh lock (`<key>:lock`); the token manager takes it around a refresh. */
  readonly lock: TokenLock;
  /** The Redis key holding the token set. */
  readonly key: string;
  /** Whether saves are sealed (a sealing key was given). */
  readonly sealed: boolean;
  /** Every place this store keeps tokens (for logout and status). */
  places(): string[];
  /** Closes the connection the store opened (not a client you passed). Not needed for a script to exit. */
  close(): Promise<void>;
  /**
   * Reads what is under the key without opening it (for `mesh-auth doctor`): present or not, its
   * version, sealed or not and with which key id, and the lock's state. Never returns a token.
   * @throws NetworkError/TimeoutError when Redis cannot be reached within the bounds.
   */
  inspect(): Promise<RedisStoreInspection>;
}

class RedisStore implements RedisTokenStore {
  readonly lock: RedisLock;
  readonly key: string;
  readonly sealed: boolean;
  readonly #redis: RedisConnection;
  readonly #sealingKey: SealingKey | undefined;
  readonly #logger: InternalLogger;
  /** The version the last load read (0: absent); undefined: nothing read, so a save is a login and wins. */
  #readVersion: number | undefined;
  #seed: RedisTokenStoreOptions['seed'];

  constructor(options: RedisTokenStoreOptions) {
    this.key = options.key ?? defaultRedisKey(DEFAULT_API_URL, DEFAULT_AUTH0_AUDIENCE);
    if (this.key.trim() === '')
      throw new ConfigError('The Redis token store key is empty.', { hint: 'Leave `key` unset for the default, or name a key.' });
    this.#logger = options.logger ?? createLogger();
    this.#sealingKey = options.sealingKey === undefined ? undefined : parseSealingKey(options.sealingKey);
    this.sealed = this.#sealingKey !== undefined;
    this.#seed = options.seed;
    this.#redis = new RedisConnection({
      url: options.url,
      client: options.client,
      connectTimeoutMs: options.connectTimeoutMs,
      commandTimeoutMs: options.commandTimeoutMs,
      logger: this.#logger,
      loadRedis: options.loadRedis,
    });
    this.lock = new RedisLock(this.#redis, `${this.key}:lock`, {
      leaseMs: options.leaseMs,
      waitMs: options.lockWaitMs,
      logger: this.#logger,
    });
  }

  describe(): string {
    return `redis ${this.#redis.where} key ${this.key}`;
  }

  places(): string[] {
    return [this.describe()];
  }

  async load(): Promise<TokenSet | null> {
    const raw = await this.#get();
    if (raw === null) {
      const seeded = this.#seed ? await this.#seedKey() : undefined;
      if (seeded !== undefined) return seeded;
      this.#readVersion = 0;
      return null;
    }
    this.#seed = undefined; // a record exists: stale seed tokens must never replace it later
    // A record is a few kilobytes: anything far larger is not one (and is not parsed).
    if (raw.length > MAX_RECORD_CHARS) throw this.#notOurs(`it is ${raw.length} characters, far more than a token record`);
    const record = this.#parse(raw);
    let value = record.tokens;
    if (record.sealed) {
      const text = unseal(record.sealed, this.#sealingKey, `Redis key ${this.key}`);
      try {
        value = JSON.parse(text);
      } catch {
        throw this.#notOurs('its sealed content is not JSON');
      }
    } else {
      this.#warnClear();
    }
    let tokens: TokenSet;
    try {
      tokens = parseStoredTokenSet(value);
    } catch (error) {
      if (error instanceof TokenSetFormatError) throw this.#notOurs(`its token set is unusable: ${error.message}`);
      throw error;
    }
    this.#readVersion = record.version;
    return tokens;
  }

  async save(tokens: TokenSet): Promise<void> {
    this.#seed = undefined;
    const expected = this.#readVersion === undefined ? '-1' : String(this.#readVersion);
    const [status, version] = await this.#write(tokens, expected);
    if (status === 1) {
      this.#readVersion = version;
      this.#logger.debug(`Saved the token set to ${this.describe()} as version ${version}.`);
      return;
    }
    if (status === 0) {
      throw new TokenStoreConflictError(
        `The token set at Redis key ${this.key} changed since it was read (now version ${version}, read ${this.#readVersion}); nothing was written.`,
        { hint: 'Another instance refreshed first: re-load the store and use its tokens.' },
      );
    }
    throw this.#notOurs('it is not a mesh-sdk token record');
  }

  async clear(): Promise<void> {
    this.#seed = undefined; // a logout must not be undone by the seed
    await this.#redis.command(['DEL', this.key]);
    this.#readVersion = undefined;
  }

  async inspect(): Promise<RedisStoreInspection> {
    const base = {
      where: this.#redis.where,
      key: this.key,
      ...(this.#sealingKey ? { sealingKeyId: this.#sealingKey.kid } : {}),
    };
    const lockTtl = Number(await this.#redis.command(['PTTL', this.lock.key]));
    const lock = lockTtl > 0 ? { lockHeldMs: lockTtl } : {};
    let raw: string | null;
    try {
      raw = await this.#get();
    } catch (error) {
      if (error instanceof TokenStoreRecordError) return { ...base, ...lock, present: true, unusable: WRONG_TYPE };
      throw error;
    }
    if (raw === null) return { ...base, ...lock, present: false };
    let record: ParsedRecord;
    try {
      record = this.#parse(raw);
    } catch (error) {
      if (!(error instanceof TokenStoreRecordError)) throw error;
      return { ...base, ...lock, present: true, unusable: error.message };
    }
    return {
      ...base,
      ...lock,
      present: true,
      version: record.version,
      sealed: record.sealed !== undefined,
      ...(record.sealed ? { recordKeyId: record.sealed.kid } : {}),
    };
  }

  close(): Promise<void> {
    return this.#redis.close();
  }

  /** Writes `tokens` by compare-and-set on `expected` (-1: unconditionally); answers [status, version]. */
  async #write(tokens: TokenSet, expected: string): Promise<[number, number]> {
    const json = tokenSetJson(tokens);
    let body: string;
    if (this.#sealingKey) {
      body = `"sealed":${JSON.stringify(seal(json, this.#sealingKey))}`;
    } else {
      this.#warnClear();
      body = `"tokens":${json}`;
    }
    try {
      return (await this.#redis.command(['EVAL', SAVE_SCRIPT, '1', this.key, expected, body])) as [number, number];
    } catch (error) {
      if (error instanceof RedisReplyError && error.message.includes('WRONGTYPE')) throw this.#notOurs(WRONG_TYPE);
      throw error;
    }
  }

  /**
   * The key is absent on this store's first read: write the seed if it is still absent. Answers the
   * seeded set, what another instance seeded meanwhile, or undefined when there is no seed.
   */
  async #seedKey(): Promise<TokenSet | null | undefined> {
    const seed = this.#seed;
    if (!seed) return undefined;
    const tokens = await seed();
    if (!tokens) {
      this.#seed = undefined;
      return undefined;
    }
    const [status, version] = await this.#write(tokens, '0');
    this.#seed = undefined;
    if (status === 1) {
      this.#readVersion = version;
      this.#logger.debug(`Seeded ${this.describe()} from the environment's tokens (version ${version}).`);
      return tokens;
    }
    if (status === 0) {
      this.#logger.debug(`Another instance seeded ${this.describe()} first (version ${version}); using its tokens.`);
      return this.load();
    }
    throw this.#notOurs('it is not a mesh-sdk token record');
  }

  async #get(): Promise<string | null> {
    try {
      const raw = await this.#redis.command(['GET', this.key]);
      return raw === null || raw === undefined ? null : String(raw);
    } catch (error) {
      if (error instanceof RedisReplyError && error.redisCode === 'WRONGTYPE') {
        throw this.#notOurs(WRONG_TYPE);
      }
      throw error;
    }
  }

  #parse(raw: string): ParsedRecord {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw this.#notOurs('it is not JSON');
    }
    if (!isObject(value) || value.format !== RECORD_FORMAT) throw this.#notOurs('it is not a mesh-sdk token record (format 1)');
    const version = value.version;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
      throw this.#notOurs('its version is not a positive integer');
    if (isSealed(value.sealed)) return { version, sealed: value.sealed };
    if (isObject(value.tokens)) return { version, tokens: value.tokens };
    throw this.#notOurs('it holds neither "tokens" nor "sealed"');
  }

  #notOurs(why: string): TokenStoreRecordError {
    return new TokenStoreRecordError(
      `The value at Redis key ${this.key} (${this.#redis.where}) is unusable: ${why}. It was left as it is.`,
      {
        hint:
          `If the key is mesh-sdk's, run \`npx mesh-auth logout\` (or DEL ${this.key}) and log in again. ` +
          'If another program owns it, give mesh-sdk a key of its own.',
      },
    );
  }

  #warnClear(): void {
    this.#logger.warnOnce(
      'redis-store-unsealed',
      `The shared token store ${this.describe()} holds bearer tokens in the clear: anyone who can read that key can use them. ` +
        'Set MESH_TOKEN_KEY to 64 hex characters (`openssl rand -hex 32`), the same on every instance, to seal them.',
    );
  }
}

/**
 * A token store in Redis, shared by every instance of a deployment, with a fleet-wide refresh lock
 * (`store.lock`) and compare-and-set writes. Needs the optional `redis` package (`npm install redis`),
 * loaded on first use. Connection is lazy; nothing here keeps the process alive.
 *
 * @example
 * const client = new MeshClient({
 *   tokenStore: redisTokenStore({ url: 'redis://redis.internal:6379/0', sealingKey: process.env.MESH_TOKEN_KEY }),
 * });
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  requireLocalMachine('The Redis token store', 'TCP connections to Redis');
  return new RedisStore(options);
}
