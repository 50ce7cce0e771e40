// Issue 12 item 1: a user's script exits by itself (no close()) within 2 s of its last call, on
// every path: the top-level helpers and `new MeshClient()`, success and failure, with a working
// keychain (gnome-keyring on a private D-Bus), no keychain, a hung D-Bus, the file and env stores.
// Regression: the keychain helper's stderr pipe kept the event loop alive on desktops for ever.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccountFor } from '../../src/auth/stores/create-token-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import type { TokenSet } from '../../src/auth/stores/token-store.js';
import { loginTokens } from '../helpers/backend-login.js';
import { keychainToolsInstalled, type PrivateBus, startHungBus, startKeyringBus } from '../helpers/dbus.js';
import { useStack } from '../helpers/stack.js';

const INDEX = resolve(import.meta.dirname, '../../src/index.ts');
// The scripts run in a directory of their own (the Python SDK's `.mesh_token.json` is looked for
// there), so tsx is named by path: `--import tsx` resolves from the working directory.
const TSX = pathToFileURL(resolve(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs')).href;
const EXIT_BOUND_MS = 2000;
const installed = keychainToolsInstalled();

// What a user writes: one call, nothing closed. Prints when its last call is over, then falls off the end.
const SCRIPT = `
import { chat, MeshClient } from ${JSON.stringify(INDEX)};
let outcome;
try {
  const reply = process.env.EXIT_API === 'client' ? await new MeshClient().chat('What is 5 + 7?') : await chat('What is 5 + 7?');
  outcome = typeof reply.content === 'string' && reply.content.length > 0 ? 'ok' : 'empty';
} catch (error) {
  outcome = 'error ' + (error && error.code);
}
process.stdout.write('LAST_CALL_DONE ' + outcome + '\\n');
`;

const stack = useStack();
let root: string;
let script: string;
let keyring: PrivateBus | undefined;
let hung: PrivateBus | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mesh-exit-'));
  script = join(root, 'script.mts');
  await writeFile(script, SCRIPT);
  if (installed) [keyring, hung] = await Promise.all([startKeyringBus(), startHungBus()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([keyring?.stop(), hung?.stop()]);
  await rm(root, { recursive: true, force: true });
});

async function freshTokens(): Promise<TokenSet> {
  const reply = await loginTokens(stack);
  return {
    access_token: reply.access_token,
    refresh_token: reply.refresh_token,
    token_type: 'Bearer',
    expires_at: Math.floor(Date.now() / 1000) + reply.expires_in,
  };
}

interface Run {
  outcome: string;
  /** ms from the script's "last call done" line to the process's exit. */
  lingerMs: number;
  code: number | null;
  stderr: string;
}

function run(env: Record<string, string | undefined>, cwd: string): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', TSX, script], {
      cwd,
      env: { PATH: process.env.PATH, NODE_OPTIONS: process.env.NODE_OPTIONS, ...stack.env, ...env } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let doneAt: number | undefined;
    let outcome = '';
    // Far beyond the bound: a script that never exits is killed and reported, not waited for.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /LAST_CALL_DONE (.*)\n/.exec(out);
      if (match && doneAt === undefined) {
        doneAt = Date.now();
        outcome = match[1] as string;
      }
    });
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const exitAt = Date.now();
      if (doneAt === undefined) reject(new Error(`the script never finished its call (exit ${code}): ${stderr}`));
      else resolveRun({ outcome, lingerMs: exitAt - doneAt, code, stderr });
    });
  });
}

type Setup = (home: string) => Promise<Record<string, string | undefined>>;

