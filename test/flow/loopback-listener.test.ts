// The login's loopback listener on its own (no browser, no stack): `state` compared in constant
// time by the function the listener really uses, the one-time start link, the Host and method
// checks, and the listener reachable on 127.0.0.1 and ::1 only. The whole login through it:
// browser-login.test.ts.
import * as crypto from 'node:crypto';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { interpretCallback, type LoopbackListener, sameSecret, startLoopbackListener } from '../../src/flow/loopback-listener.js';
import { hasIpv6Loopback, knock, listeningAddresses, procNetAvailable, reachableOtherAddresses } from './local-addresses.js';

// The real timingSafeEqual, watched: which bytes it is given is what tells a constant-time
// comparison (fixed-length digests) from `===` or a raw compare (never called, or the strings).
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const compared = vi.mocked(crypto.timingSafeEqual);
const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest();
const STATE = 'n2b1hGZ0b5JmzqQwGQ2s0cfq9TzJkH2kq6vD8hTQx3E'; // 43 characters, as openid-client's randomState()

beforeEach(() => {
  compared.mockClear(); // (a function returned from beforeEach would be run as its cleanup)
});

describe('sameSecret: the constant-time comparison of `state`', () => {
  it.each([
    ['equal', STATE, STATE, true],
    ['unequal, same length', STATE, `${STATE.slice(0, -1)}F`, false],
    ['a prefix (different lengths)', STATE, STATE.slice(0, 10), false],
    ['longer (different lengths)', STATE, `${STATE}${STATE}`, false],
    ['empty against a state', '', STATE, false],
    ['both empty', '', '', true],
  ])('%s: the answer comes from timingSafeEqual over the two SHA-256 digests', (_name, a, b, expected) => {
    expect(sameSecret(a, b)).toBe(expected);
    // Exactly one comparison, of 32 bytes against 32 bytes whatever the lengths: nothing about a
    // guess's length or its first wrong character decides earlier.
    expect(compared).toHaveBeenCalledTimes(1);
    const [left, right] = compared.mock.calls[0] as [Buffer, Buffer];
    expect(Buffer.from(left)).toEqual(sha256(a));
    expect(Buffer.from(right)).toEqual(sha256(b));
    expect(left.byteLength).toBe(32);
    expect(right.byteLength).toBe(32);
    expect(compared.mock.results[0]).toEqual({ type: 'return', value: expected });
  });

  it('different lengths never throw (a raw timingSafeEqual would: RangeError)', () => {
    expect(() => sameSecret('a', 'ab')).not.toThrow();
    expect(() => sameSecret(STATE, '')).not.toThrow();
  });
});

describe('the listener compares `state` with sameSecret', () => {
  it('interpretCallback: a wrong, a short and a missing state are refused through the comparison; the right one passes', () => {
    const verdict = (query: string) => interpretCallback(new URLSearchParams(query), STATE);
    for (const [query, given] of [
      ['code=c&state=x', 'x'],
      [`code=c&state=${STATE.slice(1)}`, STATE.slice(1)],
      ['code=c', ''],
    ] as const) {
      compared.mockClear();
      expect(verdict(query)).toEqual({ kind: 'rejected', reason: 'state' });
      expect(compared).toHaveBeenCalledTimes(1);
      expect(Buffer.from(compared.mock.calls[0]?.[0] as Buffer)).toEqual(sha256(given));
      expect(Buffer.from(compared.mock.calls[0]?.[1] as Buffer)).toEqual(sha256(STATE));
    }
    compared.mockClear();
    expect(verdict(`code=the-code&state=${STATE}`)).toEqual({ kind: 'code', code: 'the-code' });
    expect(compared).toHaveBeenCalledTimes(1);
  });

  describe('over HTTP', () => {
    let listener: LoopbackListener | undefined;
    afterEach(async () => {
      await listener?.close();
      listener = undefined;
    });

    it('a forged state of another length gets the refusal page (not a dropped connection); the real callback then gives the code', async () => {
      const port = await freePort();
      listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
      const forged = await fetch(`http://127.0.0.1:${port}/callback?code=forged&state=short`, { redirect: 'manual' });
      expect(forged.status).toBe(400);
      expect(await forged.text()).toMatch(/does not belong to the login in progress/);
      expect(compared).toHaveBeenCalledTimes(1);
      expect(Buffer.from(compared.mock.calls[0]?.[0] as Buffer)).toEqual(sha256('short'));
      expect(Buffer.from(compared.mock.calls[0]?.[1] as Buffer)).toEqual(sha256(STATE));

      const real = await fetch(`http://127.0.0.1:${port}/callback?code=the-code&state=${STATE}`, { redirect: 'manual' });
      expect(real.status).toBe(302);
      await expect(listener.code).resolves.toBe('the-code');
      expect(compared).toHaveBeenCalledTimes(2);
      listener.finish({ ok: true });
      expect(await (await fetch(`http://127.0.0.1:${port}/done`)).text()).toMatch(/Logged in to Mesh/);
    });
  });
});

