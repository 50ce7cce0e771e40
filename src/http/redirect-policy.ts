/**
 * Where a redirect may lead (contract part C, issue 19): within the backend's origin only, and
 * nowhere at all for the auth endpoints. A credential header, a refresh token in a body or a stored
 * key's value must never reach another origin; refusing before anything is sent there is simpler
 * and safer than stripping what might be secret (headers were stripped before, bodies were not).
 */
import { RedirectRefusedError } from '../errors/mesh-error.js';

/**
 * Where a redirect may lead: the same origin only, and nowhere for the auth endpoints. Anything
 * else is refused before a byte goes there (a refresh token in a body, a key value, a credential).
 */
export function redirectTarget(
  req: { method: string; path: string; redirects?: 'same-origin' | 'none' },
  status: number,
  current: URL,
  location: string,
): URL {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new RedirectRefusedError(
      `${req.method} ${req.path}: the backend answered HTTP ${status} with an unreadable Location.`,
      {
        status,
        hint: 'Check MESH_API_URL.',
      },
    );
  }
  const target = next.origin === 'null' ? next.protocol : next.origin;
  if (next.origin !== current.origin) {
    throw new RedirectRefusedError(
      `${req.method} ${req.path}: the backend at ${current.origin} redirected to another origin, ${target}; mesh-sdk never follows a redirect to another origin.`,
      { status, hint: `If ${target} is the real Mesh backend, set MESH_API_URL to it.` },
    );
  }
  // The auth endpoints never redirect (a refresh token travels in a body); the API only within its origin.
  if ((req.redirects ?? (req.path.startsWith('/auth/') ? 'none' : 'same-origin')) === 'none') {
    throw new RedirectRefusedError(
      `${req.method} ${req.path}: the backend answered with a redirect (HTTP ${status}, within ${current.origin}); auth endpoints are never redirected.`,
      { status, hint: 'Check MESH_API_URL: it should be the backend itself, not an address that forwards to it.' },
    );
  }
  return next;
}
