/**
 * One Redis connection for the Redis token store and its lock: node-redis loaded only when first
 * used (the package is an optional peer dependency; users who never use Redis never load it),
 * connected lazily, every wait bounded (connect, reconnect, each command), failures typed
 * (`NetworkError`/`TimeoutError` naming the URL with its password redacted), and the socket
 * unreferenced between operations so a script that used the store still exits by itself.
 */

import { ErrorCode } from '../../errors/codes.js';
import { ConfigError, MeshError, NetworkError, TimeoutError } from '../../errors/mesh-error.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import type { RedisCommands } from '../locks/redis-lock.js';

/**
 * The part of a node-redis client (`createClient()` from the `redis` package, v5 or later) the
 * store uses. Pass your own to share a connection; the store then never connects, refs, unrefs
 * or closes it beyond connecting it once if it is not open yet.
 */
export interface RedisClientLike {
  /** Sends one raw command (e.g. `['GET', key]`) and answers Redis's reply, as node-redis's `sendCommand` does. */
  sendCommand(args: string[]): Promise<unknown>;
  readonly isOpen?: boolean;
  /** Opens the connection; called (within `connectTimeoutMs`) only when `isOpen` is false. */
  connect?(): Promise<unknown>;
}

/** The part of a client this module creates and owns. */
interface OwnedClient extends RedisClientLike {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  ref?(): void;
  unref?(): void;
  destroy?(): void;
}

/** The part of the `redis` module used here. */
export interface RedisModuleLike {
  createClient(options: Record<string, unknown>): unknown;
  ErrorReply?: abstract new (...args: never[]) => Error;
}

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port/db` or `rediss://` (TLS). */
  url?: string;
  /** A node-redis client of your own (used instead of `url`). */
  client?: RedisClientLike;
  /** Bound on reaching Redis, including reconnect attempts after an outage. @default 5000 */
  connectTimeoutMs?: number;
  /** Bound on one command once connected (or while reconnecting). @default 5000 */
  commandTimeoutMs?: number;
  logger?: InternalLogger;
  /** @internal Test seam: how the `redis` module is loaded. */
  loadRedis?: () => Promise<RedisModuleLike>;
}

/** A Redis error reply (`ERR ...`, `WRONGTYPE ...`): the server answered, and said no. */
export class RedisReplyError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.INVALID_RESPONSE;
  /** The reply's first word: `ERR`, `WRONGTYPE`, `NOSCRIPT`, ... */
  readonly redisCode: string;

  constructor(message: string, redisCode: string, hint: string) {
    super(message, { hint });
    this.redisCode = redisCode;
  }
}

const AUTH_CODES = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM']);
// Replies that mean "not now" (loading its data after a restart, failing over): transient, like a network error.
const TRANSIENT_CODES = new Set(['LOADING', 'BUSY', 'TRYAGAIN', 'MASTERDOWN', 'CLUSTERDOWN']);

/** `url` with its password replaced by `***`, for messages and `describe()`. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/** @throws ConfigError unless `url` is a redis:// or rediss:// URL with a host. */
export function checkRedisUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    throw new ConfigError(`MESH_TOKEN_STORE=${redactRedisUrl(url)} is not a Redis URL.`, {
      hint: 'Use redis://[user:password@]host:port/db, or rediss://... for TLS (e.g. redis://127.0.0.1:6379/0).',
    });
  }
}

/** A timer this much past its deadline means the process itself was busy, not waiting on Redis. */
const LATE_MS = 50;

/**
 * `work`, or `onTimeout()` at `deadline` (epoch ms); `boundMs` is the whole bound the deadline
 * ends. A bound that ran out while the process itself was busy (a CPU-bound start, a loaded
 * machine; found by CI: processes starting at once on 2 cores) is not Redis's slowness: the
 * command may not even have gone out yet (the client writes on a later tick), or its reply may be
 * waiting unread beside the expired timer. So when the timer fires more than LATE_MS after the
 * deadline, the time the process lost is given back, up to the whole `boundMs` once more (even
 * when the deadline had passed before this was called: a retry that waited for a reconnect), and
 * the reply is taken if it comes by then. A timer that fires on time rejects at once.
 */
