/**
 * An OAuth error answer (RFC 6749 §4.1.2.1 and §5.2, RFC 8628 §3.5) as the `LoginError` that
 * reports it. Our `code` is always an `ErrorCode` constant, so callers can match on it; the
 * authorization server's own word is kept in `serverCode` and its description in `serverMessage`
 * (as oauth4webapi keeps `error` on its response-body error), never folded into our code.
 */
import { ErrorCode } from '../errors/codes.js';
import { LoginError } from '../errors/mesh-error.js';

const MAX_DESCRIPTION_CHARS = 300;

/**
 * The server's `error`, reduced to a word: error codes are printable ASCII (RFC 6749 §4.1.2.1), so
 * anything else (from a forged callback, say) becomes `unknown`, and characters outside
 * `[A-Za-z_]` become `_`.
 */
export function oauthErrorWord(error: string): string {
  return /^[\x20-\x7e]{1,64}$/.test(error) ? error.replace(/[^a-z_]/gi, '_') : 'unknown';
}

/** The server's `error_description`, one line and bounded: it ends up in terminals and logs. */
export function oauthDescription(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const line = description.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > MAX_DESCRIPTION_CHARS ? `${line.slice(0, MAX_DESCRIPTION_CHARS)}...` : line;
}

export interface OAuthFailure {
  /** The OAuth `error` as the server sent it. */
  error: string;
  /** Its `error_description`, when sent. */
  description?: string;
}

/** The `LoginError` for an OAuth error answer; `message` is ours, the server's words go beside it. */
export function oauthLoginError(
  message: string,
  failure: OAuthFailure,
  details: { hint: string; status?: number; cause?: unknown },
): LoginError {
  const word = oauthErrorWord(failure.error);
  return new LoginError(message, {
    ...details,
    // The two a person causes have their own codes; every other OAuth error is `login_failed`.
    // Written out as constants so that test/errors/error-codes.test.ts can check them.
    code:
      word === 'access_denied'
        ? ErrorCode.LOGIN_ACCESS_DENIED
        : word === 'expired_token'
          ? ErrorCode.LOGIN_EXPIRED
          : ErrorCode.LOGIN_FAILED,
    serverCode: word,
    serverMessage: oauthDescription(failure.description),
  });
}
