/**
 * ZKP key storage (backend-contract.md part A "ZKP key storage"): the backend keeps a commitment to
 * a value, never the value. With `path = <userId>_<name>` (the stored keys' naming), as the Python
 * SDK computes them (zkp_client.py 1.5.5):
 *
 *   nullifier  = sha256hex(path + ":" + value)
 *   commitment = sha256hex(value + ":" + nullifier)
 *   proof      = sha256hex(nullifier + challenge + commitment)
 *
 * The commitment depends on the name and the value only (no salt), so it is a checkable hash of
 * the value, not a hiding commitment: docs/client.md "ZKP key storage" says what that means.
 */
import { createHash } from 'node:crypto';
import type { HttpResponse } from '../http/http-client.js';
import { errorFromResponse } from '../http/response-errors.js';
import type { ApiCaller } from './api-caller.js';
import { GET_CHALLENGE, GET_COMMITMENT, STORE_KEY_ZKP, VERIFY_PROOF } from './operations.js';
import { type KeyRequest, keyNotFound, replyLacks } from './stored-keys.js';

/** What `storeKeyZkp` stored: the commitment, under `<userId>_<name>`. */
export interface ZkpStored {
  commitment: string;
  storagePath: string;
}

const sha256hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The nullifier and the commitment of `value` stored at `path` (`<userId>_<name>`). */
export function zkpCommitment(path: string, value: string): { nullifier: string; commitment: string } {
  const nullifier = sha256hex(`${path}:${value}`);
  return { nullifier, commitment: sha256hex(`${value}:${nullifier}`) };
}

export class ZkpKeys {
  constructor(private readonly api: ApiCaller) {}

  /** Stores (or replaces) the commitment to `value` as `name`; the value itself is never sent. */
  async store(name: string, value: string, request: KeyRequest): Promise<ZkpStored> {
    const userId = await this.api.facts.userId(request.signal);
    const storagePath = `${userId}_${name}`;
    const { commitment } = zkpCommitment(storagePath, value);
    const what = `Storing key "${name}" as a commitment`;
    const body = { userId, keyName: storagePath, commitment };
    const { data, response } = await this.api.perform(STORE_KEY_ZKP, { body, what, ...request });
    if (data.success === false) throw errorFromResponse(response, what);
    return { commitment, storagePath };
  }

  /**
   * Whether `value` is the one stored as `name`. The stored commitment is read first and compared
   * with the one `value` gives: that comparison is the only check that involves the value (the
   * server never sees it nor the nullifier, so its verdict cannot depend on it). A mismatch
   * answers false at once, no challenge spent; a match runs the challenge round the deployed
   * backend expects, and its `verified` is the answer.
   */
  async verify(name: string, value: string, request: KeyRequest): Promise<boolean> {
    const userId = await this.api.facts.userId(request.signal);
    const storagePath = `${userId}_${name}`;
    const { nullifier, commitment } = zkpCommitment(storagePath, value);
    const what = `Verifying key "${name}"`;
    const stored = await this.#storedCommitment(userId, storagePath, what, request);
    if (stored !== commitment) return false;
    const challenge = await this.#challenge(userId, storagePath, what, request);
    const proof = sha256hex(nullifier + challenge + stored);
    const body = { userId, keyName: storagePath, proof, challenge };
    const { data, response } = await this.api.perform(VERIFY_PROOF, { body, what, ...request });
    if (typeof data.verified === 'boolean') return data.verified;
    if (data.success === false) throw errorFromResponse(response, what);
    throw replyLacks(what, response, '"verified"');
  }

  async #storedCommitment(userId: string, storagePath: string, what: string, request: KeyRequest): Promise<string> {
    const query = new URLSearchParams({ userId, keyName: storagePath });
    const { data, response } = await this.api.perform(GET_COMMITMENT, { query: `?${query}`, what, ...request });
    if (data.success === false) throw keyNotFound(what, response, 'Store it first with storeKeyZkp(name, value).');
    return required(data.commitment, what, response, 'the commitment');
  }

  async #challenge(userId: string, storagePath: string, what: string, request: KeyRequest): Promise<string> {
    // keyName `<userId>_<userId>_<name>`: the Python client's verify_key prefixes the already
    // prefixed path again (zkp_client.py 1.5.5). A deployed server that verifies for Python must
    // take that name, so it is the one name known to work here (backend-contract.md part A).
    const query = new URLSearchParams({ userId, keyName: `${userId}_${storagePath}` });
    const { data, response } = await this.api.perform(GET_CHALLENGE, { query: `?${query}`, what, ...request });
    if (data.success === false) throw errorFromResponse(response, what);
    return required(data.challenge, what, response, 'a challenge');
  }
}

function required(value: string | undefined, what: string, response: HttpResponse, field: string): string {
  if (value === undefined || value === '') throw replyLacks(what, response, field);
  return value;
}
