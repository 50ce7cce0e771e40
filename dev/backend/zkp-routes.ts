/**
 * The ZKP key routes of backend-contract.md v2 part A ("ZKP key storage"), as the Python SDK's
 * `zkp_client.py` (1.3.1-1.5.6) uses them: a commitment stored per `<userId>_<name>`, a challenge,
 * the commitment read back, a proof checked.
 *
 * What a server can check here is limited by what it is given: the commitment and its own
 * challenge, never the value nor the nullifier the proof hashes in. So `verifyProof` checks the
 * challenge (this server issued it to this user, unused, unexpired), that a commitment is stored
 * for the key, and the proof's form; it cannot tell a proof made from the right value from one
 * made from a wrong value. The clients' own check (the stored commitment against the one the value
 * gives) is what rejects a wrong value.
 */
import { randomBytes } from 'node:crypto';
import { missingKey, ownUserId } from './api-routes.js';
import type { Route, RouteRequest } from './context.js';
import { HttpError, requireString } from './http.js';
import type { BackendState } from './state.js';

/** How long a challenge may be answered, ms: a verification takes three requests in a row. */
export const CHALLENGE_TTL_MS = 2 * 60 * 1000;
/** Challenges a user may hold unanswered; past it the oldest is dropped (a bounded map). */
const MAX_OPEN_CHALLENGES = 32;

const HEX_64 = /^[0-9a-f]{64}$/;

interface ZkpUserData {
  /** Commitments by key name as sent (`<userId>_<name>`). */
  commitments: Map<string, string>;
  /** Open challenges -> when they expire (epoch ms). Insertion order is age. */
  challenges: Map<string, number>;
}

/**
 * ZKP data per backend state, kept here rather than in state.ts so this module stays whole; a
 * WeakMap on the state object lives and dies with it.
 */
const byState = new WeakMap<BackendState, Map<string, ZkpUserData>>();

/** The ZKP data of one user (created empty): for the routes, and for tests reading what was stored. */
export function zkpDataOf(state: BackendState, userId: string): ZkpUserData {
  let users = byState.get(state);
  if (!users) {
    users = new Map();
    byState.set(state, users);
  }
  let data = users.get(userId);
  if (!data) {
    data = { commitments: new Map(), challenges: new Map() };
    users.set(userId, data);
  }
  return data;
}

/** A 400 carrying the OAuth-style code the ZKP routes answer with. */
const invalid = (message: string) => new HttpError(400, message, 'invalid_request');

/** `userId` and `keyName` of a query, both required; the userId must be the caller's own. */
function queryOf(request: RouteRequest): { userId: string; keyName: string } {
  const userId = request.url.searchParams.get('userId') ?? '';
  const keyName = request.url.searchParams.get('keyName') ?? '';
  if (userId === '' || keyName === '') throw invalid('userId and keyName are required.');
  return { userId: ownUserId(request, userId), keyName: storedName(userId, keyName) };
}

/** Key names are `<userId>_<name>` (the clients prefix them): anything else is refused. */
function storedName(userId: string, keyName: string): string {
  if (!keyName.startsWith(`${userId}_`) || keyName.length === userId.length + 1) {
    throw invalid('keyName must be "<userId>_<name>".');
  }
  return keyName;
}

function hex64(body: unknown, field: string): string {
  const value = requireString(body, field);
  if (!HEX_64.test(value)) throw invalid(`Field "${field}" must be 64 lowercase hex digits (a SHA-256).`);
  return value;
}

/** Takes a challenge out of the user's open ones: it answers once, whatever the outcome. */
function takeChallenge(data: ZkpUserData, challenge: string): boolean {
  const expires = data.challenges.get(challenge);
  data.challenges.delete(challenge);
  return expires !== undefined && expires > Date.now();
}

function issueChallenge(data: ZkpUserData): string {
  const now = Date.now();
  for (const [open, expires] of data.challenges) if (expires <= now) data.challenges.delete(open);
  while (data.challenges.size >= MAX_OPEN_CHALLENGES) {
    const oldest = data.challenges.keys().next().value as string;
    data.challenges.delete(oldest);
  }
  const challenge = randomBytes(32).toString('hex');
  data.challenges.set(challenge, now + CHALLENGE_TTL_MS);
  return challenge;
}

export const zkpRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/api/v1/storeKeyZKP',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const userId = ownUserId(request, requireString(request.body, 'userId'));
      const keyName = storedName(userId, requireString(request.body, 'keyName'));
      const commitment = hex64(request.body, 'commitment');
      zkpDataOf(backend.state, userId).commitments.set(keyName, commitment);
      return { status: 200, body: { success: true, message: 'Commitment stored.' } };
    },
  },
  {
    // Issued without looking the key up: the Python client (zkp_client.py 1.5.5 verify_key) asks
    // with keyName `<userId>_<userId>_<name>`, a name nothing was stored under. A challenge belongs
    // to the user, not to the key name, for the same reason.
    method: 'GET',
    pattern: '/api/v1/getChallenge',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const { userId } = queryOf(request);
      const challenge = issueChallenge(zkpDataOf(backend.state, userId));
      return { status: 200, body: { success: true, challenge, expiresIn: CHALLENGE_TTL_MS / 1000 } };
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/getCommitment',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const { userId, keyName } = queryOf(request);
      const commitment = zkpDataOf(backend.state, userId).commitments.get(keyName);
      if (commitment === undefined) return missingKey(backend);
      return { status: 200, body: { success: true, commitment } };
    },
  },
  {
    method: 'POST',
    pattern: '/api/v1/verifyProof',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const userId = ownUserId(request, requireString(request.body, 'userId'));
      const keyName = storedName(userId, requireString(request.body, 'keyName'));
      const challenge = requireString(request.body, 'challenge');
      hex64(request.body, 'proof'); // its form is all a server can check of it
      const data = zkpDataOf(backend.state, userId);
      if (!takeChallenge(data, challenge)) throw invalid('Unknown, used or expired challenge: ask getChallenge for a new one.');
      if (!data.commitments.has(keyName)) return missingKey(backend);
      // All a server can know (the module comment): a fresh challenge, a stored commitment, a
      // well-formed proof. Whether the proof came from the right value, it cannot tell.
      return { status: 200, body: { success: true, verified: true } };
    },
  },
];
