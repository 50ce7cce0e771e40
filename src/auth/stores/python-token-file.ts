/**
 * The Python SDK's headless token file (it writes `$CWD/.mesh_token.json`, else
 * `/tmp/.mesh_token.json`: token_manager.py 1.5.4), shared only when the user names it
 * (`MESH_PYTHON_TOKEN_FILE`, option `pythonTokenFile`). Never found by looking in the working
 * directory: a cloned repository could carry an attacker's tokens there and switch the account
 * (and a victim's fresh tokens would then be written into a tracked file). The layered store reads
 * it when our own stores hold nothing; a family found here stays here (a refreshed set is written
 * back to this very file, never copied elsewhere to rotate apart from the Python SDK's copy).
 *
 * Read with suspicion all the same: only a regular file (no symlink) owned by this user, of a
 * token set's size, holding a set for this deployment's audience. A bad file is ignored with a
 * warning, never moved or rewritten: it is not ours.
 */
import { unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { decodeJwt } from '../../internal/jwt.js';
import { type InternalLogger, silentLogger } from '../../internal/logger.js';
import { RefusedReadError, readSecretFile, writeSecretFile } from '../../internal/secret-file.js';
import { parseStoredTokenJson, TokenSetFormatError, tokenSetJson } from '../tokens/token-set.js';
import { fileStoreError } from './file-errors.js';
import { MAX_TOKEN_FILE_BYTES } from './file-store.js';
import type { TokenSet, TokenStore } from './token-store.js';

export const PYTHON_HEADLESS_FILE_NAME = '.mesh_token.json';

/** Where the Python SDK writes its headless token file, in the order it chooses (for `mesh-auth import-python`). */
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

/**
 * Whether a set is for this deployment: a JWT access token naming its audience, or (only for the
 * default deployment, the Python SDK's own) an opaque one.
 */
export function isForDeployment(tokens: TokenSet, deployment: { audience: string; acceptOpaque: boolean }): boolean {
  const aud = tokens.access_token ? audiences(tokens.access_token) : undefined;
  return aud ? aud.includes(deployment.audience) : deployment.acceptOpaque;
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
    let tokens: TokenSet;
    try {
      const read = await readSecretFile(this.path, { maxBytes: MAX_TOKEN_FILE_BYTES, uid: this.#options.uid });
      if (!read) return null;
      tokens = parseStoredTokenJson(read.text);
    } catch (error) {
      if (
        !(error instanceof TokenSetFormatError || error instanceof RefusedReadError) &&
        !(error as NodeJS.ErrnoException).code
      ) {
        throw error;
      }
      const why = error instanceof RefusedReadError ? error.detail : (error as Error).message;
      this.#logger.warnOnce(`python-token-refused:${this.path}`, `Not using ${this.path} (MESH_PYTHON_TOKEN_FILE): ${why}.`);
      return null;
    }
    if (!isForDeployment(tokens, this.#options)) {
      this.#logger.warnOnce(
        `python-token-audience:${this.path}`,
        `Not using ${this.path} (MESH_PYTHON_TOKEN_FILE): its tokens are for another deployment (audience).`,
      );
      return null;
    }
    return tokens;
  }

  /** Writes in place (the family stays in the Python SDK's file), atomically, mode 0600. */
  async save(tokens: TokenSet): Promise<void> {
    try {
      await writeSecretFile(this.path, tokenSetJson(tokens));
    } catch (error) {
      throw fileStoreError('Saving the tokens to', this.path, error);
    }
  }

  /** Removes the file when it is ours to remove (a logout must not leave a family to be read again). */
  async clear(): Promise<void> {
    try {
      if (!(await readSecretFile(this.path, { maxBytes: MAX_TOKEN_FILE_BYTES, uid: this.#options.uid }))) return;
    } catch {
      return; // not ours: a link, another user's file, not a token file
    }
    await unlink(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw fileStoreError('Removing the tokens in', this.path, error);
    });
  }

  describe(): string {
    return `file ${this.path} (the Python SDK's headless token file, MESH_PYTHON_TOKEN_FILE)`;
  }
}
