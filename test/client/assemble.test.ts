// The composition root: configuration in, a client's working parts out (what MeshClient delegates to).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { assembleClient } from '../../src/client/assemble.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack();
let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-machinery-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('assembleClient', () => {
  it('from the environment of a headless server: file store, refresh through the backend, validation by the backend', async () => {
    const env = { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file' };
    const tokens = await storedTokens(stack);
    await new FileStore({ directory }).save({ ...tokens, expires_at: Math.floor(Date.now() / 1000) - 1 });
    const { session, validator } = assembleClient({ env }, { tokenDirectory: directory });
    if (!session) throw new Error('a client without apiKey, authToken or tokenProvider logs in');
    const { manager, store } = session;
    expect(store.describe()).toBe(`file ${join(directory, 'token.json')}`);

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
