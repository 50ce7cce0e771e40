/**
 * The device authorization flow (RFC 8628) through the backend: show the code and URL, poll
 * `/auth/token-status` at the given interval, 5 s more on each `slow_down` (§3.5), until tokens,
 * a denial, the code's expiry or the caller's signal.
 */
import type { TokenReply } from '../auth/token-set.js';
import { LoginError } from '../errors/mesh-error.js';
import { sleep } from '../internal/sleep.js';
import type { LoginApi } from './login-api.js';

export interface DeviceVerification {
  verificationUri: string;
  verificationUriComplete: string | undefined;
  userCode: string;
  expiresIn: number;
}

export interface DeviceLoginOptions {
  api: LoginApi;
  extendedLifetime: boolean;
  onVerification: (verification: DeviceVerification) => void;
  signal?: AbortSignal;
  /** Local clock, ms (tests). */
  now?: () => number;
}

const DEFAULT_INTERVAL_S = 5; // RFC 8628 §3.2

export async function deviceLogin(options: DeviceLoginOptions): Promise<TokenReply> {
  const { api, signal } = options;
  const now = options.now ?? Date.now;
  const device = await api.deviceCode(options.extendedLifetime, signal);
  options.onVerification({
    verificationUri: device.verification_uri,
    verificationUriComplete: device.verification_uri_complete,
    userCode: device.user_code,
    expiresIn: device.expires_in,
  });
  let intervalMs = (device.interval ?? DEFAULT_INTERVAL_S) * 1000;
  const deadline = now() + device.expires_in * 1000;
  for (;;) {
    await sleep(intervalMs, signal, 'The device login was cancelled.');
    const status = await api.tokenStatus(device.device_code, signal);
    if ('tokens' in status) return status.tokens;
    switch (status.error) {
      case 'authorization_pending':
        break;
      case 'slow_down':
        intervalMs += 5000;
        break;
      case 'access_denied':
        throw new LoginError('The device login was denied in the browser.', {
          code: 'login_access_denied',
          hint: 'Run `npx mesh-auth --headless` to try again.',
        });
      case 'expired_token':
        throw new LoginError('The device code expired before the login was approved.', {
          code: 'login_expired',
          hint: 'Run `npx mesh-auth --headless` for a new code.',
        });
      default:
        throw new LoginError(`The device login failed: ${status.description ?? status.error}.`, {
          code: `login_${status.error}`,
        });
    }
    if (now() > deadline) {
      throw new LoginError('The device code expired before the login was approved.', {
        code: 'login_expired',
        hint: 'Run `npx mesh-auth --headless` for a new code.',
      });
    }
  }
}
