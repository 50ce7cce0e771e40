/** What every middleware takes: the verifier's options, or a verifier to share, plus this route's scopes. */
import type { VerifierOptions } from '../options.js';
import { createVerifier, type Verifier } from '../verifier.js';

export interface MeshAuthOptions extends VerifierOptions {
  /**
   * A verifier to share between middlewares (one key cache per process); the other verifier
   * options are then ignored, and `requiredScopes` is what this middleware requires on top of the
   * verifier's own.
   */
  verifier?: Verifier;
}

/** The verifier a middleware uses and the scopes it adds on each call. */
export function setUp(options: MeshAuthOptions = {}): { verifier: Verifier; requiredScopes: readonly string[] | undefined } {
  if (options.verifier) return { verifier: options.verifier, requiredScopes: options.requiredScopes };
  return { verifier: createVerifier(options), requiredScopes: undefined };
}
