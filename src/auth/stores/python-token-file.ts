/**
 * The Python SDK's headless token file (`$CWD/.mesh_token.json`, else `/tmp/.mesh_token.json`:
 * token_manager.py 1.5.4) as an import source. The layered store reads it only when our own
 * stores hold nothing; a family found here stays here (a refreshed set is written back to this
 * very file, never copied elsewhere to rotate apart from the Python SDK's copy).
 *
 * Read with suspicion, since `/tmp` and a project directory are places other people can write:
 * only a regular file (no symlink) owned by this user, holding a set for this deployment's
 * audience. A bad file is ignored (debug line), never moved or rewritten: it is not ours.
 */
import { lstat, readFile, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { decodeJwt } from '../../internal/jwt.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import { writeSecretFile } from '../../internal/secret-file.js';
import { parseStoredTokenJson, TokenSetFormatError, tokenSetJson } from '../token-set.js';
import type { TokenSet, TokenStore } from '../token-store.js';

export const PYTHON_HEADLESS_FILE_NAME = '.mesh_token.json';

/** The Python SDK's headless token files, in the order it chooses them. */
export function pythonHeadlessTokenPaths(cwd: string = process.cwd()): string[] {
  return [join(cwd, PYTHON_HEADLESS_FILE_NAME), join(sep, 'tmp', PYTHON_HEADLESS_FILE_NAME)];
}

export interface PythonTokenFileOptions {
  path: string;
  /** The audience this configuration's tokens carry; a JWT for another one is not imported. */
  audience: string;
  /** Whether an opaque (non-JWT) access token may be imported: only for the default deployment. */
  acceptOpaque: boolean;
  logger?: InternalLogger;
  /** This user's uid (tests). @default process.getuid() */
  uid?: number;
}

function audiences(accessToken: string): string[] | undefined {
  try {
    const aud = (decodeJwt(accessToken).payload as { aud?: unknown }).aud;
    if (typeof aud === 'string') return [aud];
    if (Array.isArray(aud)) return aud.filter((value): value is string => typeof value === 'string');
    return undefined;
  } catch {
    return undefined;
  }
}

export class PythonTokenFile implements TokenStore {
  readonly path: string;
  readonly #options: PythonTokenFileOptions;
  readonly #logger: InternalLogger;

  constructor(options: PythonTokenFileOptions) {
    this.path = options.path;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  async load(): Promise<TokenSet | null> {
    if (!(await this.#isOurs())) return null;
    let tokens: TokenSet;
    try {
      tokens = parseStoredTokenJson(await readFile(this.path, 'utf8'));
    } catch (error) {
      if (!(error instanceof TokenSetFormatError) && !(error as NodeJS.ErrnoException).code) throw error;
      this.#logger.debug(`Not importing ${this.path}: ${(error as Error).message}.`);
      return null;
    }
    const aud = tokens.access_token ? audiences(tokens.access_token) : undefined;
    if (aud ? !aud.includes(this.#options.audience) : !this.#options.acceptOpaque) {
      this.#logger.debug(`Not importing ${this.path}: its tokens are for another deployment (audience).`);
      return null;
    }
    return tokens;
  }

  /** Writes in place (the family stays in the Python SDK's file), atomically, mode 0600. */
  async save(tokens: TokenSet): Promise<void> {
    await writeSecretFile(this.path, tokenSetJson(tokens));
  }

  /** Removes the file when it is ours to remove (a logout must not leave a family to be re-imported). */
  async clear(): Promise<void> {
    if (!(await this.#isOurs())) return;
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  describe(): string {
    return `file ${this.path} (the Python SDK's headless token file)`;
  }

  async #isOurs(): Promise<boolean> {
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(this.path);
    } catch {
      return false;
    }
    if (!info.isFile()) {
      this.#logger.debug(`Not importing ${this.path}: not a regular file.`);
      return false;
    }
    const uid = this.#options.uid ?? process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      this.#logger.debug(`Not importing ${this.path}: owned by uid ${info.uid}, not by this user.`);
      return false;
    }
    return true;
  }
}