describe('listens on loopback only (RFC 8252 §8.3)', () => {
  let listener: LoopbackListener | undefined;
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  it('answers on 127.0.0.1 and ::1; every other address of this machine (IPv4 and IPv6) refuses', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    // Linux says exactly what is bound, whatever interfaces the machine has: IPv6 too (a
    // `::` listener with ipv6Only would pass every IPv4 probe).
    if (procNetAvailable) expect(listeningAddresses(port)).toEqual(hasIpv6Loopback() ? ['127.0.0.1', '::1'] : ['127.0.0.1']);
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
    if (hasIpv6Loopback()) expect((await fetch(`http://[::1]:${port}/`)).status).toBe(404);

    const { reachable, tried } = await reachableOtherAddresses();
    // On Linux 127.0.0.2 always reaches (so this never comes up empty, even with no network);
    // elsewhere the machine must have another address for the test to mean anything.
    expect(reachable, `no other address of this machine accepts a connection; tried ${tried.join(', ')}`).not.toEqual([]);

    const answers = await Promise.all(reachable.map(async (address) => [address, await knock(address, port)] as const));
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(reachable.map((address) => [address, 'ECONNREFUSED'])));
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the method and Host header given (fetch would not send another Host). */
function ask(port: number, path: string, options: { method?: string; host?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `localhost:${port}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Ends a login whose code arrived: the browser's last page, so that close() need not wait for it. */
async function pageServed(listener: LoopbackListener, port: number): Promise<void> {
  listener.finish({ ok: true });
  expect((await ask(port, '/done')).body).toMatch(/Logged in to Mesh/);
}

const AUTHORIZE = `https://tenant.example/authorize?client_id=c&state=${STATE}`;

describe('the one-time start link', () => {
  let listener: LoopbackListener | undefined;
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  it('is a localhost link without the state; its first GET is a 302 to the authorization URL, not cached', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    const link = new URL(listener.startLink(AUTHORIZE));
    expect(link.origin).toBe(`http://localhost:${port}`);
    expect(link.pathname).toMatch(/^\/start\/[A-Za-z0-9_-]{43}$/);
    expect(link.search).toBe('');
    expect(link.href).not.toContain(STATE);
    const first = await ask(port, link.pathname);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(AUTHORIZE);
    expect(first.headers['cache-control']).toBe('no-store');
  });

  it('opened twice: the second GET gets a failure page and the login ends with LoginError "opened twice"', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    const { pathname } = new URL(listener.startLink(AUTHORIZE));
    expect((await ask(port, pathname)).status).toBe(302);
    const again = await ask(port, pathname);
    expect(again.status).toBe(410);
    expect(again.body).toMatch(/opened twice/);
    expect(again.headers.location).toBeUndefined();
    const error = await listener.code.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError', code: 'login_failed' });
    expect((error as Error).message).toMatch(/login link was opened twice.*another program on this machine may be interfering/);
  });

  it('another program fetches the link first and sends its own code at once: held back, then dropped when the browser fetches the link', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000, holdMs: 2000 });
    const { pathname } = new URL(listener.startLink(AUTHORIZE));
    // The other program: the link from `ps`, the state from the redirect, its own code.
    const stolen = new URL((await ask(port, pathname)).headers.location as string).searchParams.get('state');
    const forged = await ask(port, `/callback?code=attacker-code&state=${stolen}`);
    expect(forged.status).toBe(302);
    let released: string | undefined;
    void listener.code.then(
      (code) => {
        released = code;
      },
      () => {},
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The browser the link was handed to, a moment later.
    expect((await ask(port, pathname)).status).toBe(410);
    const error = await listener.code.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'LoginError' });
    expect((error as Error).message).toMatch(/opened twice/);
    expect(released).toBeUndefined();
    expect((await ask(port, '/done')).body).toMatch(/opened twice/); // what the one who followed the forged callback sees
  });

  it('a code is released once the hold after the first fetch is over (the normal login)', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000, holdMs: 600 });
    const { pathname } = new URL(listener.startLink(AUTHORIZE));
    const started = performance.now();
    expect((await ask(port, pathname)).status).toBe(302);
    expect((await ask(port, `/callback?code=the-code&state=${STATE}`)).status).toBe(302);
    await expect(listener.code).resolves.toBe('the-code');
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
    await pageServed(listener, port);
  });

  it('answers 404 to /start paths it did not hand out (and before the link is pointed), and the login goes on', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    expect((await ask(port, '/start/guess')).status).toBe(404);
    expect((await ask(port, '/start/')).status).toBe(404);
    const { pathname } = new URL(listener.startLink(AUTHORIZE));
    expect((await ask(port, `${pathname}x`)).status).toBe(404);
    expect((await ask(port, pathname)).status).toBe(302);
    expect((await ask(port, `/callback?code=the-code&state=${STATE}`)).status).toBe(302);
    await expect(listener.code).resolves.toBe('the-code');
    await pageServed(listener, port);
  });
});

