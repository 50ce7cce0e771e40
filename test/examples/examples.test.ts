// Every example in examples/ runs against the local stack, and prints what it promises.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { writeSecretFile } from '../../src/internal/secret-file.js';
import { createApiKey } from '../helpers/api-key.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const stack = useStack();
let base: NodeJS.ProcessEnv;

beforeAll(async () => {
  const directory = await scratchDir('mesh-examples-');
  await new FileStore({ directory }).save(await storedTokens(stack, 'examples@example.test'));
  base = { PATH: process.env.PATH, HOME: directory, ...stack.env, MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory };
});

async function example(name: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', name)], {
    cwd: ROOT,
    env: { ...base, ...env },
  });
  return stdout;
}

describe('examples', () => {
  it('every example in examples/ is covered here', async () => {
    const files = (await readdir(join(ROOT, 'examples'))).filter((f) => f.endsWith('.ts')).sort();
    expect(files).toEqual(
      [
        'api-key.ts',
        'basic-chat.ts',
        'cancellation.ts',
        'custom-token-provider.ts',
        'custom-token-store.ts',
        'headless-env-tokens.ts',
        'keys.ts',
        'streaming-chat.ts',
        'vision-chat.ts',
        'generate-image.ts',
        'zkp-keys.ts',
      ].sort(),
    );
  });

  it('basic-chat', async () => {
    const out = await example('basic-chat.ts');
    expect(out).toMatch(/^5 \+ 7 = 12\nmodel \S+ \(\w+\), \d+ tokens(, request req_\w+)?\n/);
  });

  it('streaming-chat', async () => {
    expect(await example('streaming-chat.ts')).toMatch(/^Echo: Tell me a story about a lighthouse\n\(\d+ tokens\)\n$/);
  });

  it('keys', async () => {
    const out = await example('keys.ts');
    expect(out).toContain("keys: [ 'example_openai_key' ]");
    expect(out).toContain('value: sk-example-123');
    expect(out).toContain('missing: getKey says not_found');
    expect(out).toContain('deleteKey: unsupported_by_backend');
  });

  it('zkp-keys', async () => {
    const out = await example('zkp-keys.ts');
    expect(out).toMatch(/^stored: commitment [0-9a-f]{12}\.\.\. as \S+_example_signing_key\n/);
    expect(out).toContain('the stored value verifies: true');
    expect(out).toContain('another value verifies: false');
    expect(out).toContain('never stored: verifyKey says not_found');
  });

  it('vision-chat', async () => {
    expect(await example('vision-chat.ts')).toBe(
      [
        'I see 1 image (image/png 3x2). Echo: What is in this picture?',
        'model gpt-4o (openai)',
        'I see 1 image (image/png 3x2). Echo: Describe it in one line.',
        'refused: image_unsupported_type',
        '',
      ].join('\n'),
    );
  });

  it('generate-image', async () => {
    const folder = await scratchDir('mesh-example-images-');
    const out = await example('generate-image.ts', { EXAMPLE_OUTPUT_DIR: folder });
    const lines = out.split('\n');
    expect(lines[0]).toBe(`saved ${join(folder, 'lighthouse.png')} (image/png)`);
    expect(lines[1]).toMatch(/^edited: \S+night\.png \(\d+ base64 characters\)$/);
    expect(lines[1]).toContain(join(folder, 'night.png'));
    expect(lines.slice(2)).toEqual(['']);
  });

  it('headless-env-tokens', async () => {
    const tokens = await storedTokens(stack, 'server@example.test');
    const out = await example('headless-env-tokens.ts', {
      MESH_TOKEN_STORE: '',
      MESH_TOKEN_FROM_ENV: 'true',
      MESH_ACCESS_TOKEN: tokens.access_token,
      MESH_REFRESH_TOKEN: tokens.refresh_token,
      MESH_TOKEN_EXPIRES_AT: String(Math.floor(Date.now() / 1000) - 60), // expired: the example refreshes
    });
    expect(out).toMatch(/^store: environment/);
    expect(out).toMatch(/tokens refreshed; they expire at \d{4}-/);
    expect(out).toContain('6 * 7 = 42');
  });

  it('api-key', async () => {
    const apiKey = await createApiKey(stack, 'ci@example.test', 'example');
    const out = await example('api-key.ts', { MESH_API_KEY: apiKey, MESH_TOKEN_STORE: '' });
    expect(out).toBe('2 + 2 = 4\nkeys: []\n');
  });

  it('custom-token-store', async () => {
    const path = join(await scratchDir('mesh-custom-store-'), 'tokens.json');
    await writeSecretFile(path, JSON.stringify(await storedTokens(stack, 'custom@example.test')));
    const out = await example('custom-token-store.ts', { EXAMPLE_STORE_PATH: path, MESH_TOKEN_STORE: '' });
    expect(out).toBe(`store: my store (${path})\n10 - 3 = 7\n`);
  });

  it('custom-token-store, empty, in a script: the error says mesh-auth does not fill that store, and how to', async () => {
    const path = join(await scratchDir('mesh-custom-store-'), 'tokens.json');
    const failed = await example('custom-token-store.ts', { EXAMPLE_STORE_PATH: path, MESH_TOKEN_STORE: '', CI: 'true' }).then(
      () => undefined,
      (error: { stderr: string }) => error.stderr,
    );
    expect(failed).toContain(
      `Your token store (my store (${path})) holds no usable login, and \`npx mesh-auth\` does not fill it`,
    );
    expect(failed).toContain('await client.login()');
  });

  it('custom-token-provider', async () => {
    const { access_token } = await storedTokens(stack, 'provider@example.test');
    expect(await example('custom-token-provider.ts', { EXAMPLE_ACCESS_TOKEN: access_token, MESH_TOKEN_STORE: '' })).toBe(
      '9 / 3 = 3\n',
    );
  });

  it('cancellation', async () => {
    const out = await example('cancellation.ts');
    expect(out).toMatch(/^aborted after \d+ characters: "Echo: /);
    expect(out).toMatch(/a bounded call still works: \[/);
  });
});
