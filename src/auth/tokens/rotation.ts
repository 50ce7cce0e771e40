/**
 * One refresh of a token set, made safe against a kill at any instruction (the caller holds the
 * refresh lock, and SIGINT, SIGTERM and SIGHUP: internal/held-signals.ts): the intent is saved
 * first (refresh-intent.ts; a failed save sends nothing, so the refresh token is not spent), then
 * the request goes out, then the new set is saved.
 *
 * Each step is published on the `mesh-sdk:refresh` diagnostics channel (no secrets): tracing, and
 * the crash soak, which kills a process at each of them.
 */
import { channel } from 'node:diagnostics_channel';
import { KeychainError, TokenStoreError } from '../../errors/mesh-error.js';
import type { InternalLogger } from '../../internal/logger.js';
import { startTrace, storeKindOf } from '../../internal/tracing.js';
import { type BackendAuth, refreshRefused } from '../backend/backend-auth.js';
import { newIntent, type RefreshIntent, reusableIntent, withIntent, withoutIntent } from '../locks/refresh-intent.js';
import type { TokenSet, TokenStore } from '../stores/token-store.js';
import { TokenStoreConflictError } from '../stores/token-store-conflict.js';
import { tokenSetFromReply } from './token-set.js';

/** The Python SDK's mark on a token set that came from the device flow (auth.py 1.5.5). */
export const DEVICE_FLOW_SOURCE = 'device_flow';
/** Our mark on a browser login's set (the Python SDK leaves those unmarked, and reads this as web). */
export const BROWSER_SOURCE = 'browser';

/**
 * The backend refreshes device-flow tokens as the native application that issued them (Auth0
 * binds a refresh token to its client), everything else as the web application.
 */
export function clientTypeOf(tokens: TokenSet): 'device' | 'web' {
  return tokens.auth_source === DEVICE_FLOW_SOURCE ? 'device' : 'web';
}

/** The diagnostics channel of the refresh steps: `diagnostics_channel.subscribe('mesh-sdk:refresh', ...)`. */
export const REFRESH_CHANNEL = 'mesh-sdk:refresh';

/**
 * What `mesh-sdk:refresh` carries, in order: `intent-saved` (the request is about to go out),
 * `reply-received` (the provider has rotated; the new set is in memory only), `saved` (the new set
 * is in the store). `resumed` says the intent was a previous process's, finished now.
 */
export interface RefreshEvent {
  step: 'intent-saved' | 'reply-received' | 'saved';
  clientType: 'device' | 'web';
  resumed: boolean;
}

const refreshChannel = channel(REFRESH_CHANNEL);

function publish(event: RefreshEvent): void {
  if (refreshChannel.hasSubscribers) refreshChannel.publish(event);
}

export interface RotationParts {
  store: TokenStore;
  backendAuth: BackendAuth;
  nowSeconds: () => number;
  logger: InternalLogger;
  /** Saves the new set before it is handed out; answers the set to use (ours, or a newer one found). */
  persist: (tokens: TokenSet) => Promise<TokenSet>;
  signal?: AbortSignal;
}

export type RotationOutcome =
  | { kind: 'rotated'; tokens: TokenSet }
  /** Another process stored a newer set while this one was about to refresh: use it, send nothing. */
  | { kind: 'newer'; tokens: TokenSet }
  /** The backend refused the refresh token: a login is needed. */
  | { kind: 'refused'; error: unknown };

/**
 * Refreshes `current` (which must hold a refresh token). A set whose `auth_source` is unknown (a
 * set the Python SDK rewrote without it) that is refused as the web application is tried once as
 * the device application: a refresh token presented by the wrong application is refused, not
 * rotated, so the second try spends nothing.
 */
export async function rotate(current: TokenSet, parts: RotationParts): Promise<RotationOutcome> {
  // The `mesh-sdk:refresh` trace and span (internal/tracing.ts): one per refresh, whatever its outcome.
  const trace = startTrace('refresh', { operation: 'refresh', store: storeKindOf(parts.store.describe()) });
  if (!trace) return rotateEither(current, parts);
  try {
    const outcome = await rotateEither(current, parts);
    if (outcome.kind === 'refused') trace.fail(outcome.error);
    else trace.end({ outcome: outcome.kind });
    return outcome;
  } catch (error) {
    trace.fail(error);
    throw error;
  }
}

async function rotateEither(current: TokenSet, parts: RotationParts): Promise<RotationOutcome> {
  const first = clientTypeOf(current);
  const outcome = await rotateAs(current, first, parts);
  if (outcome.kind !== 'refused' || current.auth_source !== undefined || first !== 'web') return outcome;
  parts.logger.debug(
    'The refresh was refused as the web application and the set does not say where it came from; trying the device application once.',
  );
  const second = await rotateAs(current, 'device', parts);
  return second.kind === 'refused' ? outcome : second;
}

async function rotateAs(current: TokenSet, clientType: 'device' | 'web', parts: RotationParts): Promise<RotationOutcome> {
  const refreshToken = current.refresh_token as string;
  const resumable = clientType === clientTypeOf(current) ? reusableIntent(current, parts.nowSeconds()) : undefined;
  const intent = resumable ?? newIntent(refreshToken, parts.nowSeconds());
  if (resumable) {
    parts.logger.debug('Finishing a refresh a previous process started and did not save (same idempotency key).');
  } else if (!parts.store.inProcessOnly) {
    const newer = await saveIntent(current, intent, parts);
    if (newer) return { kind: 'newer', tokens: newer };
  }
  publish({ step: 'intent-saved', clientType, resumed: resumable !== undefined });
  let next: TokenSet;
  try {
    const reply = await parts.backendAuth.refresh(refreshToken, {
      clientType,
      signal: parts.signal,
      idempotencyKey: intent.idempotency_key,
    });
    // The same family: `auth_source` (so the next refresh sends the same client_type) and unknown fields kept.
    next = withoutIntent(tokenSetFromReply(reply, parts.nowSeconds(), current));
    if (clientType === 'device') next.auth_source = DEVICE_FLOW_SOURCE;
  } catch (error) {
    if (refreshRefused(error)) return { kind: 'refused', error };
    throw error;
  }
  publish({ step: 'reply-received', clientType, resumed: resumable !== undefined });
  const kept = await parts.persist(next);
  publish({ step: 'saved', clientType, resumed: resumable !== undefined });
  return { kind: 'rotated', tokens: kept };
}

/**
 * Records the intent in the store. Answers the store's newer set when a compare-and-set store says
 * another process wrote since this one read (then nothing is sent). Any other failure is a typed
 * error, and nothing is sent: a refresh whose new set may not be savable must not spend the token.
 */
async function saveIntent(current: TokenSet, intent: RefreshIntent, parts: RotationParts): Promise<TokenSet | undefined> {
  try {
    await parts.store.save(withIntent(current, intent));
    return undefined;
  } catch (error) {
    if (error instanceof TokenStoreConflictError) {
      const stored = await parts.store.load();
      if (stored) return stored;
      throw error;
    }
    const reason = (error as Error)?.message ?? String(error);
    const message = `Could not record the refresh in ${parts.store.describe()} before sending it (${reason}). Nothing was sent: the current refresh token is still good.`;
    const hint = (error as { hint?: string }).hint;
    // A keychain failure stays a KeychainError (tokenStore "keychain" fails closed, and says so by its class).
    if (error instanceof KeychainError) throw new KeychainError(message, { cause: error, hint });
    throw new TokenStoreError(message, {
      cause: error,
      hint: hint ?? 'Free some disk space or fix the token store, then try again.',
    });
  }
}
