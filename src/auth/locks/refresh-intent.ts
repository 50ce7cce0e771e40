/**
 * A refresh in flight, written into the stored token set before the request is sent: the
 * idempotency key the request carries and which refresh token it spends. A refresh rotates the
 * refresh token at the identity provider; a process killed after the rotation and before the save
 * would otherwise leave the old token in the store, and the next process presenting it again looks
 * like theft to the provider (reuse detection revokes the whole family).
 *
 * The next process that loads a set carrying an intent finishes it at once, before anything else:
 * - with `idempotency_key` advertised (contract part B) it resends the same refresh with the same
 *   key, and the backend answers with the new set it gave the dead process;
 * - without it, it refreshes again right away, which the provider accepts within its rotation
 *   reuse interval (Auth0's "Rotation Overlap Period"; docs/security.md says how to set it).
 *
 * It rides in the stored set as one extra field, so every store (file, keychain, Redis, a user's
 * own) keeps it with its own atomic write, and the Python SDK, which ignores fields it does not
 * know, reads the set as before.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { TokenSet } from '../stores/token-store.js';
import { extraFieldsOf, withExtraFields } from '../tokens/token-set.js';

export const REFRESH_INTENT_FIELD = 'mesh_refresh_intent';

export interface RefreshIntent {
  /** Sent as `Idempotency-Key` when the backend advertises `idempotency_key`. */
  idempotency_key: string;
  /** Which refresh token the intent spends (SHA-256, hex): an intent for another token is stale. */
  refresh_token_sha256: string;
  /** Epoch seconds when the request was about to be sent. */
  started_at: number;
}

/** A backend honours a key for 24 h (contract part B); an older intent gets a new key. */
const KEY_LIFETIME_SECONDS = 23 * 3600;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isIntent(value: unknown): value is RefreshIntent {
  const intent = value as Partial<RefreshIntent> | null;
  return (
    typeof intent === 'object' &&
    intent !== null &&
    typeof intent.idempotency_key === 'string' &&
    intent.idempotency_key !== '' &&
    typeof intent.refresh_token_sha256 === 'string' &&
    typeof intent.started_at === 'number'
  );
}

/** The intent a set carries for its own refresh token, if any. */
export function intentOf(tokens: TokenSet): RefreshIntent | undefined {
  const intent = extraFieldsOf(tokens)[REFRESH_INTENT_FIELD];
  if (!isIntent(intent) || tokens.refresh_token === undefined) return undefined;
  return intent.refresh_token_sha256 === sha256(tokens.refresh_token) ? intent : undefined;
}

/** The intent to resend with: the set's own while its key is still honoured. */
export function reusableIntent(tokens: TokenSet, nowSeconds: number): RefreshIntent | undefined {
  const intent = intentOf(tokens);
  return intent && nowSeconds - intent.started_at < KEY_LIFETIME_SECONDS ? intent : undefined;
}

export function newIntent(refreshToken: string, nowSeconds: number): RefreshIntent {
  return { idempotency_key: randomUUID(), refresh_token_sha256: sha256(refreshToken), started_at: Math.floor(nowSeconds) };
}

export function withIntent(tokens: TokenSet, intent: RefreshIntent): TokenSet {
  return withExtraFields(tokens, { ...extraFieldsOf(tokens), [REFRESH_INTENT_FIELD]: intent });
}

/** The set without any intent (a refreshed set: its intent is done). */
export function withoutIntent(tokens: TokenSet): TokenSet {
  const extras = extraFieldsOf(tokens);
  if (!(REFRESH_INTENT_FIELD in extras)) return tokens;
  const { [REFRESH_INTENT_FIELD]: _done, ...rest } = extras;
  return withExtraFields(tokens, rest);
}