function bounded<T>(work: Promise<T>, deadline: number, boundMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const expire = () => reject(onTimeout());
    const expireUnlessLate = () => {
      const lost = Date.now() - deadline;
      if (lost > LATE_MS) timer = setTimeout(expire, Math.min(lost, boundMs));
      else expire();
    };
    timer = setTimeout(expireUnlessLate, Math.max(1, deadline - Date.now()));
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function isErrorReply(error: unknown, module: RedisModuleLike | undefined): boolean {
  if (module?.ErrorReply && error instanceof module.ErrorReply) return true;
  // A client the caller brought may come from another copy of the package: match the class by name.
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'ErrorReply') return true;
  }
  return false;
}

export class RedisConnection implements RedisCommands {
  /** Where Redis is, for messages: the URL with its password redacted, or "your Redis client". */
  readonly where: string;
  readonly #url: string | undefined;
  readonly #password: string;
  readonly #userClient: RedisClientLike | undefined;
  readonly #connectTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #logger: InternalLogger;
  readonly #loadRedis: () => Promise<RedisModuleLike>;
  #module: RedisModuleLike | undefined;
  #owned: OwnedClient | undefined;
  #opening: Promise<RedisClientLike> | undefined;
  #busy = 0;

  constructor(options: RedisConnectionOptions) {
    if (options.client === undefined) {
      if (!options.url) {
        throw new ConfigError('The Redis token store needs a URL (redis://host:port/db) or a client.', {
          hint: 'Set MESH_TOKEN_STORE=redis://host:6379/0, or pass redisTokenStore({ url }) or redisTokenStore({ client }).',
        });
      }
      checkRedisUrl(options.url);
    }
    this.#url = options.client === undefined ? options.url : undefined;
    this.#password = this.#url ? decodeURIComponent(new URL(this.#url).password) : '';
    this.where = this.#url ? redactRedisUrl(this.#url) : 'your Redis client';
    this.#userClient = options.client;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.#logger = options.logger ?? silentLogger;
    this.#loadRedis = options.loadRedis ?? (() => import('redis') as unknown as Promise<RedisModuleLike>);
  }

