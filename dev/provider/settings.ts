// The provider's live settings, apart from provider.ts so that interactions.ts can read them
// without importing the module that imports it (an import circle).
import type { DevicePacing } from './auth0-device.js';

/** Settings a test may change while the provider runs (token lifetimes, device pacing, the test password). */
export interface ProviderSettings extends DevicePacing {
  /** Access token lifetime, seconds. */
  accessTokenTtl: number;
  /** Access token lifetime when the login asked for `extended_lifetime=true`, seconds. */
  extendedAccessTokenTtl: number;
  /** Refresh token lifetime, seconds. */
  refreshTokenTtl: number;
  /**
   * Auth0's refresh-token "Rotation Overlap Period", seconds: for this long after a rotation the
   * token just rotated out may be exchanged again without revoking its family (refresh-overlap.ts).
   * 0: every reuse of a rotated token is theft. @default 0
   */
  refreshReuseIntervalSeconds: number;
  /** Authorization code lifetime, seconds. */
  codeTtl: number;
  /** Device code lifetime, seconds. */
  deviceCodeTtl: number;
  /** The password every test user logs in with. */
  password: string;
}
