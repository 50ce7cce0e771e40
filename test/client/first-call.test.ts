// The first call of a new process goes out at once (issue 22): the backend's user id is kept with
// the token set (`mesh_user`), so a key call needs no /auth/profile first; a chat goes out while
// the profile registers beside it; /auth/config is read beside the first POST, never before it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { USER_FIELD } from '../../src/auth/tokens/token-manager.js';
import { withExtraFields } from '../../src/auth/tokens/token-set.js';
import { MeshClient } from '../../src/client/mesh-client.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const stack = useStack();
afterEach(() => stack.backend.reset());

const requests = (route: string) => stack.backend.counters.requests[route] ?? 0;
const PROFILE = 'GET /auth/profile';

/** The stored token file's `mesh_user`, once a background write put it there (polled: nothing to await). */
async function storedUser(directory: string, not?: string): Promise<{ id: string; sub: string; email?: string }> {
  for (let tries = 0; tries < 100; tries++) {
    const stored = JSON.parse(await readFile(join(directory, 'token.json'), 'utf8')) as Record<string, unknown>;
    const user = stored[USER_FIELD] as { id: string; sub: string } | undefined;
    if (user !== undefined && user.id !== not) return user;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${USER_FIELD} in the stored set`);
}

function sameStore(directory: string): MeshClient {
  return new MeshClient({ env: { ...stack.env, CI: 'true', MESH_TOKEN_STORE: 'file', MESH_TOKEN_DIR: directory } });
}

describe('the first call of a new process', () => {
  it('keeps the user id with the stored tokens, so the next process lists keys without reading the profile', async () => {
    const { client, directory } = await clientWithTokens(stack, { login: 'first-keys@example.test' });
    await client.storeKey('openai', 'sk-first');
    const profile = await client.profile();
    expect(await storedUser(directory)).toMatchObject({ id: profile.id });

    const profilesBefore = requests(PROFILE);
    const next = sameStore(directory);
    expect(await next.listKeys()).toEqual(['openai']);
    expect(await next.getKey('openai')).toBe('sk-first');
    expect(requests(PROFILE) - profilesBefore).toBe(0);
  });

  it("keeps the profile's e-mail address with it, so the next process's authStatus() names the person without reading the profile", async () => {
    // storedTokens() has no ID token: the address can only come from the profile.
    const { client, directory } = await clientWithTokens(stack, { login: 'first-email@example.test' });
    expect((await client.authStatus()).email).toBeUndefined();
    const profile = await client.profile();
    expect(profile.email).toBe('first-email@example.test');
    expect(await storedUser(directory)).toEqual({ id: profile.id, sub: expect.any(String), email: profile.email });

    const profilesBefore = requests(PROFILE);
    const status = await sameStore(directory).authStatus();
    expect([status.loggedIn, status.email]).toEqual([true, 'first-email@example.test']);
    expect(requests(PROFILE) - profilesBefore).toBe(0);
  });

  it('does not name a person kept for another subject', async () => {
    const tokens = await storedTokens(stack, 'first-other-email@example.test');
    const kept = { id: 'someone-else', sub: 'auth0|someone-else', email: 'someone-else@example.test' };
    const { directory } = await clientWithTokens(stack, { tokens: withExtraFields(tokens, { [USER_FIELD]: kept }) });
    const status = await sameStore(directory).authStatus();
    expect([status.loggedIn, status.email]).toEqual([true, undefined]);
  });

  it('does not trust a user id kept for another subject: it reads the profile', async () => {
    const tokens = await storedTokens(stack, 'first-other@example.test');
    const { client, directory } = await clientWithTokens(stack, {
      tokens: withExtraFields(tokens, { [USER_FIELD]: { id: 'someone-else', sub: 'auth0|someone-else' } }),
    });
    await client.storeKey('anthropic', 'sk-ant');
    const profilesBefore = requests(PROFILE);
    const next = sameStore(directory);
    expect(await next.listKeys()).toEqual(['anthropic']);
    expect(requests(PROFILE) - profilesBefore).toBe(1);
    // ... and keeps the right one from then on.
    expect((await storedUser(directory, 'someone-else')).id).toBe((await next.profile()).id);
  });

  it('sends the first chat without waiting for the profile (a profile that never answers does not hold it up)', async () => {
    const { client } = await clientWithTokens(stack, { login: 'first-chat@example.test' });
    await client.profile(); // registered before; this process's first chat is what is measured
    const next = sameStore((await clientWithTokens(stack, { login: 'first-chat@example.test' })).directory);
    stack.backend.faults.add({ fault: { kind: 'hang' }, match: { path: '/auth/profile' } });
    const reply = await next.chat('Hello');
    expect(reply.content.length).toBeGreaterThan(0);
  }, 15_000);

  it("a brand-new user's first chat, sent beside its registration, still gets its reply", async () => {
    stack.backend.settings.chatRequiresRegistration = true;
    const { client } = await clientWithTokens(stack, { login: `first-new-${Date.now()}@example.test` });
    const reply = await client.chat('Hello');
    expect(reply.content.length).toBeGreaterThan(0);
  });

  it('reads /auth/config beside the first POST, not before it, and not for a GET', async () => {
    const { client } = await clientWithTokens(stack, { login: 'first-config@example.test' });
    const configs = requests('GET /auth/config');
    await client.listKeys();
    expect(requests('GET /auth/config') - configs).toBe(0);
    stack.backend.faults.add({ fault: { kind: 'hang' }, match: { path: '/auth/config' } });
    const reply = await client.chat('Hello');
    expect(reply.content.length).toBeGreaterThan(0);
  }, 15_000);
});

describe('the stored user id', () => {
  it('is written only into the same token family: a login stored meanwhile by another process is left alone', async () => {
    const { client, directory } = await clientWithTokens(stack, { login: 'first-race@example.test' });
    const other = await storedTokens(stack, 'first-race-other@example.test');
    await client.tokenSet(); // this process holds its tokens
    await new FileStore({ directory }).save(other); // another process logs in as someone else
    await client.profile(); // the read that would remember the id with this process's tokens
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = JSON.parse(await readFile(join(directory, 'token.json'), 'utf8')) as Record<string, unknown>;
    expect(stored.access_token).toBe(other.access_token);
    expect(stored[USER_FIELD]).toBeUndefined();
  });
});
