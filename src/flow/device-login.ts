/**
 * The device authorization flow (RFC 8628): show the code and URL, poll at the given interval,
 * 5 s more on each `slow_down` (§3.5), until tokens, a denial, the code's expiry or the caller's
 * signal. Two transports behind one loop: straight to Auth0 with the backend's device
 * application, as the deployed backend expects (auth.py 1.5.5), or the backend's own
 * `/auth/device-code` + `/auth/token-status` when it advertises `device_flow`.
 *
 * Written small rather than on openid-client's poller: Auth0 answers "pending" with a 403 the
 * Python SDK reads by status alone, a 429 `slow_down` may come without a body, requests must go
 * through the client's dispatcher (proxies), and a skewed laptop clock must not fail a login on
 * the ID token's `iat` (we do not consume the ID token).
 */

import type { Dispatcher } from 'undici';
import { request } from 'undici';
import {
  type BackendAuth,
  type DeviceAuthorization,
  type DevicePoll,
  deviceAuthorizationSchema,
  oauthErrorSchema,
} from '../auth/backend/backend-auth.js';
import { type TokenReply, tokenReplySchema } from '../auth/tokens/token-set.js';
import { ErrorCode } from '../errors/codes.js';
import {
  AbortError,
  LoginError,
  MeshError,
  NetworkError,
  ResponseValidationError,
  ServerError,
  TimeoutError,
} from '../errors/mesh-error.js';
import { jsonOrUndefined, readBodyText } from '../http/reply-body.js';
import { sleep } from '../http/waiting.js';
import { SDK_VERSION } from '../version.js';
import type { Auth0Settings } from './auth0-settings.js';
import { oauthDescription, oauthErrorWord, oauthLoginError } from './oauth-login-error.js';

/** What the person needs to approve a device login: the URL to visit, the code to enter there, and how long it lives. */
export interface DeviceVerification {
  verificationUri: string;
  verificationUriComplete: string | undefined;
  userCode: string;
  /** Seconds the code lives. */
  expiresIn: number;
}

/** Where a device login starts and is polled. */
export interface DeviceTransport {
  start(signal?: AbortSignal): Promise<DeviceAuthorization>;
  poll(deviceCode: string, signal?: AbortSignal): Promise<DevicePoll>;
}

export interface DeviceLoginOptions {
  transport: DeviceTransport;
  onVerification: (verification: DeviceVerification) => void;
  signal?: AbortSignal;
  /** Local clock, ms (tests). */
  now?: () => number;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SLOW_DOWN_STEP_MS = 5_000; // RFC 8628 §3.5
const REQUEST_TIMEOUT_MS = 30_000; // 30 s per request to Auth0
const MAX_REPLY_BYTES = 1024 * 1024; // 1 MiB
/** Consecutive failed polls (network, 5xx) tolerated before giving up: the code outlives a blip. */
const MAX_TRANSIENT_FAILURES = 3;

const EXPIRED_HINT = 'Run `npx mesh-auth --headless` for a new code.';
/** The code's lifetime ran out here, with no word from the server. */
const expired = () =>
  new LoginError('The device code expired before the login was approved.', {
    code: ErrorCode.LOGIN_EXPIRED,
    hint: EXPIRED_HINT,
  });

interface FormReply {
  status: number;
  json: unknown;
}

async function postForm(
  dispatcher: Dispatcher,
  url: string,
  form: Record<string, string>,
  signal?: AbortSignal,
): Promise<FormReply> {
  const startedAt = Date.now();
  try {
    const response = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': `mesh-sdk/${SDK_VERSION} node/${process.versions.node}`,
      },
      body: new URLSearchParams(form).toString(),
      dispatcher,
      signal,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    // An OAuth reply is a few hundred bytes: read at most 1 MiB, by the same deadline.
    const text = await readBodyText(response.body, {
      maxBytes: MAX_REPLY_BYTES,
      remainingMs: REQUEST_TIMEOUT_MS - (Date.now() - startedAt),
      what: `POST ${new URL(url).origin}${new URL(url).pathname}`,
      details: { status: response.statusCode },
    });
    return { status: response.statusCode, json: jsonOrUndefined(text) };
  } catch (error) {
    if (signal?.aborted) throw new AbortError('The device login was cancelled.', { cause: error });
    if (error instanceof MeshError) throw error; // an oversized or overdue reply, said as such
    const code = (error as { code?: string }).code;
    const origin = new URL(url).origin;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      throw new TimeoutError(`${origin} did not answer the device login within ${REQUEST_TIMEOUT_MS / 1000} s.`, {
        cause: error,
      });
    }
    throw new NetworkError(`Could not reach ${origin} for the device login (${code ?? (error as Error).message}).`, {
      cause: error,
      hint: 'Check your connection and AUTH0_DOMAIN (or the domain the backend publishes).',
    });
  }
}

