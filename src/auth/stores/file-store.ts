/**
 * `~/.mesh/token.json`: directory 0700, file 0600, written atomically (temp file, fsync, rename,
 * directory fsync), in the snake_case format the Python SDK shares (its desktop fallback file is
 * this same path), keeping every field the set was read with. A corrupt or unreadable file is
 * moved aside with a warning, never overwritten without a trace.
 */
import { chmod, mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLogger, type InternalLogger } from '../../internal/logger.js';
import { writeSecretFile } from '../../internal/secret-file.js';
import { parseStoredTokenJson, TokenSetFormatError, tokenSetJson } from '../token-set.js';
import type { TokenSet, TokenStore } from '../token-store.js';

export const TOKEN_FILE_NAME = 'token.json';
const DIRECTORY_MODE = 0o700;
const FILE_MODE = 0o600; // what loose files are tightened to (writeSecretFile sets it on writes)

export interface FileStoreOptions {
  /** Directory holding token.json. @default ~/.mesh */
  directory?: string;
  logger?: InternalLogger;
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

  constructor(options: FileStoreOptions = {}) {
    this.path = join(options.directory ?? defaultTokenDirectory(), TOKEN_FILE_NAME);
    this.#logger = options.logger ?? createLogger();
  }

  get directory(): string {
    return dirname(this.path);
  }

  async load(): Promise<TokenSet | null> {
    let text: string;
    try {
      await this.#tightenIfLoose();
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      await this.#moveAside(`it could not be read (${code ?? String(error)})`);
      return null;
    }
    try {
      return parseStoredTokenJson(text);
    } catch (error) {
      if (!(error instanceof TokenSetFormatError)) throw error;
      await this.#moveAside(`it is not a token set: ${error.message}`);
      return null;
    }
  }

  async save(tokens: TokenSet): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: DIRECTORY_MODE });
    // mkdir's mode applies only on create (and through the umask): set it explicitly.
    await chmod(this.directory, DIRECTORY_MODE);
    await writeSecretFile(this.path, `${tokenSetJson(tokens, 2)}\n`);
  }

  async clear(): Promise<void> {
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  describe(): string {
    return `file ${this.path}`;
  }

  async #tightenIfLoose(): Promise<void> {
    const info = await stat(this.path);
    if ((info.mode & 0o077) === 0) return;
    await chmod(this.path, FILE_MODE);
    this.#logger.warn(`${this.path} was readable by other users (mode ${(info.mode & 0o777).toString(8)}); tightened it to 600.`);
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
