/** The middlewares, one per kind of server, under one name: `meshAuth.express`, `.fastify`, `.node`, `.fetch`. */
import { express } from './adapters/express.js';
import { fastify } from './adapters/fastify.js';
import { fetchHandler } from './adapters/fetch.js';
import { node } from './adapters/node.js';

/**
 * Middleware that verifies each request with a verifier (see `createVerifier`), puts the identity
 * on the request (`req.mesh`, `request.mesh`, or the fetch handler's second argument) and answers
 * 401/403 with a `WWW-Authenticate` challenge, or 503 with `Retry-After`, itself.
 *
 * @example
 * app.use(meshAuth.express());                                  // Express
 * fastify.register(meshAuth.fastify, { acceptApiKeys: true });  // Fastify
 * http.createServer(meshAuth.node(handler));                    // node:http
 * export default { fetch: meshAuth.fetch(handler) };            // Workers, Bun, Deno, Hono
 */
export const meshAuth = Object.freeze({ express, fastify, node, fetch: fetchHandler });
