// The public API of `mesh-sdk/server`: verify Mesh credentials in your own service. No logic here.
// Nothing outside src/server imports this folder: the client entry (`mesh-sdk`) never loads it.

export type { ExpressMiddleware, ReplyLike } from './adapters/express.js';
export type { FastifyInstanceLike, FastifyPlugin, FastifyReplyLike } from './adapters/fastify.js';
export type { VerifiedIncomingMessage } from './adapters/node.js';
export type { MeshAuthOptions } from './adapters/shared.js';
export type { FetchLikeRequest, NodeLikeRequest, VerifyInput } from './credentials.js';
export {
  type DpopFailure,
  MeshAuthError,
  VerificationCode,
  VerificationError,
  type VerificationErrorCode,
  VerifierUnavailableError,
} from './errors.js';
export { meshAuth } from './mesh-auth.js';
export {
  type ApiKeyOptions,
  type DpopOptions,
  type JwksOptions,
  type JwksStore,
  VerifierConfigError,
  type VerifierOptions,
  type VerifierSettings,
} from './options.js';
export { createVerifier, type MeshIdentity, type Verifier, type VerifyOptions } from './verifier.js';
