/**
 * Stored provider keys as the deployed backend keeps them (backend-contract.md part A "Stored
 * keys"): per `userId` (the profile's `id`), each name stored as `<userId>_<name>`.
 */
import { NotFoundError, ResponseValidationError } from '../errors/mesh-error.js';
import type { HttpResponse } from '../http/http-client.js';
import { errorFromResponse, serverWords } from '../http/response-errors.js';
import type { ApiCaller, CallInput } from './api-caller.js';
import { GET_KEY, LIST_KEYS, STORE_KEY } from './operations.js';

export type KeyRequest = Pick<CallInput, 'signal' | 'timeout' | 'maxRetries'>;

export class StoredKeys {
  constructor(private readonly api: ApiCaller) {}

  /** Stores (or replaces) `name`. */
  async store(name: string, value: string, request: KeyRequest): Promise<void> {
    const userId = await this.api.facts.userId(request.signal);
    const what = `Storing key "${name}"`;
    const body = { userId, keyName: `${userId}_${name}`, keyValue: value };
    const { data, response } = await this.api.perform(STORE_KEY, { body, what, ...request });
    if (data.success === false) throw errorFromResponse(response, what);
  }

  /** The value of `name`; a missing key (404, or 200 with `"success": false`) is a NotFoundError. */
  async get(name: string, request: KeyRequest): Promise<string> {
    const userId = await this.api.facts.userId(request.signal);
    const what = `Reading key "${name}"`;
    const query = new URLSearchParams({ userId, keyName: `${userId}_${name}` });
    const { data, response } = await this.api.perform(GET_KEY, { query: `?${query}`, what, ...request });
    if (data.success === false) {
      throw keyNotFound(what, response, 'List the stored names with listKeys(); store it with storeKey(name, value).');
    }
    const value = data.keyValue ?? data.key;
    if (value === undefined) throw replyLacks(what, response, "the key's value");
    return value;
  }

  /** The stored names, without the `<userId>_` prefix the backend keeps them under. */
  async list(request: KeyRequest): Promise<string[]> {
    // The hot path: no await for a known user, the path built once per user, no spreads.
    const known = request.signal?.aborted ? undefined : this.api.facts.userIdNow;
    const userId = known ?? (await this.api.facts.userId(request.signal));
    const { data } = await this.api.perform(LIST_KEYS, {
      query: listQueryFor(userId),
      signal: request.signal,
      timeout: request.timeout,
      maxRetries: request.maxRetries,
    });
    const prefix = `${userId}_`;
    return data.keys.map((name) => (name.startsWith(prefix) ? name.slice(prefix.length) : name));
  }
}

/** A missing key answered 200 `{"success": false}` (a 404 is translated where all statuses are). */
export function keyNotFound(what: string, response: HttpResponse, hint: string): NotFoundError {
  const words = serverWords(response.json);
  return new NotFoundError(`${what}: there is no key of that name.`, {
    status: response.status,
    requestId: response.requestId ?? words.requestId,
    serverCode: words.code,
    serverMessage: words.message,
    hint,
  });
}

/** A 2xx reply without the field the call is for. */
export function replyLacks(what: string, response: HttpResponse, field: string): ResponseValidationError {
  return new ResponseValidationError(`${what}: the backend answered HTTP ${response.status} without ${field}.`, {
    status: response.status,
    requestId: response.requestId,
  });
}

/** The last user's listKeys query (one user per client, as a rule): URLSearchParams once, not per call. */
let lastList: { userId: string; query: string } | undefined;

function listQueryFor(userId: string): string {
  if (lastList?.userId !== userId) lastList = { userId, query: `?${new URLSearchParams({ userId })}` };
  return lastList.query;
}
