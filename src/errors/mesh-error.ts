import { redact } from '../internal/redact.js';
import { oneLine } from '../internal/safe-text.js';
import { ErrorCode } from './codes.js';
import { DEFAULT_HINTS } from './hints.js';

/** Redacted and on one line: an error's text may quote a server, which may quote a secret or a control character. */
function safe(text: string): string {
  return oneLine(redact(text));
}

/** What every `MeshError` may carry besides its message. */
export interface MeshErrorDetails {
  /** Overrides the subclass's default code: always an `ErrorCode` (the server's own word goes in `serverCode`). */
  code?: ErrorCode;
  /** The next thing to try, e.g. "Run `npx mesh-auth` to log in." */
  hint?: string;
  /** HTTP status of the reply that caused the error, when there was one. */
  status?: number;
  /** The backend's `X-Request-Id` (or the `request_id` of its error body), to quote when reporting a problem. */
  requestId?: string;
  /** The backend's own error code, as it sent it (e.g. `invalid_grant`); never used as our `code`. */
  serverCode?: string;
  /** The backend's own error text, as it sent it (redacted). */
  serverMessage?: string;
  cause?: unknown;
}

/**
 * The base of every error mesh-sdk throws. Match on `code` (see `ErrorCode`).
 * Message and hint are redacted: no token, code, verifier or key ever appears in them, nor a control
 * character (a server's text cannot forge a line or recolour a terminal).
 *
 * @example
 * try { await client.chat('hi'); }
 * catch (error) {
 *   if (error instanceof MeshError && error.code === ErrorCode.REAUTHENTICATION_REQUIRED) console.error(error.hint);
 * }
 */
export class MeshError extends Error {
  readonly code: ErrorCode;
  /** What to do next: always set (the code's advice when the raiser had nothing more specific). */
  readonly hint: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  /** The backend's own error code (its `error` field), when it sent one. Ours is `code`. */
  readonly serverCode: string | undefined;
  /** The backend's own error text, when it sent one (redacted). */
  readonly serverMessage: string | undefined;

  constructor(message: string, details: MeshErrorDetails = {}) {
    super(safe(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code ?? (new.target as typeof MeshError).defaultCode;
    // Every error says what to do next: the raiser's own advice, else the code's (errors/hints.ts).
    this.hint = safe(details.hint ?? DEFAULT_HINTS[this.code]);
    this.status = details.status;
    this.requestId = details.requestId === undefined ? undefined : oneLine(details.requestId);
    this.serverCode = details.serverCode === undefined ? undefined : safe(details.serverCode);
    this.serverMessage = details.serverMessage === undefined ? undefined : safe(details.serverMessage);
  }

  /** The code a subclass raises when none is given. */
  static defaultCode: ErrorCode = ErrorCode.MESH_ERROR;

  /** A plain, redacted object for logs and `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      status: this.status,
      requestId: this.requestId,
      serverCode: this.serverCode,
      serverMessage: this.serverMessage,
    };
  }
}

/** A configuration value is invalid. The message names the variable, the value and what was expected. */
export class ConfigError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.CONFIG_INVALID;
}

/** The backend refused the credentials (after one refresh). Hint: run `npx mesh-auth`. */
export class AuthenticationError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.AUTHENTICATION_FAILED;
}

/** A login is needed and nobody can do it here; the hint says exactly what to run or set. */
export class ReauthenticationRequiredError extends AuthenticationError {
  static override defaultCode: ErrorCode = ErrorCode.REAUTHENTICATION_REQUIRED;
}

/** The login did not complete: denied, timed out, port in use, state mismatch. */
export class LoginError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.LOGIN_FAILED;
}

/** The connection failed before a reply: refused, reset, DNS failure. */
export class NetworkError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.NETWORK_ERROR;
}

/** A request or a wait ran past its bound. */
export class TimeoutError extends NetworkError {
  static override defaultCode: ErrorCode = ErrorCode.TIMEOUT;
}

/** The caller's AbortSignal fired. */
export class AbortError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.ABORTED;
}

/** The backend answered 5xx, possibly as an HTML page from a proxy. */
export class ServerError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.SERVER_ERROR;
}

/** The backend answered 400: the request itself was wrong. */
export class BadRequestError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.BAD_REQUEST;
}

/** The resource does not exist; raised only once the token is known to be good. */
export class NotFoundError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.NOT_FOUND;
}

/** The backend answered with a body that does not match the contract (or an HTML page). */
export class ResponseValidationError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.INVALID_RESPONSE;
}

/** An image given to a chat or an image edit could not be used; nothing was sent. `code` says why. */
export class ImageInputError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.IMAGE_UNREADABLE;
}

/** The OS keychain is missing, locked or not answering. */
export class KeychainError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.KEYCHAIN_UNAVAILABLE;
}

/** The backend answered 429. `retryAfter` is in seconds, when the reply said. */
export class RateLimitError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.RATE_LIMITED;
  readonly retryAfter: number | undefined;

  constructor(message: string, details: MeshErrorDetails & { retryAfter?: number } = {}) {
    super(message, details);
    this.retryAfter = details.retryAfter;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfter: this.retryAfter };
  }
}

/** Too many consecutive failures to one backend: requests fail fast until the cool-down ends. */
export class CircuitOpenError extends NetworkError {
  static override defaultCode: ErrorCode = ErrorCode.CIRCUIT_OPEN;
}

/** A streamed chat reply was cut before its end; `partialText` is what had arrived. */
export class StreamInterruptedError extends NetworkError {
  static override defaultCode: ErrorCode = ErrorCode.STREAM_INTERRUPTED;
  readonly partialText: string;

  constructor(message: string, details: MeshErrorDetails & { partialText: string }) {
    super(message, details);
    this.partialText = details.partialText;
  }
}

/**
 * The method has no endpoint on this Mesh deployment: nothing was sent. The message names the
 * feature and the deployment (`apiUrl`); the hint says what to do instead.
 */
export class UnsupportedByBackendError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.UNSUPPORTED_BY_BACKEND;
}

/**
 * The feature cannot work on this JavaScript runtime (code `unsupported_runtime`): in an edge
 * Worker, the login and the stores that keep tokens on the machine. The message names the feature,
 * the runtime and what works there instead; nothing was read or sent.
 */
export class UnsupportedRuntimeError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.UNSUPPORTED_RUNTIME;
}

/**
 * A local token store failed (disk full, permissions, a vanished directory; code
 * `token_store_failed`) or holds a file that is not safe to trust (a symbolic link, another user's
 * file, an absurdly large file; code `token_store_unsafe`). The message names the path.
 */
export class TokenStoreError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.TOKEN_STORE_FAILED;
}

/**
 * The backend redirected a request where mesh-sdk will not follow: another origin (credentials and
 * bodies never travel there), or any redirect of an auth endpoint. Nothing was sent to the target.
 */
export class RedirectRefusedError extends MeshError {
  static override defaultCode: ErrorCode = ErrorCode.REDIRECT_REFUSED;
}
