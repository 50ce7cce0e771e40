/**
 * Starts a bin's program (a CommonJS bundle beside the bin) with V8's code cache, so that a command
 * does not compile the same code again in every process (issue 22: about 12 ms of a `mesh-auth
 * status` that takes about 100). `vm.Script`'s cached data, written at exit: it then holds every
 * function the command ran, where Node.js 22's `module.enableCompileCache()` keeps only what was
 * compiled up front (measured on Node.js 22 and 24: this way is as fast or faster, and it is the
 * same on Node.js 20, which has no built-in cache). Bun and Deno run the program as it is.
 *
 * The cache is code this process will run with the user's tokens in reach, so it lives only in a
 * directory of the user's own: `mesh-sdk/compile-cache` in `$XDG_CACHE_HOME`, `~/.cache` or
 * `%LOCALAPPDATA%` (Windows), mode 700, owned by this user. A directory that is a link, another
 * user's, or open to others is not used, nor is a cache file that is a link or another user's. The
 * cache is never needed: when it cannot be read or written the program runs without it, and
 * `NODE_DISABLE_COMPILE_CACHE=1` (Node.js's own switch) turns it off.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { SDK_VERSION } from '../version.js';

/** The cache directory, created if missing; undefined when there is none this user alone can write. */
function privateCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base =
    process.platform === 'win32'
      ? env.LOCALAPPDATA
      : env.XDG_CACHE_HOME?.startsWith('/')
        ? env.XDG_CACHE_HOME
        : join(homedir(), '.cache');
  if (!base) return undefined;
  const directory = join(base, 'mesh-sdk', 'compile-cache');
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const info = lstatSync(directory);
    if (!info.isDirectory()) return undefined;
    const uid = process.getuid?.();
    if (uid !== undefined && (info.uid !== uid || (info.mode & 0o077) !== 0)) return undefined;
    return directory;
  } catch {
    return undefined;
  }
}

/** The cache file's bytes when it is a plain file of this user's; undefined otherwise. */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    const uid = process.getuid?.();
    if (!info.isFile() || (uid !== undefined && info.uid !== uid)) return undefined;
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Caches no run has used for this long are removed when a cache is written (installs that are gone). */
const UNUSED_FOR_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Writes beside and renames over, so that a kill mid-write leaves no half cache (a failed write,
 * such as a full disk, leaves nothing). Then removes the caches of the same install and command
 * for other builds (an upgrade's leftovers) and any cache unused for 30 days. Errors are dropped.
 */
function writeCache(path: string, data: Buffer, stale: (name: string) => boolean): void {
  const directory = dirname(path);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, data, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch {
    try {
      unlinkSync(temporary);
    } catch {}
    return;
  }
  try {
    const oldest = Date.now() - UNUSED_FOR_MS;
    for (const name of readdirSync(directory)) {
      const file = join(directory, name);
      if (stale(name) || (name.endsWith('.v8') && lastUse(file) < oldest)) unlinkSync(file);
    }
  } catch {}
}

/** When a cache file was last read (where the file system keeps that) or written. */
function lastUse(file: string): number {
  const info = lstatSync(file);
  return Math.max(info.atimeMs, info.mtimeMs);
}

/** A short, stable name for an install's path (FNV-1a): its caches are its own, never another install's. */
function pathTag(path: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < path.length; index++) hash = Math.imul(hash ^ path.charCodeAt(index), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/**
 * Compiles the program as `require` would (the CommonJS wrapper), with the cached code when there
 * is one, and at exit writes the cache when there was none or V8 refused it (another Node.js, other
 * flags). The code compiled by then (the functions this command ran) goes into it, so each command
 * word has its own.
 */
function runWithCachedData(program: string, directory: string): void {
  const source = readFileSync(program, 'utf8');
  const file = statSync(program);
  // V8 checks the cache against the source's length only: the key must change with the program.
  const command = /^[a-z][a-z-]{0,30}$/.test(process.argv[2] ?? '') ? process.argv[2] : 'default';
  // The install's tag and the Node.js first: projects with their own copy of mesh-sdk, and one
  // machine's several Node.js versions, keep their own caches; a new build replaces its old one.
  const install = `${basename(program)}-${pathTag(program)}-${process.version}-${process.arch}-`;
  const build = [SDK_VERSION, file.size, Math.trunc(file.mtimeMs), file.ino].join('-');
  const cacheFile = join(directory, `${install}${build}-${command}.v8`);
  const stale = (name: string) => name !== basename(cacheFile) && name.startsWith(install) && name.endsWith(`-${command}.v8`);
  const cachedData = readOwnFile(cacheFile);
  // The program has no import() (the build turns it into require()), which a vm.Script run from
  // cached data could not do on Node.js 20.
  const script = new Script(Module.wrap(source), { filename: program, cachedData });
  const wrapped = script.runInThisContext() as (...args: unknown[]) => void;
  if (cachedData === undefined || script.cachedDataRejected === true) {
    process.once('exit', () => writeCache(cacheFile, script.createCachedData(), stale));
  }
  const module = { exports: {}, filename: program, id: program, loaded: false };
  wrapped.call(module.exports, module.exports, createRequire(program), module, program, dirname(program));
}

/** Runs `name`, a CommonJS program in the bin's directory (`directory`), with the code cache where it can. */
export function launch(directory: string, name: string): void {
  const program = join(directory, name);
  const require = createRequire(program);
  const onNode = process.versions.bun === undefined && process.versions.deno === undefined;
  const cache = onNode && process.env.NODE_DISABLE_COMPILE_CACHE === undefined ? privateCacheDirectory() : undefined;
  if (cache === undefined) require(program);
  else runWithCachedData(program, cache);
}
