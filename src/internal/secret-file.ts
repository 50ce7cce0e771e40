/**
 * Writes a file holding secrets: mode 0600 set explicitly (an open mode passes through the umask
 * and applies only on create), written to a temp file, fsync'd, renamed over the target, and then
 * the directory fsync'd: the rename is an entry in the directory, and until the directory is on
 * disk a power cut can bring back the old file (whose refresh token the backend has already
 * rotated away) or no file at all. A reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { constants } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { dirname } from 'node:path';

export const SECRET_FILE_MODE = 0o600;

/**
 * Published when a secret file's temp copy is complete on disk and about to be renamed into place
 * (`{ path, temporary }`, no content): tracing, and the crash soak, which kills a process right there.
 */
export const SECRET_FILE_CHANNEL = 'mesh-sdk:secret-file';
const secretFileChannel = channel(SECRET_FILE_CHANNEL);

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
  if (secretFileChannel.hasSubscribers) secretFileChannel.publish({ path, temporary });
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

/** Why a secret file was not read: it is not a file of this user's to trust, or it is far too large. */
export type RefusedRead = 'symlink' | 'not-a-file' | 'foreign-owner' | 'too-large';

export class RefusedReadError extends Error {
  constructor(
    readonly path: string,
    readonly reason: RefusedRead,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export interface ReadSecretOptions {
  /** Larger files are refused without being read. */
  maxBytes: number;
  /** This user's uid. @default process.getuid() (none on Windows: no owner check) */
  uid?: number;
}

/**
 * Reads a file holding secrets, trusting only what this user wrote: opened without following a
 * symbolic link (`O_NOFOLLOW`; a link planted in a shared directory is refused, and its target is
 * neither read nor changed), checked through the open handle (a regular file, owned by this user,
 * at most `maxBytes`), read from that same handle (no swap between check and read), and tightened
 * to 0600 through it if loose. Answers `undefined` when there is no file.
 * @throws RefusedReadError when the file is not one to trust; the system's error otherwise
 */
export async function readSecretFile(
  path: string,
  options: ReadSecretOptions,
): Promise<{ text: string; loosened: number | undefined; mtimeMs: number } | undefined> {
  let handle: fsPromises.FileHandle;
  try {
    handle = await fsPromises.open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw new RefusedReadError(path, 'symlink', 'it is a symbolic link');
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RefusedReadError(path, 'not-a-file', 'it is not a regular file');
    const uid = options.uid ?? process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw new RefusedReadError(path, 'foreign-owner', `it belongs to another user (uid ${info.uid}, not ${uid})`);
    }
    if (info.size > options.maxBytes) {
      throw new RefusedReadError(path, 'too-large', `it is ${info.size} bytes, and a token set is a few kilobytes`);
    }
    const loose = (info.mode & 0o077) !== 0 && process.platform !== 'win32';
    if (loose) await handle.chmod(SECRET_FILE_MODE);
    const text = await readAtMost(handle, options.maxBytes);
    if (text === undefined)
      throw new RefusedReadError(path, 'too-large', `it grew past ${options.maxBytes} bytes while being read`);
    return { text, loosened: loose ? info.mode & 0o777 : undefined, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/** The handle's content if it is at most `maxBytes`, else undefined. */
async function readAtMost(handle: fsPromises.FileHandle, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for (;;) {
    const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - length));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    length += bytesRead;
    if (length > maxBytes) return undefined;
  }
  return Buffer.concat(chunks, length).toString('utf8');
}
