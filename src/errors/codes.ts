/**
 * Stable error codes. Match on `error.code`, never on `error.message`: messages may be reworded,
 * codes will not change within a major version.
 */
export const ErrorCode = {
  /** A configuration value (option or environment variable) is invalid. Raised by `ConfigError`. */
  CONFIG_INVALID: 'config_invalid',
  /** The backend refused the credentials. Raised by `AuthenticationError`. */
  AUTHENTICATION_FAILED: 'authentication_failed',
  /** No usable token and nobody to log in: run `npx mesh-auth`. Raised by `ReauthenticationRequiredError`. */
  REAUTHENTICATION_REQUIRED: 'reauthentication_required',
  /** The interactive or device login did not complete. Raised by `LoginError`. */
  LOGIN_FAILED: 'login_failed',
  /** The connection failed (refused, reset, DNS). Raised by `NetworkError`. */
  NETWORK_ERROR: 'network_error',
  /** A request or wait ran past its bound. Raised by `TimeoutError`. */
  TIMEOUT: 'timeout',
  /** The caller's AbortSignal fired. Raised by `AbortError`. */
  ABORTED: 'aborted',
  /** The backend answered 429. Raised by `RateLimitError`. */
  RATE_LIMITED: 'rate_limited',
  /** The backend (or a proxy before it) answered 5xx. Raised by `ServerError`. */
  SERVER_ERROR: 'server_error',
  /** The resource does not exist (the token was known good). Raised by `NotFoundError`. */
  NOT_FOUND: 'not_found',
  /** The backend answered with a body this SDK does not understand. Raised by `ResponseValidationError`. */
  INVALID_RESPONSE: 'invalid_response',
  /** The OS keychain is missing, locked or not answering. Raised by `KeychainError`. */
  KEYCHAIN_UNAVAILABLE: 'keychain_unavailable',
  /** The backend rejected the request as malformed (400). Raised by `BadRequestError`. */
  BAD_REQUEST: 'bad_request',
  /** The account has no credits left (402). Raised by `MeshError`. */
  INSUFFICIENT_CREDITS: 'insufficient_credits',
  /** Too many consecutive failures to this backend: failing fast for a cool-down. Raised by `CircuitOpenError`. */
  CIRCUIT_OPEN: 'circuit_open',
  /** A streamed reply ended before it was complete; `partialText` holds what arrived. Raised by `StreamInterruptedError`. */
  STREAM_INTERRUPTED: 'stream_interrupted',
  /**
   * The method has no endpoint on this Mesh deployment (e.g. `deleteKey`, `listApiKeys`,
   * `revokeApiKey` on the deployed backend): nothing was sent. Raised by `UnsupportedByBackendError`.
   */
  UNSUPPORTED_BY_BACKEND: 'unsupported_by_backend',
  /**
   * The backend refused the request with a status no other class covers (e.g. 405, 409, 422), or
   * answered 2xx with a failure in the body (`"success": false`). `serverCode`/`serverMessage` hold
   * the backend's own words. Raised by `MeshError` (from the reply translator).
   */
  REQUEST_FAILED: 'request_failed',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
