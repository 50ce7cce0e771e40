import { describe, expect, it } from 'vitest';
import { tokenEnvLines } from '../../../src/auth/stores/env-render.js';
import { EnvStore } from '../../../src/auth/stores/env-store.js';
import type { TokenSet } from '../../../src/auth/stores/token-store.js';
import { recordingLogger } from '../../helpers/logger.js';

describe('EnvStore', () => {
  it('reads MESH_ACCESS_TOKEN, MESH_REFRESH_TOKEN and MESH_TOKEN_EXPIRES_AT', async () => {
    const store = new EnvStore({
      env: { MESH_ACCESS_TOKEN: 'a.b.c', MESH_REFRESH_TOKEN: 'r1', MESH_TOKEN_EXPIRES_AT: '1900000000' },
    });
    expect(await store.load()).toEqual({ access_token: 'a.b.c', refresh_token: 'r1', expires_at: 1_900_000_000 });
  });

  it('answers null when the variables are absent', async () => {
    expect(await new EnvStore({ env: {} }).load()).toBeNull();
  });

  it('treats a bad MESH_TOKEN_EXPIRES_AT as expired (so it refreshes), keeping the refresh token, with a warning', async () => {
    const logger = recordingLogger();
    const { warnings } = logger;
    const store = new EnvStore({
      env: { MESH_ACCESS_TOKEN: 'a.b.c', MESH_REFRESH_TOKEN: 'r1', MESH_TOKEN_EXPIRES_AT: 'tomorrow' },
      logger,
    });
    expect(await store.load()).toMatchObject({ refresh_token: 'r1', expires_at: 0 });
    expect(warnings[0]).toMatch(/MESH_TOKEN_EXPIRES_AT is not epoch seconds/);
  });

  it('works from a refresh token alone', async () => {
    expect(await new EnvStore({ env: { MESH_REFRESH_TOKEN: 'r1' } }).load()).toEqual({
      access_token: '',
      refresh_token: 'r1',
      expires_at: 0,
    });
  });

  it('keeps a refreshed set in memory, hands it to the callback, and warns once without the secret', async () => {
    const seen: TokenSet[] = [];
    const logger = recordingLogger();
    const { warnings } = logger;
    const store = new EnvStore({
      env: { MESH_ACCESS_TOKEN: 'old.a.b', MESH_REFRESH_TOKEN: 'r1' },
      onTokensRefreshed: (tokens) => seen.push(tokens),
      logger,
    });
    const next = { access_token: 'new.a.b', refresh_token: 'r2-secret', expires_at: 1_900_000_000 };
    await store.save(next);
    expect(await store.load()).toEqual(next);
    expect(seen).toEqual([next]);
    expect(warnings.join('\n')).toMatch(/MESH_REFRESH_TOKEN/);
    expect(warnings.join('\n')).not.toContain('r2-secret');
    expect(store.describe()).toMatch(/held in memory/);
  });

  it('prints the export lines of the seeds', () => {
    expect(tokenEnvLines({ access_token: 'a', refresh_token: 'r', expires_at: 5 })).toEqual([
      'MESH_TOKEN_FROM_ENV=true',
      'MESH_ACCESS_TOKEN=a',
      'MESH_REFRESH_TOKEN=r',
      'MESH_TOKEN_EXPIRES_AT=5',
    ]);
  });
});
