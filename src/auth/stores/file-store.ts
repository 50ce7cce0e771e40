/**
 * `~/.mesh/token.json`: directory 0700, file 0600, written atomically (temp file, fsync, rename,
 * directory fsync), in the snake_case format the Python SDK shares (its desktop fallback file is
 * this same path), keeping every field the set was read with. A corrupt or unreadable file is
 * moved aside with a warning, never overwritten without a trace.
 *
 * Read with suspicion (a token directory may be shared, or planted): never through a symbolic
 * link, never another user's file, never more than a token set can be (64 KiB). Every failure is
 * a typed `TokenStoreError` naming the path and what to do. A complete set a killed process left in
 * its temp file is taken up (leftovers.ts).
 */

import { chmod, mkdir, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { requireLocalMachine } from '../../config/runtime.js';
import { ErrorCode } from '../../errors/codes.js';
import { TokenStoreError } from '../../errors/mesh-error.js';
import { gitExposure } from '../../internal/git-exposure.js';
import { createLogger, type InternalLogger } from '../../internal/logger.js';
import { RefusedReadError, readSecretFile, writeSecretFile } from '../../internal/secret-file.js';
import { parseStoredTokenJson, TokenSetFormatError, tokenSetJson } from '../tokens/token-set.js';
import { fileStoreError } from './file-errors.js';
import { removeDeadLeftovers, takeUpLeftover } from './leftovers.js';
import type { TokenSet, TokenStore } from './token-store.js';

export const TOKEN_FILE_NAME = 'token.json';
const DIRECTORY_MODE = 0o700;
/** A token set is a few kilobytes; anything near this is not one. */
export const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/** Options of `FileStore`: the directory of `token.json` and whether a git work tree is refused. */
export interface FileStoreOptions {
  /** Directory holding token.json. @default ~/.mesh */
  directory?: string;
  logger?: InternalLogger;
  /**
   * Refuse to write into a git work tree that does not ignore the file (a home directory kept in
   * git would publish the tokens with its next commit). On for the default `~/.mesh`; a directory
   * the user named is taken as chosen. @default false
   */
  refuseInWorkTree?: boolean;
}

export function defaultTokenDirectory(): string {
  return join(homedir(), '.mesh');
}

/**
 * Stores tokens in `~/.mesh/token.json` (mode 0600).
 *
 * @example
 * const client = new MeshClient({ tokenStore: new FileStore({ directory: '/var/lib/myapp/mesh' }) });
 */
export class FileStore implements TokenStore {
  readonly path: string;
  readonly #logger: InternalLogger;
  /** Checked once per store: whether the file would land in a git work tree that does not ignore it. */
  #exposure: Promise<'tracked' | 'safe'> | undefined;
  readonly #refuseInWorkTree: boolean;

  constructor(options: FileStoreOptions = {}) {
    requireLocalMachine('The file token store (~/.mesh/token.json)', 'a file system that keeps files between requests');
    this.path = join(options.directory ?? defaultTokenDirectory(), TOKEN_FILE_NAME);
    this.#logger = options.logger ?? createLogger();
    this.#refuseInWorkTree = options.refuseInWorkTree ?? false;
  }

  get directory(): string {
    return dirname(this.path);
  }

  async load(): Promise<TokenSet | null> {
    let read: Awaited<ReturnType<typeof readSecretFile>>;
    try {
      read = await readSecretFile(this.path, { maxBytes: MAX_TOKEN_FILE_BYTES });
    } catch (error) {
      if (error instanceof RefusedReadError && (error.reason === 'symlink' || error.reason === 'foreign-owner')) {
        throw fileStoreError('Reading the tokens from', this.path, error);
      }
      const why = error instanceof RefusedReadError ? error.detail : `it could not be read (${errnoOf(error)})`;
      await this.#moveAside(why);
      read = undefined;
    }
    if (read?.loosened !== undefined) {
      this.#logger.warn(`${this.path} was readable by other users (mode ${read.loosened.toString(8)}); tightened it to 600.`);
    }
    let tokens: TokenSet | null = null;
    if (read) {
      try {
        tokens = parseStoredTokenJson(read.text);
      } catch (error) {
        if (!(error instanceof TokenSetFormatError)) throw error;
        await this.#moveAside(`it is not a token set: ${error.message}`);
      }
    }
    // A save cut short by a kill may have left the newer set in its temp file.
    const leftover = await takeUpLeftover(this.path, tokens, read?.mtimeMs, this.#logger);
    return leftover ?? tokens;
  }

  /**
   * Writes the set to `token.json` atomically with mode 0600 (directory 0700), in the format the
   * Python SDK shares. @throws TokenStoreError naming the path when it cannot be written.
   */
  async save(tokens: TokenSet): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: DIRECTORY_MODE });
      // mkdir's mode applies only on create (and through the umask): set it explicitly.
      await chmod(this.directory, DIRECTORY_MODE);
      if (this.#refuseInWorkTree) await this.#refuseIfPublishable();
      await writeSecretFile(this.path, `${tokenSetJson(tokens, 2)}\n`);
    } catch (error) {
      throw fileStoreError('Saving the tokens to', this.path, error);
    }
    await removeDeadLeftovers(this.path); // what a killed writer left is superseded now
  }

  async #refuseIfPublishable(): Promise<void> {
    this.#exposure ??= gitExposure(this.path);
    if ((await this.#exposure) === 'safe') return;
    this.#exposure = undefined; // checked again next time: the user may have fixed it meanwhile
    throw new TokenStoreError(
      `${this.path} is inside a git work tree that does not ignore it: a commit could publish the tokens.`,
      {
        code: ErrorCode.TOKEN_STORE_UNSAFE,
        hint: `Add ${basename(this.directory)}/ to that work tree's .gitignore, or set MESH_TOKEN_DIR to a directory outside it.`,
      },
    );
  }

  /** Deletes `token.json` (already gone is fine). @throws TokenStoreError naming the path when it cannot be removed. */
  async clear(): Promise<void> {
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw fileStoreError('Removing the tokens in', this.path, error);
    });
  }

  describe(): string {
    return `file ${this.path}`;
  }

  /** Keeps a bad file for inspection instead of deleting or overwriting it. */
  async #moveAside(reason: string): Promise<void> {
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await rename(this.path, aside);
      this.#logger.warn(`Ignoring ${this.path}: ${reason}. Moved it to ${aside}; log in again with \`npx mesh-auth\`.`);
    } catch (error) {
      this.#logger.warn(
        `Ignoring ${this.path}: ${reason}; it could not be moved aside either (${(error as NodeJS.ErrnoException).code ?? error}). Fix or remove it.`,
      );
    }
  }
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String(error);
}
