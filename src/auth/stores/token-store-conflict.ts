import { ErrorCode } from '../../errors/codes.js';
import { MeshError } from '../../errors/mesh-error.js';

/**
 * Thrown by a store's `save` when the stored token set changed since this process read it: another
 * process refreshed first (e.g. this one's refresh lock lease ran out mid-refresh). Nothing was
 * written. The token manager answers it by re-loading the store and using the newer set, never by
 * overwriting it. Any `TokenStore` that writes by compare-and-set may throw it (the Redis store does).
 */
export class TokenStoreConflictError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.TOKEN_STORE_CONFLICT;
}
