/** The reference backend's in-memory data: users, their keys, API keys (SHA-256 only), idempotency. */
import { createHash, randomBytes } from 'node:crypto';
import type { Reply } from './http.js';

export interface User {
  id: string;
  email: string;
  name: string;
  credits: number;
  registered: boolean;
  keys: Map<string, string>;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  owner: string;
  sha256: string;
  created_at: string;
  last_used_at: string | null;
}

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class BackendState {
  readonly users = new Map<string, User>();
  readonly apiKeys = new Map<string, ApiKeyRecord>(); // by sha256
  /** Claims learned from ID tokens the backend redeemed: the profile's email and name. */
  readonly knownClaims = new Map<string, { email?: string; name?: string }>();
  /** Per device code: when it was last polled (or issued), and how many `slow_down`s it got. */
  readonly devicePolls = new Map<string, { at: number; slowDowns: number }>();
  /** Per-user one-minute rate-limit windows. */
  readonly rateWindows = new Map<string, { start: number; used: number }>();
  readonly #idempotent = new Map<string, { reply: Reply; at: number }>();

  constructor(readonly initialCredits: number) {}

  user(sub: string): User {
    let user = this.users.get(sub);
    if (!user) {
      const claims = this.knownClaims.get(sub) ?? {};
      user = {
        id: sub,
        email: claims.email ?? `${sub.replace(/\W/g, '_')}@unknown.test`,
        name: claims.name ?? sub,
        credits: this.initialCredits,
        registered: false,
        keys: new Map(),
      };
      this.users.set(sub, user);
    }
    return user;
  }

  createApiKey(owner: string, name: string): { record: ApiKeyRecord; key: string } {
    // mesh_ + 43 base64url characters (32 random bytes), as the contract fixes.
    const key = `mesh_${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyRecord = {
      id: `ak_${randomBytes(8).toString('hex')}`,
      name,
      owner,
      sha256: sha256(key),
      created_at: new Date().toISOString(),
      last_used_at: null,
    };
    this.apiKeys.set(record.sha256, record);
    return { record, key };
  }

  findApiKey(key: string): ApiKeyRecord | undefined {
    return this.apiKeys.get(sha256(key));
  }

  apiKeysOf(owner: string): ApiKeyRecord[] {
    return [...this.apiKeys.values()].filter((r) => r.owner === owner);
  }

  revokeApiKey(owner: string, id: string): boolean {
    const record = this.apiKeysOf(owner).find((r) => r.id === id);
    if (record) this.apiKeys.delete(record.sha256);
    return record !== undefined;
  }

  replayFor(scope: string): Reply | undefined {
    const hit = this.#idempotent.get(scope);
    if (hit && Date.now() - hit.at < IDEMPOTENCY_TTL_MS) return hit.reply;
    this.#idempotent.delete(scope);
    return undefined;
  }

  remember(scope: string, reply: Reply): void {
    this.#idempotent.set(scope, { reply, at: Date.now() });
  }
}
