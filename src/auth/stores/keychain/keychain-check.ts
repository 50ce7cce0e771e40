/**
 * Verify a keychain before trusting it (as MSAL's persistence check does): write a probe value,
 * read it back, delete it. A keychain can accept connections and still fail what matters (a locked
 * collection, a helper that cannot reach the Secret Service, an entry that cannot be removed, so a
 * logout could not either): only the round trip says it works. One check, used by the keychain
 * store (`KeychainStore.check()`) and through it by `mesh-auth doctor`.
 */
import { randomBytes } from 'node:crypto';
import { AbortError, KeychainError } from '../../../errors/mesh-error.js';
import { type KeychainBackend, likelyCause } from './keychain-client.js';

function asKeychainError(error: unknown): KeychainError {
  if (error instanceof KeychainError) return error;
  const message = (error as Error)?.message ?? String(error);
  return new KeychainError(`The keychain check failed: ${message}`, { cause: error, hint: likelyCause(message) });
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('The keychain check was aborted.', { cause: signal.reason });
}

/**
 * Round-trips a random probe value through `account` (an account of its own: never one holding
 * tokens) and deletes it. Each keychain call is bounded by the backend (the helper's time limit);
 * `signal` is honoured between calls.
 *
 * @throws KeychainError (code `keychain_unavailable`, with a hint naming the likely cause) when a
 * step fails or the value does not read back unchanged; AbortError when `signal` fired.
 */
export async function checkKeychain(backend: KeychainBackend, account: string, signal?: AbortSignal): Promise<void> {
  const value = `mesh-keychain-check-${randomBytes(8).toString('hex')}`;
  let written = false;
  try {
    stopIfAborted(signal);
    await backend.set(account, value);
    written = true;
    stopIfAborted(signal);
    const back = await backend.get(account);
    if (back !== value) {
      throw new KeychainError(
        `The keychain accepted a value and then ${back === null ? 'did not have it' : 'returned another one'}.`,
        { hint: likelyCause('') },
      );
    }
    stopIfAborted(signal);
    written = false;
    await backend.delete(account);
  } catch (error) {
    // The probe must not stay behind, whatever failed after it was written.
    if (written) await backend.delete(account).catch(() => false);
    if (error instanceof AbortError) throw error;
    throw asKeychainError(error);
  }
}
