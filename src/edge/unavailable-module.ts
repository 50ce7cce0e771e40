/**
 * What the Worker build (tsup.config.ts) puts in place of the packages a Worker cannot run, all
 * loaded on first need only: `open` (a browser for the login), `redis` (TCP) and `sharp` (a native
 * image library). Importing it fails as a missing module does, so each caller's own fallback
 * applies: images are sent unscaled, and the login and the Redis store are refused before they
 * get here (config/runtime.ts).
 */
import { UnsupportedRuntimeError } from '../errors/mesh-error.js';

throw new UnsupportedRuntimeError('This package needs Node.js, Bun or Deno; an edge Worker cannot load it.');
