/**
 * The `code`s a `LoginError` carries, so callers can match on them. (Meant to join `ErrorCode`
 * in src/errors/codes.ts; until then they live beside the login that raises them.)
 */
export const LoginErrorCode = {
  /** The callback port is taken by another program. Fix: `--port` or AUTH0_CALLBACK_PORT. */
  CALLBACK_PORT_IN_USE: 'callback_port_in_use',
  /** No browser callback arrived within the time bound (5 minutes by default). */
  LOGIN_TIMEOUT: 'login_timeout',
  /** The person refused the login (browser or device). */
  ACCESS_DENIED: 'login_access_denied',
  /** The device code expired before the login was approved. */
  EXPIRED: 'login_expired',
  /** The backend did not name its device-flow application (`GET /auth/config?flow=device`). */
  DEVICE_CONFIG_UNAVAILABLE: 'login_device_config_unavailable',
  /** Any other login failure; the authorization server's own code then follows `login_` (e.g. `login_invalid_scope`). */
  LOGIN_FAILED: 'login_failed',
} as const;

/** `login_<error>` for an OAuth error code (RFC 6749 §4.1.2.1, RFC 8628 §3.5), sanitized to a word. */
export function loginCodeFor(oauthError: string): string {
  const word = /^[\x20-\x7e]{1,64}$/.test(oauthError) ? oauthError.replace(/[^a-z_]/gi, '_') : 'unknown';
  return `login_${word}`;
}
