/**
 * The user configuration file on disk (Node only; resolve.ts takes its reader as a parameter, so
 * mesh-sdk/server never loads this): `~/.mesh/config.json`, or the file `MESH_CONFIG_FILE` or the
 * `configFile` option names. Never a file found in the working directory.
 *
 * Read synchronously, once, at construction (it is a few hundred bytes), and read with suspicion
 * as the token files are: a file another user owns, or one that others may write (mode & 0o022),
 * could switch a user's deployment, so it is refused with a ConfigError. A symbolic link is
 * followed (dotfile managers link config files), and the file it reaches is the one judged.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors/mesh-error.js';
import { writeSecretFile } from '../internal/secret-file.js';
import { MAX_USER_CONFIG_BYTES, parseUserConfig, type UserConfig } from './profiles.js';
import type { ConfigFileReader } from './resolve.js';

export const CONFIG_FILE_NAME = 'config.json';

/** `~/.mesh/config.json`. */
export function defaultConfigFile(): string {
  return join(homedir(), '.mesh', CONFIG_FILE_NAME);
}

function refused(path: string, why: string, hint: string): ConfigError {
  return new ConfigError(`${path} was not read: ${why}.`, { hint });
}

/**
 * The text of the file, or undefined when there is none.
 * @throws ConfigError when it is another user's, writable by others, not a regular file, or too large
 */
export function readConfigFileText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw refused(
      path,
      `it could not be opened (${code ?? String(error)})`,
      `Check ${path}, or point MESH_CONFIG_FILE elsewhere.`,
    );
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw refused(path, 'it is not a regular file', `Remove it, or point MESH_CONFIG_FILE at a file.`);
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) {
      throw refused(
        path,
        `it belongs to another user (uid ${info.uid}, not ${uid}), who could choose your deployment through it`,
        `Remove it and write your own (\`npx mesh-auth use <profile>\` writes one), or point MESH_CONFIG_FILE at a file of yours.`,
      );
    }
    if (process.platform !== 'win32' && (info.mode & 0o022) !== 0) {
      throw refused(
        path,
        `other users may write it (mode ${(info.mode & 0o777).toString(8)}), and through it choose your deployment`,
        `Run \`chmod 600 ${path}\`.`,
      );
    }
    if (info.size > MAX_USER_CONFIG_BYTES) {
      throw refused(path, `it is ${info.size} bytes, far more than a configuration`, `Fix ${path}.`);
    }
    const buffer = Buffer.alloc(MAX_USER_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_USER_CONFIG_BYTES) throw refused(path, 'it grew past 64 KiB while being read', `Fix ${path}.`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The reader the client gives resolve.ts: the default path, and the checked read. */
export const configFileReader: ConfigFileReader = {
  defaultPath: defaultConfigFile,
  read: readConfigFileText,
};

/** Reads and checks the file (its shape; values are checked when a client resolves them). */
export function loadUserConfig(path: string): UserConfig {
  return parseUserConfig(readConfigFileText(path), path);
}

/**
 * Sets `defaultProfile` in the file (`mesh-auth use <name>`), keeping every other key as it was:
 * written atomically, mode 0600, its directory created 0700. The file is read with the same
 * checks first; one that is not valid is not overwritten.
 * @throws ConfigError when the existing file is refused or not valid
 */
export async function writeDefaultProfile(path: string, name: string): Promise<void> {
  const text = readConfigFileText(path);
  parseUserConfig(text, path); // refuses to rewrite a file it cannot read as a configuration
  const json = text === undefined ? {} : (JSON.parse(text) as Record<string, unknown>);
  json.defaultProfile = name;
  const directory = dirname(path);
  const created = await mkdir(directory, { recursive: true, mode: 0o700 });
  if (created !== undefined) await chmod(directory, 0o700);
  await writeSecretFile(path, `${JSON.stringify(json, null, 2)}\n`);
}
