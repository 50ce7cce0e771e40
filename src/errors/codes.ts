/**
 * Stable error codes: every `code` an error of mesh-sdk can carry is one of these (`MeshError.code`
 * is typed as this union, so no other string can be raised). Match on `error.code`, never on
 * `error.message`: messages may be reworded, codes will not change within a major version. The
 * other side's own word (an OAuth `error` such as `invalid_scope`, a backend's `error` field) is
 * kept apart, in `serverCode`. docs/troubleshooting.md lists them all with what to do.
 *
 * Each comment says what the code means, which class raises it, and what to do.
 */
export const ErrorCode = {
  /**
   * A configuration value (option or environment variable) is invalid; the message names it, the
   * value and what was expected. Raised by `ConfigError`. Fix or unset that value.
   */
  CONFIG_INVALID: 'config_invalid',
  /**
   * The backend refused the credentials, after one refresh. Raised by `AuthenticationError`. Log in
   * again (`npx mesh-auth`) or check MESH_API_KEY.
   */
  AUTHENTICATION_FAILED: 'authentication_failed',
  /**
   * No usable token and nobody to log in here (no terminal, CI, a revoked refresh token). Raised by
   * `ReauthenticationRequiredError`. Run `npx mesh-auth`; in CI or on a server set MESH_API_KEY.
   */
  REAUTHENTICATION_REQUIRED: 'reauthentication_required',
  /**
   * The login did not complete for a reason no `LOGIN_*` code below names: the authorization server
   * refused it (`serverCode` holds its OAuth `error`, e.g. `invalid_scope`, and `serverMessage` its
   * description), it stayed unavailable, or the callback could not be listened for. Raised by
   * `LoginError`. Read `serverCode`/`serverMessage`, check the Auth0 settings, and log in again.
   */
  LOGIN_FAILED: 'login_failed',
  /**
   * The login's callback port (8000 by default) is taken by another program. Raised by `LoginError`.
   * Stop that program, or log in on another registered port: `npx mesh-auth --port <port>` or
   * AUTH0_CALLBACK_PORT.
   */
  CALLBACK_PORT_IN_USE: 'callback_port_in_use',
  /**
   * No browser callback arrived within the login's time bound (5 minutes by default). Raised by
   * `LoginError`. Log in again; on a machine without a browser use `npx mesh-auth --headless`.
   */
  LOGIN_TIMEOUT: 'login_timeout',
  /**
   * The person refused the login, in the browser or on the device page (OAuth `access_denied`,
   * kept in `serverCode`). Raised by `LoginError`. Log in again and approve.
   */
  LOGIN_ACCESS_DENIED: 'login_access_denied',
  /**
   * The device code expired before the login was approved (OAuth `expired_token`, or its lifetime
   * ran out). Raised by `LoginError`. Run `npx mesh-auth --headless` for a new code.
   */
  LOGIN_EXPIRED: 'login_expired',
  /**
   * The backend did not name its device-flow application (`GET /auth/config?flow=device`), so no
   * headless login is possible through it. Raised by `LoginError`. Check MESH_API_URL; or log in on
   * a machine with a browser and copy the tokens, or set MESH_API_KEY.
   */
  LOGIN_DEVICE_CONFIG_UNAVAILABLE: 'login_device_config_unavailable',
  /**
   * The connection failed before a reply (refused, reset, DNS). Raised by `NetworkError`. Check the
   * connection, MESH_API_URL and any proxy (HTTPS_PROXY).
   */
  NETWORK_ERROR: 'network_error',
  /**
   * A request or a wait ran past its bound. Raised by `TimeoutError`. Try again; raise `timeout` if
   * the backend is known to be slow.
   */
  TIMEOUT: 'timeout',
  /** The caller's AbortSignal fired. Raised by `AbortError`. Nothing to fix: it was your cancel. */
  ABORTED: 'aborted',
  /**
   * The backend answered 429 after the retries; `retryAfter` holds its seconds when it said.
   * Raised by `RateLimitError`. Wait `retryAfter` seconds, then try again.
   */
  RATE_LIMITED: 'rate_limited',
  /**
   * The backend (or a proxy before it) answered 5xx after the retries. Raised by `ServerError`. Try
   * again later; quote `requestId` when reporting it.
   */
  SERVER_ERROR: 'server_error',
  /**
   * The resource does not exist (the token was known good). Raised by `NotFoundError`. Check the
   * name or id you asked for.
   */
  NOT_FOUND: 'not_found',
  /**
   * The backend answered with a body this SDK does not understand (or an HTML page). Raised by
   * `ResponseValidationError`. Check MESH_API_URL points at a Mesh backend; quote `requestId`.
   */
  INVALID_RESPONSE: 'invalid_response',
  /**
   * The OS keychain is missing, locked or not answering. Raised by `KeychainError`. Unlock it, or
   * set MESH_TOKEN_STORE=file.
   */
  KEYCHAIN_UNAVAILABLE: 'keychain_unavailable',
  /**
   * The backend rejected the request as malformed (400); `serverMessage` says why. Raised by
   * `BadRequestError`. Fix the request (model, messages, key name).
   */
  BAD_REQUEST: 'bad_request',
  /**
   * The account has no credits left (402). Raised by `MeshError`. Add credits to the account.
   */
  INSUFFICIENT_CREDITS: 'insufficient_credits',
  /**
   * Too many consecutive failures to this backend: failing fast for a cool-down (30 s by default).
   * Raised by `CircuitOpenError`. Wait for the cool-down; look at the earlier errors for the cause.
   */
  CIRCUIT_OPEN: 'circuit_open',
  /**
   * A streamed reply ended before it was complete; `partialText` holds what arrived. Raised by
   * `StreamInterruptedError`. Use the partial text or ask again.
   */
  STREAM_INTERRUPTED: 'stream_interrupted',
  /**
   * The method has no endpoint on this Mesh deployment (e.g. `deleteKey`, `listApiKeys`,
   * `revokeApiKey` on the deployed backend): nothing was sent. Raised by
   * `UnsupportedByBackendError`. Do what its hint says instead.
   */
  UNSUPPORTED_BY_BACKEND: 'unsupported_by_backend',
  /**
   * The feature needs something this JavaScript runtime does not have: in an edge Worker (workerd),
   * the login, the file and keychain stores and the Redis store, which need a file system, a browser,
   * a terminal or TCP sockets. Raised by `UnsupportedRuntimeError`; nothing was read or sent. Pass
   * `apiKey`, tokens or a `tokenProvider` there, or run the feature on Node.js, Bun or Deno.
   */
  UNSUPPORTED_RUNTIME: 'unsupported_runtime',
  /**
   * The backend refused the request with a status no other class covers (e.g. 405, 409, 422), or
   * answered 2xx with a failure in the body (`"success": false`). `serverCode`/`serverMessage` hold
   * the backend's own words. Raised by `MeshError` (from the reply translator). Read
   * `serverMessage`.
   */
  REQUEST_FAILED: 'request_failed',
  /**
   * A shared token store (the Redis store) refused a save because the stored set changed since this
   * process read it: another instance refreshed first (e.g. this one's refresh lock lease ran out
   * mid-refresh). Nothing was written. Raised by `TokenStoreConflictError`. The token manager
   * handles it by adopting the newer set; a caller of `store.save()` should `load()` again.
   */
  TOKEN_STORE_CONFLICT: 'token_store_conflict',
  /**
   * A sealed token set (`MESH_TOKEN_KEY`, AES-256-GCM) could not be opened: no key is set, the key
   * has another key id than the record, or the record was altered (`reason` says which; the key is
   * never shown). Raised by `SealedRecordError`. Set MESH_TOKEN_KEY to the key the other instances
   * use, or log out and log in again to reseal the store with this key.
   */
  TOKEN_SEALING_FAILED: 'token_sealing_failed',
  /**
   * The value under the shared store's key is not a mesh-sdk token record (corrupt JSON, another
   * program's value, a value of another Redis type); it was left untouched. Raised by
   * `TokenStoreRecordError`. If the key is mesh-sdk's, `npx mesh-auth logout` (or DEL the key) and
   * log in again; if another program owns it, give mesh-sdk its own key (MESH_TOKEN_STORE_KEY).
   */
  TOKEN_STORE_CORRUPT: 'token_store_corrupt',
  /**
   * A local token store failed (a full disk, a read-only or vanished directory, a permission
   * problem, a lock file that cannot be written); the message names the path and the system's
   * reason. When it happens before a refresh, nothing was sent and the refresh token is unspent.
   * Raised by `TokenStoreError`. Do what its hint says (free disk space, fix the permissions, or
   * point MESH_TOKEN_DIR at a directory of your own).
   */
  TOKEN_STORE_FAILED: 'token_store_failed',
  /**
   * A token file or lock file is not safe to trust: a symbolic link, another user's file, not a
   * regular file, or far too large to be a token set. mesh-sdk neither reads nor follows it.
   * Raised by `TokenStoreError`. Remove it or use a token directory of your own (MESH_TOKEN_DIR).
   */
  TOKEN_STORE_UNSAFE: 'token_store_unsafe',
  /**
   * The backend answered with a redirect mesh-sdk will not follow: to another origin (a credential
   * or a request body must never travel there), or from an auth endpoint, which never redirects.
   * The message names both origins. Raised by `RedirectRefusedError`. Check MESH_API_URL (use the
   * address the redirect points at, if you trust it) and any proxy in between.
   */
  REDIRECT_REFUSED: 'redirect_refused',
  /**
   * A reply (or a stream) was larger than `maxResponseBytes` (32 MiB by default), so it was cut off
   * and dropped. Raised by `ResponseValidationError`. Check MESH_API_URL points at a Mesh backend;
   * raise `maxResponseBytes` if your replies are really this large.
   */
  RESPONSE_TOO_LARGE: 'response_too_large',
  /**
   * A streamed reply sent nothing but keep-alives (or nothing at all) for `streamIdleTimeout`
   * (60 s by default); `partialText` holds what had arrived. Raised by `StreamInterruptedError`.
   * Ask again, or raise `streamIdleTimeout` for models that think long before answering.
   */
  STREAM_IDLE_TIMEOUT: 'stream_idle_timeout',
  /**
   * More images than a chat may carry (5, as the Python SDK allows), refused before anything was
   * sent. Raised by `ImageInputError`. Send at most 5 images per message, or split the question.
   */
  IMAGE_TOO_MANY: 'image_too_many',
  /**
   * An image could not be read: a missing or unreadable file, an empty buffer, a malformed `data:`
   * URL, or an http(s) URL that failed or was too large; nothing was sent. Raised by
   * `ImageInputError`. Check the path or URL the message names.
   */
  IMAGE_UNREADABLE: 'image_unreadable',
  /**
   * An image whose bytes are not JPEG, PNG, GIF or WebP (the types the providers accept), or whose
   * stated media type does not match its bytes; nothing was sent. Raised by `ImageInputError`.
   * Convert it to one of those four types.
   */
  IMAGE_UNSUPPORTED_TYPE: 'image_unsupported_type',
  /**
   * A `MeshError` constructed without a code. mesh-sdk itself never raises it (each error it throws
   * has a specific code); you meet it only on a `MeshError` your own code (a `tokenProvider`, a
   * custom store) created without one. Raised by `MeshError`. See its message.
   */
  MESH_ERROR: 'mesh_error',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
