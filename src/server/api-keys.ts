/**
 * `mesh_` API keys, checked by the Mesh backend: `GET <apiUrl>/auth/profile` with the key in both
 * headers the backend reads (`Authorization: ApiKey <key>` and `x-api-key`; backend-contract.md,
 * part A). 200 is the key's owner; 401, 403 or 404 (the backend hides its routes from strangers)
 * is a refused key; anything else (5xx, 429, a timeout, no connection) is the backend down: a 503,
 * never a 401. Answers are remembered by the key's SHA-256 (the key itself is never kept): accepted
 * for `ttlSeconds` (the longest a revoked key keeps working), refused for `negativeTtlSeconds`;
 * concurrent checks of one key share one request.
 */
import { boundedGet, FetchFailure } from './bounded-fetch.js';
import { refused, VerifierUnavailableError } from './errors.js';
import type { VerifierSettings } from './options.js';

/** Who the backend says a key belongs to. */
export interface ApiKeyOwner {
  /** The profile's `id`: the Mesh user id (the token `sub` for the same user). */
  id: string;
  email: string | undefined;
  /** The whole profile as the backend sent it. */
  profile: Record<string, unknown>;
}

interface Remembered {
  owner: ApiKeyOwner | undefined;
  until: number;
}

const MAX_PROFILE_BYTES = 64 * 1024;

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The profile of a 200 reply: nested `{"profile": {...}}` or flat `{...}`, with an `id` either way. */
function ownerOf(text: string): ApiKeyOwner | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const root = body as Record<string, unknown> | null;
  const nested = root?.profile as Record<string, unknown> | undefined;
  const profile = typeof nested === 'object' && nested !== null && 'id' in nested ? nested : root;
  if (typeof profile !== 'object' || profile === null || (typeof profile.id !== 'string' && typeof profile.id !== 'number')) {
    return undefined;
  }
  return { id: String(profile.id), email: typeof profile.email === 'string' ? profile.email : undefined, profile };
}

export class ApiKeyChecker {
  readonly #settings: VerifierSettings;
  readonly #remembered = new Map<string, Remembered>();
  readonly #inflight = new Map<string, Promise<ApiKeyOwner>>();

  constructor(settings: VerifierSettings) {
    this.#settings = settings;
  }

  /**
   * The owner of `key`.
   * @throws VerificationError `api_key_invalid`; VerifierUnavailableError when the backend cannot answer.
   */
  async check(key: string): Promise<ApiKeyOwner> {
    if (!/^mesh_\S+$/.test(key)) throw refused('api_key_invalid', 'the API key is not a Mesh API key (mesh_...)');
    const id = await sha256Hex(key);
    const hit = this.#remembered.get(id);
    if (hit && hit.until > this.#settings.now()) {
      if (hit.owner) return hit.owner;
      throw refused('api_key_invalid', 'the Mesh backend does not accept the API key');
    }
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = this.#ask(id, key).finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, pending);
    }
    return pending;
  }

  async #ask(id: string, key: string): Promise<ApiKeyOwner> {
    const { apiUrl, apiKeys } = this.#settings;
    let reply: Awaited<ReturnType<typeof boundedGet>>;
    try {
      reply = await boundedGet(this.#settings.fetch, `${apiUrl.replace(/\/+$/, '')}/auth/profile`, {
        headers: { authorization: `ApiKey ${key}`, 'x-api-key': key },
        timeoutMs: apiKeys.timeout,
        maxBytes: MAX_PROFILE_BYTES,
        what: 'the Mesh backend',
      });
    } catch (error) {
      const why = error instanceof FetchFailure ? error.message : 'the Mesh backend could not be reached';
      throw new VerifierUnavailableError(`mesh-sdk/server cannot check the API key: ${why}`, { retryAfter: 5 });
    }
    const now = this.#settings.now();
    if (reply.status === 401 || reply.status === 403 || reply.status === 404) {
      this.#remember(id, { owner: undefined, until: now + apiKeys.negativeTtlSeconds * 1000 });
      throw refused('api_key_invalid', 'the Mesh backend does not accept the API key');
    }
    const owner = reply.status === 200 ? ownerOf(reply.text) : undefined;
    if (!owner) {
      const what = reply.status === 200 ? 'a profile without an id' : `HTTP ${reply.status}`;
      throw new VerifierUnavailableError(`mesh-sdk/server cannot check the API key: the Mesh backend answered ${what}`, {
        retryAfter: 5,
      });
    }
    this.#remember(id, { owner, until: now + apiKeys.ttlSeconds * 1000 });
    return owner;
  }

  #remember(id: string, entry: Remembered): void {
    this.#remembered.delete(id);
    while (this.#remembered.size >= this.#settings.apiKeys.maxEntries) {
      const oldest = this.#remembered.keys().next().value as string;
      this.#remembered.delete(oldest);
    }
    this.#remembered.set(id, entry);
  }
}
