// The CLIs of the installed package under Node.js, Bun and Deno, in each runtime's natural form:
// Node `node_modules/.bin/mesh-auth` (what npx runs), Bun `bunx --bun mesh-auth` (plain `bunx`
// honours the bin's `#!/usr/bin/env node` and runs Node.js), Deno `deno run -A npm:mesh-sdk/mesh-auth`
// from the project (resolved from its node_modules). Under Bun and Deno a `node` on PATH that only
// fails stands guard: the CLI must not fall back to Node.js. The login is planted in
// ~/.mesh/token.json with its access token expired, so `mesh-auth token` refreshes it.
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';
import {
  type ConsumerProject,
  consumerProject,
  LOCAL_RUNTIMES,
  type LocalRuntime,
  type ProcessResult,
  requireRuntime,
  runCommand,
} from './harness.js';

let project: ConsumerProject;
/** A folder with a `node` that fails loudly, first on PATH under Bun and Deno. */
let guard: string;
const homes: string[] = [];

beforeAll(async () => {
  [project, guard] = await Promise.all([consumerProject('local-cli'), mkdtemp(join(tmpdir(), 'mesh-node-guard-'))]);
  await writeFile(join(guard, 'node'), '#!/bin/sh\necho "node ran instead of the runtime under test" >&2\nexit 97\n');
  await chmod(join(guard, 'node'), 0o755);
});
afterAll(async () => {
  await Promise.all([
    project?.remove(),
    guard && rm(guard, { recursive: true, force: true }),
    ...homes.map((home) => rm(home, { recursive: true, force: true })),
  ]);
});

/** The command line of a bin of the installed package, as a user of `runtime` types it. */
function binCommand(runtime: LocalRuntime, bin: 'mesh-auth' | 'mesh-env', args: string[]): string[] {
  const binary = requireRuntime(runtime);
  if (runtime === 'bun') return [join(dirname(binary), 'bunx.exe'), '--bun', bin, ...args];
  if (runtime === 'deno') return [binary, 'run', '-A', `npm:mesh-sdk/${bin}`, ...args];
  return [binary, join('node_modules', '.bin', bin), ...args];
}

// Each runtime with its own stack: what the backend counts is that runtime's alone.
describe.each(LOCAL_RUNTIMES)('%s', (runtime) => {
  const stack = useStack();
  let home: string;
  let planted: TokenSet;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), `mesh-runtime-cli-${runtime}-`));
    homes.push(home);
    planted = { ...(await storedTokens(stack, `cli-${runtime}@example.test`)), expires_at: Math.floor(Date.now() / 1000) - 60 };
    await new FileStore({ directory: join(home, '.mesh') }).save(planted);
    const path = runtime === 'node' ? process.env.PATH : `${guard}:${process.env.PATH}`;
    // Deno: an npm registry that cannot answer, so `npm:mesh-sdk` can only be the installed package.
    env = { PATH: path, HOME: home, ...stack.env, MESH_HEADLESS: 'true', NPM_CONFIG_REGISTRY: 'http://127.0.0.1:9/' };
  });

  const run = (bin: 'mesh-auth' | 'mesh-env', args: string[]): Promise<ProcessResult> =>
    runCommand(binCommand(runtime, bin, args), { cwd: project.dir, env, timeoutMs: 30_000 });
  const stored = async () => (await new FileStore({ directory: join(home, '.mesh') }).load()) as TokenSet;

  describe('mesh-auth and mesh-env from the installed package', () => {
    it('mesh-auth token: refreshes the expired login once and prints the new access token, nothing else', async () => {
      const refreshes = stack.backend.counters.refreshes;
      const result = await run('mesh-auth', ['token']);
      expect(result.code, result.stderr).toBe(0);
      expect(stack.backend.counters.refreshes - refreshes).toBe(1);
      const kept = await stored();
      expect(kept.access_token).not.toBe(planted.access_token);
      // Compared, never shown: a failing assertion would print the token.
      expect(result.stdout === `${kept.access_token}\n`, 'stdout is the stored access token and a newline').toBe(true);
    });

    it('mesh-auth status --json: logged in, by whom, in which store', async () => {
      const result = await run('mesh-auth', ['status', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        loggedIn: true,
        email: `cli-${runtime}@example.test`,
        store: `file ${join(home, '.mesh', 'token.json')}`,
      });
    });

    it('mesh-env: writes the login to a .env file (mode 600)', async () => {
      const output = join(home, 'app', '.env');
      await mkdir(dirname(output), { recursive: true });
      const result = await run('mesh-env', ['-o', output, '-f']);
      expect(result.code, result.stderr).toBe(0);
      expect((await stat(output)).mode & 0o777).toBe(0o600);
      const text = await readFile(output, 'utf8');
      expect(text).toContain(`MESH_API_URL=${stack.apiUrl}\n`);
      expect(text.includes(`MESH_ACCESS_TOKEN=${(await stored()).access_token}\n`), 'the stored access token').toBe(true);
    });
  });
});