describe('checks the Host header and the method of every request', () => {
  let listener: LoopbackListener | undefined;
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  it('a Host other than localhost, 127.0.0.1 or [::1] with its port gets 400 (DNS rebinding), the start link and the callback included', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    const { pathname } = new URL(listener.startLink(AUTHORIZE));
    for (const host of [
      `evil.example:${port}`,
      'localhost',
      `localhost:${port + 1}`,
      `127.0.0.2:${port}`,
      `localhost.evil.example:${port}`,
    ]) {
      for (const path of [pathname, `/callback?code=c&state=${STATE}`, '/favicon.ico']) {
        const answer = await ask(port, path, { host });
        expect([host, path, answer.status]).toEqual([host, path, 400]);
        expect(answer.headers.location).toBeUndefined();
      }
    }
    // Nothing was taken: the link still leads on, the real callback still gives the code.
    for (const host of [`LOCALHOST:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      expect((await ask(port, '/favicon.ico', { host })).status).toBe(204);
    expect((await ask(port, pathname)).status).toBe(302);
    expect((await ask(port, `/callback?code=the-code&state=${STATE}`, { host: `127.0.0.1:${port}` })).status).toBe(302);
    await expect(listener.code).resolves.toBe('the-code');
    await pageServed(listener, port);
  });

  it('anything but GET gets 405 with Allow: GET, and takes nothing', async () => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    const { pathname } = new URL(listener.startLink(AUTHORIZE));
    for (const method of ['POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE']) {
      for (const path of [pathname, `/callback?code=forged&state=${STATE}`]) {
        const answer = await ask(port, path, { method });
        expect([method, path, answer.status, answer.headers.allow]).toEqual([method, path, 405, 'GET']);
      }
    }
    expect((await ask(port, pathname)).status).toBe(302);
    expect((await ask(port, `/callback?code=the-code&state=${STATE}`)).status).toBe(302);
    await expect(listener.code).resolves.toBe('the-code');
    await pageServed(listener, port);
  });
});
