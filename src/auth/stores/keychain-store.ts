/**
 * Tokens in the OS keychain (service `mesh-sdk`), through the helper process of
 * keychain-client.ts. For the default deployment the entry is the Python SDK's own slot (account
 * `default`, the same JSON), so one login serves both SDKs; other deployments get an account of
 * their own. A secret over the platform's limit (Windows Credential Manager: 2560 bytes) is split
 * across entries in our own slots, never truncated; in the shared slot it is refused instead
 * (the Python SDK cannot read chunks), and the auto policy puts the set in the file.
 */

import { randomBytes } from 'node:crypto';
import { requireLocalMachine } from '../../config/runtime.js';
import { KeychainError } from '../../errors/mesh-error.js';
import { createLogger, type InternalLogger } from '../../internal/logger.js';
import { parseStoredTokenJson, TokenSetFormatError, tokenSetJson } from '../tokens/token-set.js';
import type { KeychainBackend, KeychainBinding, KeychainClient, KeychainClientOptions } from './keychain/keychain-client.js';
import type { TokenSet, TokenStore } from './token-store.js';

export const KEYCHAIN_SERVICE = 'mesh-sdk';
/** The Python SDK's keychain account (token_manager.py: `USERNAME = "default"`). */
export const PYTHON_KEYCHAIN_ACCOUNT = 'default';

/** Windows stores the secret as UTF-16 in at most 2560 bytes: 1280 characters, with margin. */
export const WINDOWS_MAX_SECRET_CHARS = 1200;
/** Far beyond any token set: a longer entry is not read as one. */
const MAX_SECRET_CHARS = 64 * 1024;
/** At most 64 KiB in entries of at least 1200 characters: a header claiming more is not ours. */
const MAX_CHUNKS = 64;

/** Options of `KeychainStore`: the keychain slot (service and account), its sharing with the Python SDK, and the platform's limits. */
export interface KeychainStoreOptions {
  /** Keychain account: one per backend, so that a local stack never overwrites real tokens. */
  account: string;
  service?: string;
  /**
   * The slot is shared with the Python SDK: written only in a form it reads (one entry, plain
   * JSON); a set too long for one entry fails with a KeychainError instead of being chunked.
   * @default false
   */
  shared?: boolean;
  /** Longest secret in one entry; longer ones are chunked. @default 1200 on Windows, else unlimited */
  maxSecretLength?: number;
  /** The platform whose limits apply. @default process.platform */
  platform?: NodeJS.Platform;
  /** Bound on each keychain call, ms. @default 3000 */
  timeoutMs?: number;
  /** Environment of the helper process (D-Bus address). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** The native binding the helper loads (@napi-rs/keyring or keytar). @default the installed one */
  binding?: KeychainBinding;
  backend?: KeychainBackend;
  logger?: InternalLogger;
}

/** The first entry of a chunked secret: how many parts, and the id of their generation. */
interface ChunkHeader {
  mesh_chunks: number;
  /** Parts of each save live under fresh accounts, so a save that fails half-way leaves the old set whole. */
  mesh_chunk_set?: string;
}

function chunkHeader(value: unknown): ChunkHeader | undefined {
  const header = value as Partial<ChunkHeader> | null;
  return typeof header === 'object' &&
    header !== null &&
    Number.isInteger(header.mesh_chunks) &&
    (header.mesh_chunks as number) > 0 &&
    (header.mesh_chunks as number) <= MAX_CHUNKS &&
    (header.mesh_chunk_set === undefined || typeof header.mesh_chunk_set === 'string')
    ? (header as ChunkHeader)
    : undefined;
}

