/**
 * Writing generated images for `saveTo`. Each file is written to a fresh temporary name in the
 * same folder (opened with `wx`: never an existing file, never through a symbolic link) and then
 * renamed over the target: a link planted at the target is replaced, not followed, and a reader
 * never sees half an image. Images are not secrets: the mode is the default (0666 less the umask).
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { requireLocalMachine } from '../../config/runtime.js';
import { ConfigError } from '../../errors/mesh-error.js';
import { extensionFor } from './media-type.js';

/**
 * Where each image goes: `saveTo` itself for one image, `stem_0.ext`, `stem_1.ext`... for several
 * (numbered from 0, as the Python SDK names them); a name without an extension gets the image's.
 */
export function savePaths(saveTo: string, mediaTypes: ReadonlyArray<string | undefined>, several: boolean): string[] {
  const ext = extname(saveTo);
  const stem = ext === '' ? saveTo : saveTo.slice(0, -ext.length);
  return mediaTypes.map((type, i) =>
    several ? `${stem}_${i}${ext || extensionFor(type)}` : ext === '' ? `${saveTo}${extensionFor(type)}` : saveTo,
  );
}

/** Fails before the request is sent when `saveTo`'s folder is missing or not writable: a generation costs credits. */
export async function checkSaveTarget(saveTo: string): Promise<void> {
  requireLocalMachine('Saving images (saveTo)', 'a file system that keeps files');
  const folder = dirname(resolve(saveTo));
  const problem = await stat(folder).then(
    async (info) => {
      if (!info.isDirectory()) return `${folder} is not a folder`;
      return access(folder, constants.W_OK).then(
        () => undefined,
        () => `${folder} is not writable`,
      );
    },
    () => `${folder} does not exist`,
  );
  if (problem !== undefined) {
    throw new ConfigError(`saveTo (${saveTo}): ${problem}; nothing was sent.`, {
      hint: 'Name a file in an existing, writable folder, or leave saveTo out.',
    });
  }
}

/** Writes one image: a temporary file beside the target, then renamed over it. */
export async function writeImageFile(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, bytes, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw new ConfigError(
      `saveTo: the image could not be written to ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      { cause: error, hint: 'Name a file in an existing, writable folder, or leave saveTo out.' },
    );
  }
}
