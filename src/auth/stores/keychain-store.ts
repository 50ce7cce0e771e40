/**
 * Tokens in the OS keychain (service `mesh-sdk`), through the helper process of
 * keychain-client.ts. A secret over the platform's limit (Windows Credential Manager: 2560 bytes)
 * is split across entries, never truncated.
 */

import { createLogger, type InternalLogger } from '../../internal/logger.js';
import { type KeychainBackend, KeychainClient } from '../keychain/keychain-client.js';
import { parseStoredTokenJson, TokenSetFormatError } from '../token-set.js';
import type { TokenSet, TokenStore } from '../token-store.js';

export const KEYCHAIN_SERVICE = 'mesh-sdk';

/** Windows stores the secret as UTF-16 in at most 2560 bytes: 1280 characters, with margin. */
const WINDOWS_MAX_SECRET_CHARS = 1200;

export interface KeychainStoreOptions {
  /** Keychain account: one per backend, so that a local stack never overwrites real tokens. */
  account: string;
  service?: string;
  /** Longest secret in one entry; longer ones are chunked. @default 1200 on Windows, else unlimited */
  maxSecretLength?: number;
  /** Bound on each keychain call, ms. @default 3000 */
  timeoutMs?: number;
  /** Environment of the helper process (D-Bus address). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  backend?: KeychainBackend;
  logger?: InternalLogger;
}

interface ChunkHeader {
  mesh_chunks: number;
}

function chunkHeader(value: unknown): ChunkHeader | undefined {
  const header = value as Partial<ChunkHeader> | null;
  return typeof header === 'object' &&
    header !== null &&
    Number.isInteger(header.mesh_chunks) &&
    (header.mesh_chunks as number) > 0
    ? (header as ChunkHeader)
    : undefined;
}

/**
 * Keeps tokens in the OS keychain. Fails with `KeychainError` when the keychain is missing,
 * locked or not answering; the `auto` policy then falls back to the file store.
 */
export class KeychainStore implements TokenStore {
  readonly #account: string;
  readonly #service: string;
  readonly #maxLength: number;
  readonly #backend: KeychainBackend;
  readonly #logger: InternalLogger;

  constructor(options: KeychainStoreOptions) {
    this.#account = options.account;
    this.#service = options.service ?? KEYCHAIN_SERVICE;
    this.#maxLength =
      options.maxSecretLength ?? (process.platform === 'win32' ? WINDOWS_MAX_SECRET_CHARS : Number.POSITIVE_INFINITY);
    this.#backend =
      options.backend ?? new KeychainClient({ service: this.#service, timeoutMs: options.timeoutMs, env: options.env });
    this.#logger = options.logger ?? createLogger();
  }

  async load(): Promise<TokenSet | null> {
    const first = await this.#backend.get(this.#account);
    if (first === null) return null;
    let text = first;
    try {
      const header = chunkHeader(JSON.parse(first));
      if (header) text = await this.#readChunks(header.mesh_chunks);
      return parseStoredTokenJson(text);
    } catch (error) {
      if (!(error instanceof TokenSetFormatError) && !(error instanceof SyntaxError)) throw error;
      this.#logger.warn(
        `The keychain entry ${this.#service}/${this.#account} is not a token set; ignoring it (the next login replaces it).`,
      );
      return null;
    }
  }

  async save(tokens: TokenSet): Promise<void> {
    const text = JSON.stringify(tokens);
    const previousChunks = await this.#chunkCount();
    if (text.length <= this.#maxLength) {
      await this.#backend.set(this.#account, text);
      await this.#deleteChunks(1, previousChunks);
      return;
    }
    const parts: string[] = [];
    for (let at = 0; at < text.length; at += this.#maxLength) parts.push(text.slice(at, at + this.#maxLength));
    // Parts first, header last: a reader never finds a header whose parts are missing.
    for (const [index, part] of parts.entries()) await this.#backend.set(this.#chunkAccount(index + 1), part);
    await this.#backend.set(this.#account, JSON.stringify({ mesh_chunks: parts.length } satisfies ChunkHeader));
    await this.#deleteChunks(parts.length + 1, previousChunks);
  }

  async clear(): Promise<void> {
    const chunks = await this.#chunkCount();
    await this.#backend.delete(this.#account);
    await this.#deleteChunks(1, chunks);
  }

  describe(): string {
    return `OS keychain (service ${this.#service}, account ${this.#account})`;
  }

  #chunkAccount(index: number): string {
    return `${this.#account}#${index}`;
  }

  async #readChunks(count: number): Promise<string> {
    const parts: string[] = [];
    for (let index = 1; index <= count; index++) {
      const part = await this.#backend.get(this.#chunkAccount(index));
      if (part === null) throw new TokenSetFormatError(`chunk ${index} of ${count} is missing`);
      parts.push(part);
    }
    return parts.join('');
  }

  async #chunkCount(): Promise<number> {
    const current = await this.#backend.get(this.#account);
    if (current === null) return 0;
    try {
      return chunkHeader(JSON.parse(current))?.mesh_chunks ?? 0;
    } catch {
      return 0;
    }
  }

  async #deleteChunks(from: number, to: number): Promise<void> {
    for (let index = from; index <= to; index++) await this.#backend.delete(this.#chunkAccount(index));
  }
}
