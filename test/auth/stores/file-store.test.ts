// FileStore on real files: modes, atomic writes, the Python SDK's format, and every bad input.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RefreshLock } from '../../../src/auth/locks/refresh-lock.js';
import { FileStore } from '../../../src/auth/stores/file-store.js';
import type { TokenSet } from '../../../src/auth/stores/token-store.js';
import { type SecretFileSystem, writeSecretFile } from '../../../src/internal/secret-file.js';
import { recordingLogger } from '../../helpers/logger.js';

let root: string;
let warnings: string[];
let logger: ReturnType<typeof recordingLogger>;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mesh-file-store-'));
  logger = recordingLogger();
  warnings = logger.warnings;
});
afterEach(() => rm(root, { recursive: true, force: true }));

const TOKENS: TokenSet = {
  access_token: 'header.payload.signature',
  refresh_token: 'refresh-secret-1',
  id_token: 'id.token.x',
  token_type: 'Bearer',
  expires_at: 2_000_000_000,
  scope: 'openid offline_access',
};
const storeIn = (dir = join(root, '.mesh')) => new FileStore({ directory: dir, logger });
const mode = async (path: string) => (await stat(path)).mode & 0o777;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('FileStore', () => {
  it('creates the directory 0700 and the file 0600, even under a permissive umask', async () => {
    const previous = process.umask(0);
    try {
      const store = storeIn();
      await store.save(TOKENS);
      expect(await mode(store.directory)).toBe(0o700);
      expect(await mode(store.path)).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('tightens an existing directory and keeps the file 0600 on every write', async () => {
    const dir = join(root, '.mesh');
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const store = storeIn(dir);
    await store.save(TOKENS);
    await store.save({ ...TOKENS, refresh_token: 'refresh-secret-2' });
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(store.path)).toBe(0o600);
  });

  it('round-trips a token set in snake_case JSON and leaves no temp files', async () => {
    const store = storeIn();
    await store.save(TOKENS);
    expect(await store.load()).toEqual(TOKENS);
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toEqual(TOKENS);
    expect(await readdir(store.directory)).toEqual(['token.json']);
  });

  it('reads a token.json written by the Python SDK as-is (float expires_at, extra fields) and keeps every field on a rewrite', async () => {
    const store = storeIn();
    await mkdir(store.directory, { recursive: true });
    const written = {
      access_token: 'a.b.c',
      refresh_token: 'r',
      expires_at: 1900000000.75,
      token_type: 'Bearer',
      expires_in: 86400,
    };
    await writeFile(store.path, JSON.stringify(written), { mode: 0o600 });
    const loaded = await store.load();
    expect({ ...loaded }).toMatchObject({
      access_token: 'a.b.c',
      refresh_token: 'r',
      expires_at: 1900000000,
      token_type: 'Bearer',
    });
    await store.save({ ...(loaded as TokenSet), access_token: 'd.e.f' });
    const rewritten = JSON.parse(await readFile(store.path, 'utf8'));
    expect(rewritten).toEqual({ ...written, access_token: 'd.e.f', expires_at: 1900000000 });
    expect(Number.isInteger(rewritten.expires_at)).toBe(true);
  });

  it('reads expires_at written as a numeric string', async () => {
    const store = storeIn();
    await store.save(TOKENS);
    await writeFile(store.path, JSON.stringify({ ...TOKENS, expires_at: '1900000000' }));
    expect((await store.load())?.expires_at).toBe(1_900_000_000);
  });

  it('keeps the refresh token when expires_at is garbage: the set counts as expired and gets refreshed', async () => {
    const store = storeIn();
    await store.save(TOKENS);
    await writeFile(store.path, JSON.stringify({ ...TOKENS, expires_at: 'next tuesday' }));
    expect(await store.load()).toMatchObject({ refresh_token: 'refresh-secret-1', expires_at: 0 });
  });

  it('answers null when there is no file or no directory', async () => {
    expect(await storeIn(join(root, 'missing', 'deeper')).load()).toBeNull();
  });

  it.each([
    ['truncated JSON', '{"access_token": "abc", "refresh_tok'],
    ['an empty file', ''],
    ['a JSON array', '[1, 2, 3]'],
    ['wrong types', '{"access_token": 42, "refresh_token": {"x": 1}}'],
    ['no credential at all', '{"token_type": "Bearer", "expires_at": 1}'],
    ['binary garbage', '\u0000\u00ff\u0001garbage'],
  ])('moves %s aside as token.json.corrupt-<time>, warns, and goes on as logged out', async (_name, content) => {
    const store = storeIn();
    await store.save(TOKENS);
    await writeFile(store.path, content);
    expect(await store.load()).toBeNull();
    const files = await readdir(store.directory);
    const aside = files.find((name) => name.startsWith('token.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(join(store.directory, aside as string), 'utf8')).toBe(content);
    expect(files).not.toContain('token.json');
    expect(warnings.join('\n')).toMatch(/Moved it to .*token\.json\.corrupt-.*npx mesh-auth/);
    // Nothing secret in the warning, even when the content held a token.
    expect(warnings.join('\n')).not.toContain('abc');
  });

  it('treats an unreadable path (a directory where the file should be) the same way', async () => {
    const store = storeIn();
    await mkdir(store.path, { recursive: true });
    expect(await store.load()).toBeNull();
    expect(warnings.join('\n')).toMatch(/it is not a regular file\. Moved it to .*token\.json\.corrupt-/);
  });

  it('tightens loose permissions on an existing file, with a warning', async () => {
    const store = storeIn();
    await store.save(TOKENS);
    await chmod(store.path, 0o644);
    expect(await store.load()).toEqual(TOKENS);
    expect(await mode(store.path)).toBe(0o600);
    expect(warnings.join('\n')).toMatch(/readable by other users \(mode 644\); tightened it to 600/);
  });

  it('fails a save with the real error and leaves no temp file behind', async () => {
    const store = storeIn();
    await store.save(TOKENS);
    // A directory path that runs through a file: mkdir fails with ENOTDIR (root ignores modes).
    const failing = new FileStore({ directory: join(store.path, 'not-a-dir'), logger });
    await expect(failing.save(TOKENS)).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(await store.load()).toEqual(TOKENS);
    expect(await readdir(store.directory)).toEqual(['token.json']);
  });

  it('clears the file, and clearing twice is fine', async () => {
    const store = storeIn();
    await store.save(TOKENS);
    await store.clear();
    await store.clear();
    expect(await store.load()).toBeNull();
  });

  it('describes itself with its path', () => {
    expect(storeIn(join(root, 'x')).describe()).toBe(`file ${join(root, 'x', 'token.json')}`);
  });

  it('fsyncs the directory after the rename, so the new file survives a power cut (issue 12 item 8)', async () => {
    const calls: string[] = [];
    const fs: SecretFileSystem = {
      open: async (path, flags, mode) => {
        const handle = await open(path, flags, mode);
        const label = String(path) === join(root, 'dir') ? 'dir' : 'file';
        calls.push(`open ${label}`);
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          calls.push(`sync ${label}`);
          await sync();
        };
        return handle;
      },
      rename: async (from, to) => {
        calls.push('rename');
        await rename(from, to);
      },
      unlink,
    };
    await mkdir(join(root, 'dir'));
    await writeSecretFile(join(root, 'dir', 'token.json'), 'content', { fs, platform: 'linux' });
    expect(calls).toEqual(['open file', 'sync file', 'rename', 'open dir', 'sync dir']);
    expect(await readFile(join(root, 'dir', 'token.json'), 'utf8')).toBe('content');
    // Windows cannot open a directory: the rename stands on its own there.
    calls.length = 0;
    await writeSecretFile(join(root, 'dir', 'token.json'), 'again', { fs, platform: 'win32' });
    expect(calls).toEqual(['open file', 'sync file', 'rename']);
  });
});

// Issue 19 items 9 and 10: a token directory may be shared or planted. Nothing is followed, nothing
// another user wrote is trusted, no read is unbounded, and every failure is a typed error with a hint.
describe('FileStore against other users, links and absurd files', () => {
  const asRoot = process.getuid?.() === 0;
  const OTHER_UID = 12345;

  it('token.json as a symbolic link: a TokenStoreError (token_store_unsafe), the target neither read nor changed', async () => {
    const store = storeIn();
    await mkdir(store.directory, { recursive: true });
    const target = join(root, 'elsewhere.json');
    await writeFile(target, JSON.stringify(TOKENS), { mode: 0o644 });
    await symlink(target, store.path);
    const error = await store.load().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TokenStoreError', code: 'token_store_unsafe' });
    expect((error as Error).message).toMatch(/symbolic link/);
    expect((error as { hint: string }).hint).toMatch(/never follows a symbolic link/);
    expect(await mode(target)).toBe(0o644); // not "tightened" through the link
    expect(await readFile(target, 'utf8')).toBe(JSON.stringify(TOKENS));
  });

  it.skipIf(!asRoot && !process.env.CI)(
    "another user's token.json in a shared directory is refused, even when running as root",
    async () => {
      const store = storeIn();
      await store.save(TOKENS);
      await chown(store.path, OTHER_UID, OTHER_UID);
      const error = await store.load().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'TokenStoreError', code: 'token_store_unsafe' });
      expect((error as Error).message).toMatch(new RegExp(`another user \\(uid ${OTHER_UID}`));
    },
  );

  it.skipIf(!asRoot && !process.env.CI)(
    'a lock file another user holds: a TokenStoreError at once, not a raw EPERM after 45 s',
    async () => {
      const directory = join(root, '.mesh');
      await mkdir(directory, { recursive: true });
      const lockPath = join(directory, 'token.json.lock');
      await writeFile(lockPath, JSON.stringify({ pid: 1, host: 'another-host', nonce: 'n', createdAt: Date.now() }));
      await chown(lockPath, OTHER_UID, OTHER_UID);
      const started = Date.now();
      const error = await new RefreshLock(lockPath).acquire().catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'TokenStoreError', code: 'token_store_unsafe' });
      expect((error as { hint: string }).hint).toMatch(/MESH_TOKEN_DIR/);
      expect(Date.now() - started).toBeLessThan(1000);
    },
  );

  it('a 1.1 GB token.json: moved aside at once with a warning that says why (no RangeError, nothing read)', async () => {
    const store = storeIn();
    await mkdir(store.directory, { recursive: true });
    await writeFile(store.path, '');
    await truncate(store.path, 1_100_000_000); // sparse: no disk used
    const started = Date.now();
    expect(await store.load()).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(warnings.join('\n')).toMatch(/it is 1100000000 bytes, and a token set is a few kilobytes\. Moved it to/);
  });

  it("leftover temp files of dead processes: a half-written one is removed, a live writer's is left alone", async () => {
    const store = storeIn();
    await store.save(TOKENS);
    const dead = join(store.directory, 'token.json.999999.abcdef.tmp');
    const live = join(store.directory, `token.json.${process.ppid}.abcdef.tmp`);
    await writeFile(dead, '{"access_token": "half', { mode: 0o600 });
    await writeFile(live, '{"access_token": "in progress', { mode: 0o600 });
    expect(await store.load()).toEqual(TOKENS);
    expect((await readdir(store.directory)).sort()).toEqual(['token.json', `token.json.${process.ppid}.abcdef.tmp`]);
  });

  it('a complete newer set left by a writer killed before its rename is used while token.json holds an unfinished refresh', async () => {
    const store = storeIn();
    const intent = { idempotency_key: 'k', refresh_token_sha256: sha256(TOKENS.refresh_token as string), started_at: 1 };
    await mkdir(store.directory, { recursive: true });
    await writeFile(store.path, JSON.stringify({ ...TOKENS, mesh_refresh_intent: intent }), { mode: 0o600 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const newer = { ...TOKENS, access_token: 'new.access.token', refresh_token: 'rotated-refresh' };
    await writeFile(join(store.directory, 'token.json.999999.0a0b0c.tmp'), JSON.stringify(newer), { mode: 0o600 });
    expect(await store.load()).toMatchObject({ access_token: 'new.access.token', refresh_token: 'rotated-refresh' });
    expect(warnings.join('\n')).toMatch(/killed while saving tokens/);
    // Without an unfinished refresh in token.json, the same leftover is stale: removed, not used.
    await store.save(TOKENS);
    await writeFile(join(store.directory, 'token.json.999999.0d0e0f.tmp'), JSON.stringify(newer), { mode: 0o600 });
    expect(await store.load()).toEqual(TOKENS);
    expect(await readdir(store.directory)).toEqual(['token.json']);
  });

  it('the default ~/.mesh inside a git work tree that does not ignore it: refused (token_store_unsafe); ignored, or a directory the user named, is fine', async () => {
    const home = join(root, 'home');
    await mkdir(home);
    execFileSync('git', ['init', '-q', home]);
    const guarded = new FileStore({ directory: join(home, '.mesh'), logger, refuseInWorkTree: true });
    const error = await guarded.save(TOKENS).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TokenStoreError', code: 'token_store_unsafe' });
    expect((error as { hint: string }).hint).toMatch(/Add \.mesh\/ to that work tree's \.gitignore, or set MESH_TOKEN_DIR/);
    await expect(lstat(guarded.path)).rejects.toThrow(/ENOENT/);
    await writeFile(join(home, '.gitignore'), '.mesh/\n');
    await guarded.save(TOKENS);
    expect(await guarded.load()).toEqual(TOKENS);
    // A directory named by the user (MESH_TOKEN_DIR) is taken as chosen.
    const named = new FileStore({ directory: join(home, 'named'), logger });
    await named.save(TOKENS);
    expect(await named.load()).toEqual(TOKENS);
  });
});