const fileWithTokens: Setup = async (home) => {
  await new FileStore({ directory: join(home, '.mesh') }).save(await freshTokens());
  return { MESH_TOKEN_STORE: 'file' };
};
const fileEmpty: Setup = async () => ({ MESH_TOKEN_STORE: 'file' });
const envWithTokens: Setup = async () => {
  const tokens = await freshTokens();
  return {
    MESH_TOKEN_FROM_ENV: 'true',
    MESH_ACCESS_TOKEN: tokens.access_token,
    MESH_REFRESH_TOKEN: tokens.refresh_token,
    MESH_TOKEN_EXPIRES_AT: String(tokens.expires_at),
  };
};
const envBroken: Setup = async () => ({
  MESH_TOKEN_FROM_ENV: 'true',
  MESH_ACCESS_TOKEN: 'not.a.token',
  MESH_REFRESH_TOKEN: 'revoked',
});
// A desktop (MESH_HEADLESS=false): the auto policy spawns the keychain helper.
const desktop = (bus: () => PrivateBus | undefined, withTokens: 'keychain' | 'file' | 'none'): Setup => {
  return async (home) => {
    const busEnv = bus()?.env ?? {};
    // Setting up a working keychain must not time out on a loaded machine (a clear that gave up
    // silently left the previous case's tokens behind); only the hung bus (the 'file' case) may.
    const keychain = new KeychainStore({
      account: keychainAccountFor(stack.apiUrl),
      env: busEnv,
      timeoutMs: withTokens === 'file' ? 500 : 10_000,
    });
    if (withTokens === 'keychain') await keychain.save(await freshTokens());
    else if (withTokens === 'none')
      await keychain.clear(); // the bus is shared between cases
    else await keychain.clear().catch(() => {}); // a hung bus just times out
    if (withTokens === 'file') await new FileStore({ directory: join(home, '.mesh') }).save(await freshTokens());
    return {
      MESH_HEADLESS: 'false',
      DISPLAY: ':0',
      DBUS_SESSION_BUS_ADDRESS: busEnv.DBUS_SESSION_BUS_ADDRESS,
      XDG_RUNTIME_DIR: busEnv.XDG_RUNTIME_DIR,
    };
  };
};
const noKeychain: Setup = async (home) => ({
  MESH_HEADLESS: 'false',
  DISPLAY: ':0',
  DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-bus')}`,
});

const cases: Array<[string, Setup, 'ok' | 'error', boolean]> = [
  ['file store with tokens', fileWithTokens, 'ok', false],
  ['file store without tokens', fileEmpty, 'error', false],
  ['env store', envWithTokens, 'ok', false],
  ['env store with a bad token', envBroken, 'error', false],
  ['no keychain (dead D-Bus), MESH_HEADLESS=false', noKeychain, 'error', false],
  ['working keychain holding the tokens, MESH_HEADLESS=false', desktop(() => keyring, 'keychain'), 'ok', true],
  ['working keychain, no tokens anywhere, MESH_HEADLESS=false', desktop(() => keyring, 'none'), 'error', true],
  ['hung D-Bus, tokens in the file, MESH_HEADLESS=false', desktop(() => hung, 'file'), 'ok', true],
];

describe('a script exits by itself within 2 s of its last call (no close())', () => {
  for (const api of ['helpers', 'client'] as const) {
    for (const [name, setup, expected, needsKeyring] of cases) {
      it.skipIf(needsKeyring && !installed)(
        `${api === 'helpers' ? 'top-level chat()' : 'new MeshClient().chat()'}: ${name}`,
        async () => {
          const home = await mkdtemp(join(root, 'home-'));
          await mkdir(join(home, 'work'));
          const env = await setup(home);
          const result = await run({ HOME: home, EXIT_API: api, ...env }, join(home, 'work'));
          expect(result.lingerMs, `lingered ${result.lingerMs} ms after its last call; stderr: ${result.stderr}`).toBeLessThan(
            EXIT_BOUND_MS,
          );
          if (expected === 'ok') expect(result.outcome, result.stderr).toBe('ok');
          else expect(result.outcome).toMatch(/^error /);
          expect(result.stderr).not.toMatch(/eyJ[\w-]{10,}\./); // no token in anything it printed
        },
        45_000,
      );
    }
  }
});
