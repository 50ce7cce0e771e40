/**
 * Every file-system failure of the local token stores and their lock, as a `TokenStoreError` that
 * names the path, the system's reason and what to do: a full disk, a permission problem, a
 * read-only or vanished directory, or a file not safe to trust (a symbolic link, another user's).
 */
import { ErrorCode } from '../../errors/codes.js';
import { TokenStoreError } from '../../errors/mesh-error.js';
import { RefusedReadError } from '../../internal/secret-file.js';

const OWN_DIRECTORY = 'or set MESH_TOKEN_DIR to a directory of your own';

const REFUSED_HINTS: Record<RefusedReadError['reason'], string> = {
  symlink:
    'mesh-sdk never follows a symbolic link for a token or lock file: replace the link with the file itself, or point MESH_TOKEN_DIR at the real directory.',
  'foreign-owner': `A file another user owns is never trusted: remove it, ${OWN_DIRECTORY}.`,
  'not-a-file': 'Remove it; the next login writes a new token file.',
  'too-large': 'Remove it and log in again (`npx mesh-auth`).',
};

function hintFor(code: string | undefined, path: string): string {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `The disk (or your quota) is full: free some space, ${OWN_DIRECTORY} on another disk.`;
    case 'EACCES':
    case 'EPERM':
      return `Check that ${path} and its directory are yours and writable (the directory 0700), ${OWN_DIRECTORY}.`;
    case 'EROFS':
      return `The file system is read-only: ${OWN_DIRECTORY} on a writable one, or use MESH_TOKEN_STORE=memory for a one-off run.`;
    case 'ENOENT':
    case 'ENOTDIR':
      return `A directory on the way to ${path} is missing or not a directory: create it, ${OWN_DIRECTORY}.`;
    default:
      return `Check ${path} and its directory, ${OWN_DIRECTORY}.`;
  }
}

/**
 * The typed error for a failed file operation. `doing` says what was being done, e.g. "Saving the
 * tokens to" or "Taking the refresh lock".
 */
export function fileStoreError(doing: string, path: string, error: unknown): TokenStoreError {
  if (error instanceof TokenStoreError) return error;
  if (error instanceof RefusedReadError) {
    return new TokenStoreError(`${doing} ${path} was refused: ${error.detail}.`, {
      code: ErrorCode.TOKEN_STORE_UNSAFE,
      hint: REFUSED_HINTS[error.reason],
      cause: error,
    });
  }
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason = code === 'ENOSPC' ? 'no space left on the device' : (code ?? (error as Error)?.message ?? String(error));
  return new TokenStoreError(`${doing} ${path} failed (${reason}).`, { hint: hintFor(code, path), cause: error });
}
