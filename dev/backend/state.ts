/** The reference backend's in-memory data: users, their stored keys, API keys (SHA-256 only), idempotency. */
import { createHash, randomBytes } from 'node:crypto';
import type { Reply } from './http.js';

export interface User {
  id: string;
  email: string;
  name: string;
  credits: number;
  /** Set by the first `/auth/profile` call; chat needs it. */
  registered: boolean;
  /** Stored keys by name as sent (`<userId>_<name>` from the clients). */
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
  /** Refresh tokens a client still holds -> the provider's newest (`refreshOmitsRefreshToken`). */
  readonly refreshAliases = new Map<string, string>();
  /** Per-user one-minute rate-limit windows. */
  readonly rateWindows = new Map<string, { start: number; used: number }>();
  readonly #idempotent = new Map<string, { reply: Reply; at: number }>();
  #keysMade = 0;

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

  /**
   * A new API key, shown once; only its SHA-256 is kept. The formats vary as the real ones do
   * (`mesh_pk_...`, `mesh_` + hex, short alphanumerics: backend-contract.md part A), so a client
   * that assumes a length or alphabet fails here.
   */
  createApiKey(owner: string, name: string): { record: ApiKeyRecord; key: string } {
    const formats = [
      () => `mesh_pk_${randomBytes(24).toString('base64url')}`,
      () => `mesh_${randomBytes(20).toString('hex')}`,
      () => `mesh_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`,
    ];
    const key = (formats[this.#keysMade++ % formats.length] as () => string)();
    const record: ApiKeyRecord = {
      id: `key_${randomBytes(8).toString('hex')}`,
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
