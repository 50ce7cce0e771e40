// Configuration in, working token machinery out: what MeshClient and the CLIs build on.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../dev/stack.js';
import { createTokenMachinery } from '../../src/auth/create-token-manager.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { storedTokens } from '../helpers/token-manager.js';

let stack: Stack;
let directory: string;
beforeAll(async () => {
  stack = await startStack();
  directory = await mkdtemp(join(tmpdir(), 'mesh-machinery-'));
});
afterAll(async () => {
  await stack.close();
  await rm(directory, { recursive: true, force: true });
});

describe('createTokenMachinery', () => {
  it('from the environment of a headless server: file store, refresh through the backend, validation by the backend', async () => {
    const env = { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file' };
    const tokens = await storedTokens(stack);
    await new FileStore({ directory }).save({ ...tokens, expires_at: Math.floor(Date.now() / 1000) - 1 });
    const { manager, validator, selection } = createTokenMachinery(resolveConfig({ env }), { env, tokenDirectory: directory });
    expect(selection.store.describe()).toBe(`file ${join(directory, 'token.json')}`);

    const before = stack.backend.counters.refreshes;
    const access = await manager.getAccessToken();
    expect(stack.backend.counters.refreshes).toBe(before + 1);
    const onDisk = JSON.parse(await readFile(join(directory, 'token.json'), 'utf8'));
    expect(onDisk.access_token).toBe(access);
    expect(onDisk.refresh_token).not.toBe(tokens.refresh_token);

    expect(await validator.validate(access)).toMatchObject({ valid: true, source: 'backend' });
    expect(await validator.verifyLocally(access)).toMatchObject({ valid: true, source: 'local' });
  });
});
