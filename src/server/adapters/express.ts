/**
 * Express (4 and 5) and Connect-style middleware. Express is not imported: the request and reply
 * are read through the few members every version has.
 */
import { replyFor } from '../challenge.js';
import type { NodeLikeRequest } from '../credentials.js';
import type { MeshIdentity } from '../verifier.js';
import { type MeshAuthOptions, setUp } from './shared.js';

/** The reply members the middleware writes through (an Express `res` is a Node `ServerResponse`). */
export interface ReplyLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** An Express (or Connect) middleware: `req.mesh` is the identity, or the request is answered 401/403/503. */
export type ExpressMiddleware = (
  req: NodeLikeRequest & { mesh?: MeshIdentity },
  res: ReplyLike,
  next: (error?: unknown) => void,
) => void;

/**
 * @example
 * app.use(meshAuth.express({ acceptApiKeys: true }));
 * app.get('/me', (req, res) => res.json(req.mesh));
 */
export function express(options: MeshAuthOptions = {}): ExpressMiddleware {
  const { verifier, requiredScopes } = setUp(options);
  return function meshAuthExpress(req, res, next) {
    verifier.verify(req, { requiredScopes }).then(
      (identity) => {
        req.mesh = identity;
        next();
      },
      (error: unknown) => {
        const reply = replyFor(error, verifier.settings);
        if (!reply) {
          next(error);
          return;
        }
        res.statusCode = reply.status;
        for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
        res.end(reply.body);
      },
    );
  };
}
