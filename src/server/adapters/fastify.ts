/**
 * A Fastify (4 and 5) plugin: `fastify.register(meshAuth.fastify, options)`. It marks itself as
 * not encapsulated (what `fastify-plugin` does, without depending on it), so its `onRequest` hook
 * guards the routes of the context that registers it; register it inside a child context to guard
 * only that context's routes.
 */
import { replyFor } from '../challenge.js';
import type { NodeLikeRequest } from '../credentials.js';
import type { MeshIdentity } from '../verifier.js';
import { type MeshAuthOptions, setUp } from './shared.js';

/** The Fastify reply members the hook answers through. */
export interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(body?: unknown): FastifyReplyLike;
}

/** The Fastify instance members the plugin uses. */
export interface FastifyInstanceLike {
  decorateRequest(name: string, value: unknown): unknown;
  hasRequestDecorator?(name: string): boolean;
  addHook(
    name: 'onRequest',
    hook: (request: NodeLikeRequest & { mesh?: MeshIdentity | null }, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/** A Fastify plugin function, marked so that Fastify does not encapsulate it. */
export type FastifyPlugin = ((instance: FastifyInstanceLike, options: MeshAuthOptions) => Promise<void>) & {
  [key: symbol]: unknown;
};

async function meshAuthFastify(instance: FastifyInstanceLike, options: MeshAuthOptions): Promise<void> {
  const { verifier, requiredScopes } = setUp(options);
  // Registered again in a child context (another scope, other scopes required): decorated once.
  if (!instance.hasRequestDecorator?.('mesh')) instance.decorateRequest('mesh', null);
  instance.addHook('onRequest', async (request, reply) => {
    try {
      request.mesh = await verifier.verify(request, { requiredScopes });
    } catch (error) {
      const answer = replyFor(error, verifier.settings);
      if (!answer) throw error;
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    }
    return undefined;
  });
}

/**
 * @example
 * fastify.register(meshAuth.fastify, { requiredScopes: ['chat'] });
 * fastify.get('/me', async (request) => request.mesh);
 */
export const fastify: FastifyPlugin = Object.assign(meshAuthFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'mesh-sdk/server',
});
