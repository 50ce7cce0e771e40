/**
 * Mesh API keys (backend-contract.md part A "API keys"): creation only. Listing, revoking and
 * deleting stored keys have no endpoint on the deployed backend ("the Mesh web interface"), so
 * those methods fail with UnsupportedByBackendError and send nothing.
 */
import { UnsupportedByBackendError } from '../errors/mesh-error.js';
import type { ApiCaller, CallInput } from './api-caller.js';
import { CREATE_API_KEY } from './operations.js';
import type { CreatedApiKey } from './types.js';

/** The Python SDK's default name. */
export function defaultApiKeyName(now: Date = new Date()): string {
  return `SDK Generated Key (${now.toISOString().slice(0, 19).replace('T', ' ')})`;
}

export class ApiKeys {
  constructor(private readonly api: ApiCaller) {}

  /**
   * Creates a key. The POST is retried only where the HTTP layer knows it was not processed, or
   * with an Idempotency-Key when the backend advertises `idempotency_key`: a second key minted
   * by a blind retry would be a live secret nobody holds.
   */
  async create(name: string, request: Pick<CallInput, 'signal' | 'timeout' | 'maxRetries'>): Promise<CreatedApiKey> {
    const { data } = await this.api.perform(CREATE_API_KEY, { body: { name }, ...request });
    if (typeof data.api_key === 'string') {
      return { id: data.key_id, name: data.name ?? name, key: data.api_key, createdAt: data.created_at };
    }
    const created = data.api_key;
    return {
      id: created.key_id ?? data.key_id,
      name: created.name ?? name,
      key: created.api_key,
      createdAt: created.created_at ?? data.created_at,
    };
  }
}

/** The error of a method this deployment has no endpoint for; nothing was sent. */
export function unsupported(feature: string, apiUrl: string, hint: string): UnsupportedByBackendError {
  return new UnsupportedByBackendError(`${feature} is not offered by the Mesh backend at ${apiUrl}: nothing was sent.`, { hint });
}