  /** Runs one command (connecting first if needed), bounded; errors typed. */
  async command(args: string[]): Promise<unknown> {
    this.#busy++;
    try {
      let deadline: number | undefined;
      for (let attempt = 0; ; attempt++) {
        const client = await this.#connected();
        // The command's own bound starts once there is a connection: connecting has its own
        // (connectTimeoutMs), and a slow connect must not leave the command too little time (seen
        // on a loaded machine: a connect that took most of a 150 ms bound left the command a few
        // ms). A retry after a dropped connection keeps the first deadline.
        deadline ??= Date.now() + this.#commandTimeoutMs;
        this.#owned?.ref?.();
        try {
          return await bounded(
            client.sendCommand(args),
            deadline,
            this.#commandTimeoutMs,
            () =>
              new TimeoutError(`Redis at ${this.where} did not answer ${args[0]} within ${this.#commandTimeoutMs} ms.`, {
                hint: `Check that Redis at ${this.where} is up and not overloaded.`,
              }),
          );
        } catch (error) {
          // "Not now" (LOADING right after a restart, ...) or the connection dropped under the
          // command (a restart): the same command is sent again within the same bound. Safe for
          // every command the store sends: GET, DEL, the compare-and-set save (a lost reply to a
          // save that ran is refused as a conflict, and the manager re-reads its own set), the
          // lock's SET NX and its compare-and-delete. Failing instead would lose a refreshed set
          // whose save met a restarting Redis, and with it the token family (found by the fleet soak).
          const pause = Math.min(25 * 2 ** attempt, 250);
          if (!this.#retryable(error) || Date.now() + pause >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
      }
    } catch (error) {
      throw this.#translate(error);
    } finally {
      // Between operations the socket must not keep the process alive (a script ends by itself).
      if (--this.#busy === 0) this.#owned?.unref?.();
    }
  }

  /** Closes the connection this store opened (never a client you passed). Safe to call twice. */
  async close(): Promise<void> {
    const client = this.#owned;
    this.#owned = undefined;
    client?.destroy?.();
  }

  #connected(): Promise<RedisClientLike> {
    if (this.#userClient && this.#userClient.isOpen !== false) return Promise.resolve(this.#userClient);
    // While it reconnects after an outage the client is still open: its commands wait (bounded above).
    if (this.#owned?.isOpen) return Promise.resolve(this.#owned);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(): Promise<RedisClientLike> {
    const user = this.#userClient;
    if (user) {
      const bound = this.#connectTimeoutMs;
      await bounded(user.connect?.() ?? Promise.resolve(), Date.now() + bound, bound, () => this.#unreachable('timed out'));
      return user;
    }
    this.#owned?.destroy?.(); // a client whose reconnecting gave up: start afresh
    this.#owned = undefined;
    const module = await this.#module_();
    let outageSince: number | undefined = Date.now();
    const client = module.createClient({
      url: this.#url,
      socket: {
        connectTimeout: this.#connectTimeoutMs,
        // Bounded: after `connectTimeoutMs` of failed attempts the client gives up (the next
        // operation starts a new one), so neither a command nor the process waits on it forever.
        reconnectStrategy: (retries: number) => {
          if (retries === 0 && outageSince === undefined) outageSince = Date.now();
          if (Date.now() - (outageSince ?? Date.now()) >= this.#connectTimeoutMs) {
            return new Error(`no connection within ${this.#connectTimeoutMs} ms`);
          }
          return Math.min(50 * 2 ** retries, 500) + Math.floor(Math.random() * 50);
        },
      },
    }) as OwnedClient;
    // node-redis emits 'error' on every failed attempt; without a listener that would crash the process.
    client.on('error', (error) => this.#logger.debug(`Redis at ${this.where}: ${this.#scrub(error.message)}`));
    (client as unknown as { on(event: 'ready', listener: () => void): unknown }).on('ready', () => {
      outageSince = undefined;
    });
    try {
      const bound = this.#connectTimeoutMs + 500;
      await bounded(client.connect(), Date.now() + bound, bound, () => this.#unreachable('timed out'));
    } catch (error) {
      client.destroy?.();
      throw error;
    }
    this.#owned = client;
    return client;
  }

  async #module_(): Promise<RedisModuleLike> {
    if (this.#module) return this.#module;
    try {
      this.#module = await this.#loadRedis();
      return this.#module;
    } catch (error) {
      throw new ConfigError(`MESH_TOKEN_STORE=${this.where} needs the \`redis\` package: npm install redis`, {
        hint: 'The Redis token store uses node-redis (an optional peer dependency of mesh-sdk): run `npm install redis`.',
        cause: error,
      });
    }
  }

  #unreachable(why: string, cause?: unknown): NetworkError {
    const timedOut = why === 'timed out';
    const Kind = timedOut ? TimeoutError : NetworkError;
    const what = timedOut ? `within ${this.#connectTimeoutMs} ms` : `(${this.#scrub(why)})`;
    return new Kind(`Could not reach Redis at ${this.where} ${what}.`, {
      hint: `Check that Redis is running and reachable at ${this.where}, or choose another MESH_TOKEN_STORE.`,
      cause,
    });
  }

  #translate(error: unknown): Error {
    if (error instanceof MeshError) return error;
    const message = this.#scrub(error instanceof Error ? error.message : String(error));
    if (isErrorReply(error, this.#module)) {
      const code = message.split(' ', 1)[0] ?? 'ERR';
      if (AUTH_CODES.has(code)) {
        return new ConfigError(`Redis at ${this.where} refused the credentials (${code}).`, {
          hint: 'Check the user and password in the Redis URL (MESH_TOKEN_STORE=redis://user:password@host:port/db).',
        });
      }
      if (TRANSIENT_CODES.has(code)) {
        return new NetworkError(`Redis at ${this.where} is not ready (${message}).`, {
          hint: 'Try again in a moment: Redis is loading its data or failing over.',
        });
      }
      return new RedisReplyError(
        `Redis at ${this.where} answered with an error: ${message}`,
        code,
        `Check the Redis server at ${this.where}.`,
      );
    }
    // The cause of a failed connect (node-redis wraps it when its reconnect strategy gives up).
    const wrapped = error as { socketError?: unknown; cause?: unknown };
    const inner = wrapped.socketError ?? wrapped.cause;
    const detail = inner instanceof Error ? this.#scrub(inner.message) : message;
    return this.#unreachable(detail || 'connection failed');
  }

  /** A "not now" reply, or a connection that failed under the command (not a reply, not our own bound). */
  #retryable(error: unknown): boolean {
    if (error instanceof MeshError) return false;
    if (!isErrorReply(error, this.#module)) return true;
    return TRANSIENT_CODES.has(String((error as Error).message).split(' ', 1)[0] ?? '');
  }

  /** Removes the URL's password from a third-party message, should one ever quote it. */
  #scrub(text: string): string {
    return this.#password ? text.split(this.#password).join('***') : text;
  }
}
