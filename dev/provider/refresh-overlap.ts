/**
 * Auth0's refresh-token "Rotation Overlap Period" (reuse interval), in front of oidc-provider:
 * https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation
 *
 * oidc-provider rotates the refresh token on every use and treats any reuse of a rotated one as
 * theft (it revokes the whole grant). Auth0 with an overlap period of N seconds lets the token
 * just rotated out be exchanged again for N seconds, so that a client that lost the reply can
 * retry; a new rotating token of the same family is issued. The second-to-last token (or older),
 * or the previous one after N seconds, is reuse as before.
 *
 * This layer keeps, per family (oidc-provider's grant), the newest refresh token, the one it
 * replaced and when. A refresh that presents that previous token within the period goes to the
 * provider with the newest one in its place: the provider rotates the family once more instead
 * of seeing a reuse. Everything else reaches the provider unchanged.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ProviderSettings } from './settings.js';
import { isTokenEndpointForm, readBody, refuseUnreadableForm, replay } from './token-form.js';

/** One family's last rotation. */
interface Rotation {
  family: string;
  /** The family's newest refresh token. */
  newest: string;
  /** The token `newest` replaced: the only one the overlap period forgives. */
  previous: string;
  /** When `previous` was rotated out, ms since the epoch. */
  rotatedAt: number;
}

/** Bound on the families remembered (a soak run makes many); forgetting one only ends its overlap early. */
const MAX_FAMILIES = 10_000;

/** Each family's last rotation, fed by the provider's successful refresh grants. */
export class RotationLog {
  readonly #byFamily = new Map<string, Rotation>();
  readonly #byPrevious = new Map<string, Rotation>();

  /** A refresh of `family` turned `presented` into `issued`. */
  rotated(family: string, presented: string, issued: string, now = Date.now()): void {
    this.forget(family);
    if (this.#byFamily.size >= MAX_FAMILIES) this.#clear();
    const rotation = { family, newest: issued, previous: presented, rotatedAt: now };
    this.#byFamily.set(family, rotation);
    this.#byPrevious.set(presented, rotation);
  }

  /** The family was revoked: none of its tokens is forgiven any more. */
  forget(family: string): void {
    const rotation = this.#byFamily.get(family);
    if (!rotation) return;
    this.#byFamily.delete(family);
    this.#byPrevious.delete(rotation.previous);
  }

  /**
   * The token to present instead of `presented`: its family's newest, when `presented` is the
   * token that newest one replaced, rotated out less than `periodMs` ago. Otherwise undefined.
   */
  newestFor(presented: string, periodMs: number, now = Date.now()): string | undefined {
    const rotation = this.#byPrevious.get(presented);
    if (!rotation || now - rotation.rotatedAt >= periodMs) return undefined;
    return rotation.newest;
  }

  #clear(): void {
    this.#byFamily.clear();
    this.#byPrevious.clear();
  }
}

/**
 * Puts the overlap period in front of `next` (the provider's handler). `onOverlapGrant` is called
 * for each refresh the period allowed that the provider then granted.
 */
export function withRefreshOverlap(
  next: RequestListener,
  settings: Pick<ProviderSettings, 'refreshReuseIntervalSeconds'>,
  rotations: RotationLog,
  onOverlapGrant: () => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const periodMs = settings.refreshReuseIntervalSeconds * 1000;
    // Bodies are read here only while a period is set: without one, requests pass untouched.
    if (periodMs <= 0 || !isTokenEndpointForm(req)) {
      next(req, res);
      return;
    }
    readBody(req).then(
      (raw) => {
        const form = new URLSearchParams(raw.toString('utf8'));
        const presented = form.get('grant_type') === 'refresh_token' ? form.get('refresh_token') : null;
        const newest = presented === null ? undefined : rotations.newestFor(presented, periodMs);
        if (newest === undefined) {
          next(replay(req, raw), res);
          return;
        }
        form.set('refresh_token', newest);
        res.once('finish', () => {
          if (res.statusCode === 200) onOverlapGrant();
        });
        next(replay(req, Buffer.from(form.toString(), 'utf8')), res);
      },
      () => refuseUnreadableForm(res),
    );
  };
}
