/** A `node:http` request listener that verifies first: `http.createServer(meshAuth.node(handler, options))`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { replyFor } from '../challenge.js';
import type { MeshIdentity } from '../verifier.js';
import { type MeshAuthOptions, setUp } from './shared.js';

/** A request that passed: `req.mesh` is who sent it. */
export type VerifiedIncomingMessage = IncomingMessage & { mesh: MeshIdentity };

/**
 * @example
 * http.createServer(meshAuth.node((req, res) => res.end(req.mesh.subject))).listen(3000);
 */
export function node(
  handler: (req: VerifiedIncomingMessage, res: ServerResponse) => unknown,
  options: MeshAuthOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const { verifier, requiredScopes } = setUp(options);
  const fail = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, headers).end(body);
  };
  return function meshAuthNode(req, res) {
    verifier
      .verify(req, { requiredScopes })
      .then(
        (identity) => {
          (req as VerifiedIncomingMessage).mesh = identity;
          return handler(req as VerifiedIncomingMessage, res);
        },
        (error: unknown) => {
          const reply = replyFor(error, verifier.settings);
          if (!reply) throw error;
          fail(res, reply.status, reply.headers, reply.body);
        },
      )
      .catch(() => {
        // The handler failed (or a bug): nothing of it goes to the client.
        fail(res, 500, { 'content-type': 'application/json; charset=utf-8' }, '{"error":"internal_error"}');
      });
  };
}
