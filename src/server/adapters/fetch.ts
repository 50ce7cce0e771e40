/**
 * A Fetch API handler that verifies first: Cloudflare Workers, Bun, Deno, Hono, Next.js route
 * handlers. `meshAuth.fetch(handler, options)` returns `(request, ...rest) => Response`, calling
 * `handler(request, identity, ...rest)` (the rest: a Worker's `env` and `ctx`, Hono's, ...).
 */
import { replyFor } from '../challenge.js';
import type { MeshIdentity } from '../verifier.js';
import { type MeshAuthOptions, setUp } from './shared.js';

/**
 * @example
 * export default { fetch: meshAuth.fetch((request, identity) => Response.json({ you: identity.subject })) };
 */
export function fetchHandler<Rest extends unknown[]>(
  handler: (request: Request, identity: MeshIdentity, ...rest: Rest) => Response | Promise<Response>,
  options: MeshAuthOptions = {},
): (request: Request, ...rest: Rest) => Promise<Response> {
  const { verifier, requiredScopes } = setUp(options);
  return async function meshAuthFetch(request, ...rest) {
    let identity: MeshIdentity;
    try {
      identity = await verifier.verify(request, { requiredScopes });
    } catch (error) {
      const reply = replyFor(error, verifier.settings);
      if (!reply) throw error;
      return new Response(reply.body, { status: reply.status, headers: reply.headers });
    }
    return handler(request, identity, ...rest);
  };
}
