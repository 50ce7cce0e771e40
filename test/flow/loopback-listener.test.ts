// The login's loopback listener on its own (no browser, no stack): `state` compared in constant
// time by the function the listener really uses, and the listener reachable on 127.0.0.1 and ::1
// only. The whole login through it: browser-login.test.ts.
import * as crypto from 'node:crypto';
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
