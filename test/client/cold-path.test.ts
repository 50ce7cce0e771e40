// What a fresh process loads on its way to the first call (issue 15, goals 2 and 4): the login
// machinery (openid-client, jose, open), the Redis client, the keychain binding and zod must stay
// unloaded by import + construction + a first successful call with a valid token in a file store.
// A child process records every package it loads (cold-path-child.ts); the last phase, a login,
// proves that the recorder does see openid-client when it is loaded.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const CHILD = resolve(import.meta.dirname, 'cold-path-child.ts');

/** Never loaded on the way to a first call: the login's, the shared store's, the keychain's, zod, and sharp (images only). */
const LAZY = [
  'openid-client',
  'jose',
  'open',
  'redis',
  '@redis/client',
  '@napi-rs/keyring',
  'zod',
  'sharp',
  '@opentelemetry/api',
];
/** What a first reply may load: nothing since the OpenAI-shaped chat reply is checked by hand (zod reads only the rarer shapes). */
const LOADED_BY_REPLY: Record<string, string[]> = { listKeys: [], chat: [] };

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

let callbackPort = 0;
const stack = useStack(async () => {
  callbackPort = await freePort();
  return { callbackPorts: [callbackPort] };
});

interface Phase {
  phase: string;
  packages: string[];
}

async function runChild(call: 'listKeys' | 'chat'): Promise<Map<string, string[]>> {
  const directory = await mkdtemp(join(tmpdir(), 'mesh-cold-'));
  directories.push(directory);
  await new FileStore({ directory }).save(await storedTokens(stack));
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, call, String(callbackPort)], {
    env: {
      ...process.env,
      ...stack.env,
      CI: 'true',
      MESH_TOKEN_STORE: 'file',
      MESH_TOKEN_DIR: directory,
      MESH_API_KEY: '',
      DEBUG: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  if (code !== 0) throw new Error(`the child exited with ${code}: ${stdout.slice(-1000)} ${stderr.slice(-2000)}`);
  const phases = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Phase);
  return new Map(phases.map((p) => [p.phase, p.packages]));
}

describe('the cold path', () => {
  it.each(['listKeys', 'chat'] as const)(
    'import, new MeshClient() and a first %s() load none of the lazy packages; a login then loads openid-client',
    async (call) => {
      const phases = await runChild(call);
      expect([...phases.keys()]).toEqual(['import', 'construct', 'first-call', 'driver', 'login']);
      for (const name of ['import', 'construct', 'first-call'] as const) {
        const loaded = phases.get(name) ?? [];
        expect(loaded).toContain('undici'); // the recorder sees packages at all
        const allowed = name === 'first-call' ? (LOADED_BY_REPLY[call] ?? []) : [];
        expect(loaded.filter((p) => LAZY.includes(p) && !allowed.includes(p))).toEqual([]);
      }
      expect(phases.get('driver')).not.toContain('openid-client');
      expect(phases.get('login')).toContain('openid-client');
    },
    60_000,
  );
});