function parseHeader(text: string | null): ChunkHeader | undefined {
  if (text === null) return undefined;
  try {
    return chunkHeader(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Every failure of a keychain store is a KeychainError (the manager keeps a set it could not save, typed). */
function asKeychainError(error: unknown, what: string): KeychainError {
  if (error instanceof KeychainError) return error;
  return new KeychainError(`${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/**
 * Keeps tokens in the OS keychain. Every failure (missing, locked or silent keychain, a set too
 * long for the shared slot) is a `KeychainError` (code `keychain_unavailable`): `save` never
 * warns and carries on, so `tokenStore: 'keychain'` fails closed and the caller decides; the
 * `auto` policy falls back to the file store.
 *
 * @example
 * const client = new MeshClient({ tokenStore: new KeychainStore({ account: 'tokens@my-deployment' }) });
 */
/**
 * The helper client, its module (node:child_process, the helper's source) loaded by the first
 * keychain call, not with the store (and keychain-check.ts, which needs it, by the first check):
 * a configuration that never reads the keychain (a file store, `mesh-auth token` with one) does
 * not load them at all. The client itself spawns its helper on first use, as before.
 */
class LazyKeychainClient implements KeychainBackend {
  readonly #options: KeychainClientOptions;
  #client: Promise<KeychainClient> | undefined;
  #started: KeychainClient | undefined;

  constructor(options: KeychainClientOptions) {
    this.#options = options;
  }

  #load(): Promise<KeychainClient> {
    this.#client ??= import('./keychain/keychain-client.js').then(({ KeychainClient }) => {
      this.#started = new KeychainClient(this.#options);
      return this.#started;
    });
    return this.#client;
  }

  async get(account: string): Promise<string | null> {
    return (await this.#load()).get(account);
  }

  async set(account: string, value: string): Promise<void> {
    return (await this.#load()).set(account, value);
  }

  async delete(account: string): Promise<boolean> {
    return (await this.#load()).delete(account);
  }

  close(): void {
    this.#started?.close();
  }
}

export class KeychainStore implements TokenStore {
  readonly #account: string;
  readonly #service: string;
  readonly #shared: boolean;
  readonly #maxLength: number;
  readonly #backend: KeychainBackend;
  /** The helper client this store started (closed by `close()`); undefined for a given backend. */
  readonly #ownClient: LazyKeychainClient | undefined;
  readonly #logger: InternalLogger;

  constructor(options: KeychainStoreOptions) {
    this.#account = options.account;
    this.#service = options.service ?? KEYCHAIN_SERVICE;
    this.#shared = options.shared ?? false;
    const platform = options.platform ?? process.platform;
    this.#maxLength = options.maxSecretLength ?? (platform === 'win32' ? WINDOWS_MAX_SECRET_CHARS : Number.POSITIVE_INFINITY);
    if (options.backend) {
      this.#backend = options.backend;
    } else {
      requireLocalMachine('The keychain token store', "the operating system's keychain");
      const { timeoutMs, env, binding } = options;
      this.#ownClient = new LazyKeychainClient({ service: this.#service, timeoutMs, env, binding });
      this.#backend = this.#ownClient;
    }
    this.#logger = options.logger ?? createLogger();
  }

  /** The keychain account holding the set (or the header of its chunks). */
  get account(): string {
    return this.#account;
  }

  async load(): Promise<TokenSet | null> {
    const first = await this.#get(this.#account);
    if (first === null) return null;
    let text = first;
    try {
      const header = parseHeader(first);
      if (header) text = await this.#readChunks(header);
      // A token set is a few kilobytes: anything far larger is not one (and is not parsed).
      if (text.length > MAX_SECRET_CHARS) throw new TokenSetFormatError(`it is ${text.length} characters long`);
      return parseStoredTokenJson(text);
    } catch (error) {
      if (!(error instanceof TokenSetFormatError)) throw asKeychainError(error, 'Reading the keychain failed');
      this.#logger.warn(
        `The keychain entry ${this.#service}/${this.#account} is not a token set; ignoring it (the next login replaces it).`,
      );
      return null;
    }
  }

  /** @throws KeychainError when the set could not be stored; the previous set is then still whole. */
  async save(tokens: TokenSet): Promise<void> {
    const text = tokenSetJson(tokens);
    const previous = parseHeader(await this.#get(this.#account));
    if (text.length <= this.#maxLength) {
      await this.#set(this.#account, text);
      await this.#deleteChunks(previous);
      return;
    }
    if (this.#shared) {
      throw new KeychainError(
        `The token set (${text.length} characters) is longer than one keychain entry holds here (${this.#maxLength}), and the entry is shared with the Python SDK, which cannot read a split one.`,
        {
          hint: 'The tokens go to ~/.mesh/token.json instead (the Python SDK reads that file too); set MESH_TOKEN_STORE=file to say so.',
        },
      );
    }
    const parts: string[] = [];
    for (let at = 0; at < text.length; at += this.#maxLength) parts.push(text.slice(at, at + this.#maxLength));
    const header: ChunkHeader = { mesh_chunks: parts.length, mesh_chunk_set: randomBytes(4).toString('hex') };
    // Parts first, header last, old parts after that: a reader finds the old set or the new one.
    for (const [index, part] of parts.entries()) await this.#set(this.#chunkAccount(header, index + 1), part);
    await this.#set(this.#account, JSON.stringify(header));
    if (previous?.mesh_chunk_set !== header.mesh_chunk_set) await this.#deleteChunks(previous);
  }

  /** Deletes the entry, and the parts of a split set, from the keychain. @throws KeychainError when the keychain fails. */
  async clear(): Promise<void> {
    const previous = parseHeader(await this.#get(this.#account));
    await this.#call(() => this.#backend.delete(this.#account), 'Deleting from the keychain failed');
    await this.#deleteChunks(previous);
  }

  /**
   * Verifies the keychain before trusting it: writes a probe value to an account of its own
   * beside this slot (`<account>#check`, never the tokens' entry), reads it back, deletes it.
   *
   * @throws KeychainError with a hint naming the likely cause (no D-Bus session, no Secret
   * Service, a locked keyring, a helper that did not answer in time)
   */
  async check(signal?: AbortSignal): Promise<void> {
    const { checkKeychain } = await import('./keychain/keychain-check.js');
    await checkKeychain(this.#backend, `${this.#account}#check`, signal);
  }

  /** Stops the keychain helper process this store started (it never keeps a program alive anyway). */
  close(): void {
    this.#ownClient?.close();
  }

  describe(): string {
    return `OS keychain (service ${this.#service}, account ${this.#account}${this.#shared ? ', shared with the Python SDK' : ''})`;
  }

  #chunkAccount(header: ChunkHeader, index: number): string {
    return header.mesh_chunk_set === undefined
      ? `${this.#account}#${index}`
      : `${this.#account}#${header.mesh_chunk_set}#${index}`;
  }

  async #readChunks(header: ChunkHeader): Promise<string> {
    const parts: string[] = [];
    for (let index = 1; index <= header.mesh_chunks; index++) {
      const part = await this.#get(this.#chunkAccount(header, index));
      if (part === null) throw new TokenSetFormatError(`chunk ${index} of ${header.mesh_chunks} is missing`);
      parts.push(part);
    }
    return parts.join('');
  }

  async #deleteChunks(header: ChunkHeader | undefined): Promise<void> {
    if (!header) return;
    for (let index = 1; index <= header.mesh_chunks; index++) {
      const account = this.#chunkAccount(header, index);
      await this.#call(() => this.#backend.delete(account), 'Deleting from the keychain failed');
    }
  }

  #get(account: string): Promise<string | null> {
    return this.#call(() => this.#backend.get(account), 'Reading the keychain failed');
  }

  async #set(account: string, value: string): Promise<void> {
    await this.#call(() => this.#backend.set(account, value), 'Writing to the keychain failed');
  }

  async #call<T>(run: () => Promise<T>, what: string): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw asKeychainError(error, what);
    }
  }
}
