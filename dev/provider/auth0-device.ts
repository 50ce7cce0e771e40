/**
 * Makes oidc-provider's device flow answer as Auth0's does, in front of its request handler:
 * `interval` in the device authorization reply (oidc-provider sends none), polling paced per
 * device code (`slow_down`, +5 s each, RFC 8628 §3.5; oidc-provider does not pace), and Auth0's
 * statuses: `authorization_pending`, `expired_token`, `access_denied` as 403 and `slow_down` as
 * 429 (oidc-provider, like RFC 8628 §3.5, sends 400).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { recordSecrets } from '../canaries.js';
import { isTokenEndpointForm, readBody, refuseUnreadableForm, replay } from './token-form.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** What the layer reads on every request, so a test may change it while the provider runs. */
export interface DevicePacing {
  /** Seconds between polls, sent as `interval`. */
  deviceInterval: number;
  /** Enforce at least this many seconds between polls, whatever was sent (to test `slow_down`). */
  devicePollFloor: number;
  /** `auth0`: 403 for pending/denied/expired, 429 for slow_down; `rfc`: 400 for all. */
  deviceErrorStatuses: 'auth0' | 'rfc';
}

const AUTH0_STATUS: Record<string, number> = {
  authorization_pending: 403,
  expired_token: 403,
  access_denied: 403,
  slow_down: 429,
};

/** Rewrites the JSON body and status the provider is about to send (Koa ends with the whole body). */
function rewriteJson(
  res: ServerResponse,
  edit: (status: number, body: Record<string, unknown>) => { status: number; body: unknown },
) {
  const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (!res.headersSent && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
      try {
        const parsed = JSON.parse(chunk.toString()) as Record<string, unknown>;
        const next = edit(res.statusCode, parsed);
        const text = JSON.stringify(next.body);
        res.statusCode = next.status;
        res.setHeader('content-length', Buffer.byteLength(text));
        return end(text, ...rest);
      } catch {
        // not JSON: leave it alone
      }
    }
    return end(chunk, ...rest);
  }) as ServerResponse['end'];
}

export function withAuth0Device(
  next: RequestListener,
  pacing: DevicePacing,
  onSlowDown: () => void,
  /** Told the time (ms) of every device-code poll, answered or refused. */
  onPoll: (at: number) => void = () => {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const polls = new Map<string, { at: number; slowDowns: number }>();
  const statusFor = (status: number, error: unknown) =>
    pacing.deviceErrorStatuses === 'auth0' && status === 400 && typeof error === 'string'
      ? (AUTH0_STATUS[error] ?? status)
      : status;

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/oauth/device/code') {
      rewriteJson(res, (status, body) => {
        recordSecrets(body.device_code); // the canary run looks for it in every output
        return { status, body: status === 200 ? { ...body, interval: pacing.deviceInterval } : body };
      });
      next(req, res);
      return;
    }
    if (!isTokenEndpointForm(req)) {
      next(req, res);
      return;
    }
    readBody(req).then(
      (raw) => {
        const form = new URLSearchParams(raw.toString('utf8'));
        if (form.get('grant_type') !== DEVICE_CODE_GRANT) {
          next(replay(req, raw), res);
          return;
        }
        const code = form.get('device_code') ?? '';
        const now = Date.now();
        onPoll(now);
        const last = polls.get(code);
        if (last) {
          const owed = Math.max(pacing.deviceInterval + 5 * last.slowDowns, pacing.devicePollFloor) * 1000;
          if (now - last.at < owed) {
            polls.set(code, { at: now, slowDowns: last.slowDowns + 1 });
            onSlowDown();
            const body = JSON.stringify({
              error: 'slow_down',
              error_description: `Polling too fast: wait ${pacing.deviceInterval + 5 * (last.slowDowns + 1)} s between polls.`,
            });
            res.writeHead(statusFor(400, 'slow_down'), {
              'content-type': 'application/json; charset=utf-8',
              'cache-control': 'no-store',
            });
            res.end(body);
            return;
          }
        }
        polls.set(code, { at: now, slowDowns: last?.slowDowns ?? 0 });
        if (polls.size > 10_000) polls.clear();
        rewriteJson(res, (status, body) => {
          if (status === 200) polls.delete(code);
          recordSecrets(body.access_token, body.refresh_token, body.id_token);
          return { status: statusFor(status, body.error), body };
        });
        next(replay(req, raw), res);
      },
      () => refuseUnreadableForm(res),
    );
  };
}