function oauthFailure(reply: FormReply, what: string): LoginError {
  const hint = 'Check AUTH0_DOMAIN and that the Mesh deployment offers a device login; or set MESH_API_KEY.';
  const body = oauthErrorSchema.safeParse(reply.json);
  if (!body.success) {
    return new LoginError(`${what} failed: HTTP ${reply.status}.`, { code: ErrorCode.LOGIN_FAILED, status: reply.status, hint });
  }
  const failure = { error: body.data.error, description: body.data.error_description };
  const reason = oauthDescription(failure.description) ?? oauthErrorWord(failure.error);
  return oauthLoginError(`${what} failed: ${reason}.`, failure, { status: reply.status, hint });
}

/** Straight to Auth0 (`/oauth/device/code`, `/oauth/token`) as a public client: no secret, no PKCE. */
export function auth0DeviceTransport(settings: Auth0Settings, dispatcher: Dispatcher): DeviceTransport {
  return {
    async start(signal) {
      const form = { client_id: settings.clientId, scope: settings.scope, audience: settings.audience };
      const reply = await postForm(dispatcher, `${settings.domain}/oauth/device/code`, form, signal);
      if (reply.status !== 200) throw oauthFailure(reply, 'Starting the device login');
      const parsed = deviceAuthorizationSchema.safeParse(reply.json);
      if (!parsed.success) {
        throw new ResponseValidationError('Starting the device login: Auth0 answered with a body that is not a device code.', {
          status: reply.status,
          cause: parsed.error,
        });
      }
      return parsed.data;
    },
    async poll(deviceCode, signal) {
      const form = { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: settings.clientId };
      const reply = await postForm(dispatcher, `${settings.domain}/oauth/token`, form, signal);
      if (reply.status === 200) {
        const tokens = tokenReplySchema.safeParse(reply.json);
        if (tokens.success) return { tokens: tokens.data };
        throw new ResponseValidationError('Finishing the device login: Auth0 answered with a body that is not a token set.', {
          status: reply.status,
          cause: tokens.error,
        });
      }
      const failure = oauthErrorSchema.safeParse(reply.json);
      // Auth0 says "pending" with a 403, and also expired_token/access_denied: read `error` first.
      if (failure.success) return { error: failure.data.error, description: failure.data.error_description };
      if (reply.status === 403) return { error: 'authorization_pending' }; // the Python SDK's reading of a bare 403
      if (reply.status === 429) return { error: 'slow_down' };
      if (reply.status >= 500) return { error: 'temporarily_unavailable', description: `HTTP ${reply.status}` };
      throw oauthFailure(reply, 'Checking the device login');
    },
  };
}

/** The backend's own device endpoints (contract part B, only when it advertises `device_flow`). */
export function backendDeviceTransport(auth: BackendAuth): DeviceTransport {
  return {
    start: (signal) => auth.deviceCode(signal),
    poll: (deviceCode, signal) => auth.tokenStatus(deviceCode, signal),
  };
}

function transient(error: unknown): boolean {
  return !(error instanceof AbortError) && (error instanceof NetworkError || error instanceof ServerError);
}

export async function deviceLogin(options: DeviceLoginOptions): Promise<TokenReply> {
  const { transport, signal } = options;
  const now = options.now ?? Date.now;
  const device = await transport.start(signal);
  options.onVerification({
    verificationUri: device.verification_uri,
    verificationUriComplete: device.verification_uri_complete,
    userCode: device.user_code,
    expiresIn: device.expires_in,
  });
  let intervalMs = device.interval * 1000;
  const deadline = now() + device.expires_in * 1000;
  let failures = 0;
  for (;;) {
    // The last poll lands on the deadline: an approval in the final seconds still counts.
    await sleep(Math.max(0, Math.min(intervalMs, deadline - now())), signal, 'The device login was cancelled.');
    let result: DevicePoll;
    try {
      result = await transport.poll(device.device_code, signal);
    } catch (error) {
      if (transient(error) && ++failures <= MAX_TRANSIENT_FAILURES && now() < deadline) continue;
      throw error;
    }
    if ('tokens' in result) return result.tokens;
    switch (result.error) {
      case 'authorization_pending':
        failures = 0;
        break;
      case 'slow_down':
        failures = 0;
        intervalMs += SLOW_DOWN_STEP_MS;
        break;
      case 'temporarily_unavailable':
        if (++failures > MAX_TRANSIENT_FAILURES) {
          throw new LoginError(
            `The device login failed: the authorization server is unavailable (${oauthDescription(result.description) ?? 'no reason given'}).`,
            {
              code: ErrorCode.LOGIN_FAILED,
              serverCode: 'temporarily_unavailable',
              serverMessage: oauthDescription(result.description),
              hint: 'Try again shortly.',
            },
          );
        }
        break;
      case 'access_denied':
        throw oauthLoginError('The device login was denied in the browser.', result, {
          hint: 'Run `npx mesh-auth --headless` to try again.',
        });
      case 'expired_token':
        throw oauthLoginError('The device code expired before the login was approved.', result, { hint: EXPIRED_HINT });
      default:
        throw oauthLoginError(
          `The device login failed: ${oauthDescription(result.description) ?? oauthErrorWord(result.error)}.`,
          result,
          { hint: 'Run `npx mesh-auth --headless` to try again.' },
        );
    }
    if (now() >= deadline) throw expired();
  }
}
