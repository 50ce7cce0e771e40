/**
 * Writes a file holding secrets: mode 0600 set explicitly (an open mode passes through the umask
 * and applies only on create), written to a temp file, fsync'd, then renamed over the target, so
 * a reader sees the old file or the new one, never half of one.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';

export const SECRET_FILE_MODE = 0o600;

export async function writeSecretFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', SECRET_FILE_MODE);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(SECRET_FILE_MODE);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}
