/**
 * Writes a file holding secrets: mode 0600 set explicitly (an open mode passes through the umask
 * and applies only on create), written to a temp file, fsync'd, renamed over the target, and then
 * the directory fsync'd: the rename is an entry in the directory, and until the directory is on
 * disk a power cut can bring back the old file (whose refresh token the backend has already
 * rotated away) or no file at all. A reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import { dirname } from 'node:path';

export const SECRET_FILE_MODE = 0o600;

/** The file-system calls used here; tests pass a recording one. */
export interface SecretFileSystem {
  open: typeof fsPromises.open;
  rename: typeof fsPromises.rename;
  unlink: typeof fsPromises.unlink;
}

export interface SecretFileOptions {
  /** @default node:fs/promises */
  fs?: SecretFileSystem;
  /** Decides whether directories can be fsync'd (not on Windows). @default process.platform */
  platform?: NodeJS.Platform;
}

export async function writeSecretFile(path: string, content: string, options: SecretFileOptions = {}): Promise<void> {
  const fs = options.fs ?? fsPromises;
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(temporary, 'wx', SECRET_FILE_MODE);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(SECRET_FILE_MODE);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.unlink(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(dirname(path), fs, options.platform ?? process.platform);
}

/**
 * fsync of a directory makes the renames in it durable (POSIX). Windows cannot open a directory
 * as a file (and NTFS journals the rename itself), so it is skipped there; a file system that
 * refuses to sync a directory (EINVAL, EISDIR, EPERM on some network mounts) is not an error:
 * the file itself is already complete on disk.
 */
async function syncDirectory(directory: string, fs: SecretFileSystem, platform: NodeJS.Platform): Promise<void> {
  if (platform === 'win32') return;
  let handle: fsPromises.FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP') throw error;
  } finally {
    await handle?.close();
  }
}
