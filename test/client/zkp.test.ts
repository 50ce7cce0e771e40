// ZKP key storage against the real local stack (backend-contract.md part A "ZKP key storage"):
// store then verify, a wrong value, a name never stored, and the wire as the backend received it,
// through a recording forwarder in front of the stack: the value itself never crosses it.
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zkpDataOf } from '../../dev/backend/zkp-routes.js';
import type { MeshClient } from '../../src/client/mesh-client.js';
import { clientWithTokens } from '../helpers/client.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
const requests = (route: string) => stack.backend.counters.requests[route] ?? 0;
const sha256hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}
const seen: Seen[] = [];
let forwarder: Server;
let forwarderUrl: string;
let client: MeshClient;
let userId: string;

beforeAll(async () => {
  // Everything the client sends goes through here on its way to the stack, recorded whole.
  forwarder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://forwarder.invalid');
      seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, body: body.toString('utf8') });
      const upstream = httpRequest(
        new URL(req.url ?? '/', stack.apiUrl),
        { method: req.method, headers: { ...req.headers, host: new URL(stack.apiUrl).host } },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  forwarderUrl = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}`;
  ({ client } = await clientWithTokens(stack, { apiUrl: forwarderUrl, login: 'zkp@example.test' }));
  userId = (await client.profile()).id;
});

afterAll(async () => {
  await client.close();
  forwarder.closeAllConnections();
  await new Promise((resolve) => forwarder.close(resolve));
});

const sent = (path: string) => seen.filter((request) => request.path === path);

describe('storeKeyZkp and verifyKey', () => {
  it('store, then verify the same value: true', async () => {
    const stored = await client.storeKeyZkp('signing_key', 'k3y-0f-h1gh-entr0py');
    expect(stored.storagePath).toBe(`${userId}_signing_key`);
    expect(stored.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(await client.verifyKey('signing_key', 'k3y-0f-h1gh-entr0py')).toBe(true);
  });

  it('a wrong value verifies false, and spends no challenge (the stored commitment already says no)', async () => {
    await client.storeKeyZkp('wrong_value_key', 'the-right-value');
    const before = { challenges: requests('GET /api/v1/getChallenge'), proofs: requests('POST /api/v1/verifyProof') };
    expect(await client.verifyKey('wrong_value_key', 'the-wrong-value')).toBe(false);
    expect(await client.verifyKey('wrong_value_key', 'the-right-value ')).toBe(false); // one trailing space
    expect(requests('GET /api/v1/getChallenge')).toBe(before.challenges);
    expect(requests('POST /api/v1/verifyProof')).toBe(before.proofs);
  });

  it('storing again replaces the commitment: the old value is false, the new one true', async () => {
    await client.storeKeyZkp('rotated_key', 'old-value');
    await client.storeKeyZkp('rotated_key', 'new-value');
    expect(await client.verifyKey('rotated_key', 'old-value')).toBe(false);
    expect(await client.verifyKey('rotated_key', 'new-value')).toBe(true);
  });

  it('a name never stored: NotFoundError, answered 404 or 200 {"success": false}', async () => {
    const error = await client.verifyKey('never_stored', 'anything').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NotFoundError', code: 'not_found', status: 404 });
    stack.backend.settings.missingKeyStatus = 200;
    const again = await client.verifyKey('never_stored', 'anything').catch((e: unknown) => e);
    expect(again).toMatchObject({ name: 'NotFoundError', code: 'not_found', status: 200 });
    expect((again as Error & { hint: string }).hint).toContain('storeKeyZkp');
  });

  it('a key stored with storeKey is not a ZKP key: verifyKey says NotFoundError', async () => {
    await client.storeKey('plain_key', 'plain-value');
    const error = await client.verifyKey('plain_key', 'plain-value').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'not_found' });
  });
});

describe('the wire', () => {
  it('sends what zkp_client.py 1.5.5 sends, computed here independently; the value never leaves', async () => {
    const value = 'wire-value-7f3a';
    const path = `${userId}_wire_key`;
    const nullifier = sha256hex(`${path}:${value}`);
    const commitment = sha256hex(`${value}:${nullifier}`);
    const from = seen.length;

    const stored = await client.storeKeyZkp('wire_key', value);
    expect(stored).toEqual({ commitment, storagePath: path });
    // What the backend keeps is that commitment, under that name.
    expect(zkpDataOf(stack.backend.state, userId).commitments.get(path)).toBe(commitment);
    expect(JSON.parse(sent('/api/v1/storeKeyZKP').at(-1)?.body ?? '')).toEqual({ userId, keyName: path, commitment });

    expect(await client.verifyKey('wire_key', value)).toBe(true);
    const commitmentQuery = sent('/api/v1/getCommitment').at(-1)?.query;
    expect(Object.fromEntries(commitmentQuery ?? [])).toEqual({ userId, keyName: path });
    // The challenge is asked for under the doubled name, as Python's verify_key does.
    const challengeQuery = sent('/api/v1/getChallenge').at(-1)?.query;
    expect(Object.fromEntries(challengeQuery ?? [])).toEqual({ userId, keyName: `${userId}_${path}` });
    const proofBody = JSON.parse(sent('/api/v1/verifyProof').at(-1)?.body ?? '') as Record<string, string>;
    expect(Object.keys(proofBody).sort()).toEqual(['challenge', 'keyName', 'proof', 'userId']);
    expect(proofBody).toMatchObject({ userId, keyName: path });
    expect(proofBody.challenge).toMatch(/^[0-9a-f]{64}$/);
    expect(proofBody.proof).toBe(sha256hex(nullifier + proofBody.challenge + commitment));

    // Nothing sent (paths, queries, bodies) holds the value or the nullifier.
    const wire = seen
      .slice(from)
      .map((request) => `${request.method} ${request.path}?${request.query} ${request.body}`)
      .join('\n');
    expect(wire).toContain(commitment);
    expect(wire).not.toContain(value);
    expect(wire).not.toContain(nullifier);
  });
});
