/**
 * Which JavaScript runtime runs the SDK, and the guard for what needs a machine of one's own. On
 * Node.js, Bun and Deno everything works. In an edge Worker (Cloudflare's workerd) there is no
 * file system that outlives a request, no browser, terminal or child process, and no raw TCP: the
 * login and the stores that keep tokens there (file, keychain, Redis) throw
 * `UnsupportedRuntimeError` before they read or send anything, saying what works there instead.
 */
import { UnsupportedRuntimeError } from '../errors/mesh-error.js';

export type RuntimeName = 'Node.js' | 'Bun' | 'Deno' | 'workerd';

/** The runtime, from what each one alone has (workerd names itself in `navigator.userAgent`). */
export function currentRuntime(): RuntimeName {
  const global = globalThis as { Bun?: unknown; Deno?: unknown; navigator?: { userAgent?: string } };
  if (global.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (global.Bun !== undefined) return 'Bun';
  if (global.Deno !== undefined) return 'Deno';
  return 'Node.js';
}

/** What a Worker uses instead of the login and the local token stores. */
const IN_A_WORKER =
  'In a Worker, pass apiKey (e.g. new MeshClient({ apiKey: env.MESH_API_KEY })), tokens (tokenStore: "env" with MESH_ACCESS_TOKEN and MESH_REFRESH_TOKEN, or a store of your own) or a tokenProvider; log in with `npx mesh-auth` on Node.js, Bun or Deno.';

/**
 * Throws `UnsupportedRuntimeError` when `feature` (e.g. "The login") cannot work here because it
 * needs `needs` (e.g. "a browser and a loopback port"). A no-op on Node.js, Bun and Deno.
 */
export function requireLocalMachine(feature: string, needs: string): void {
  const runtime = currentRuntime();
  if (runtime !== 'workerd') return;
  throw new UnsupportedRuntimeError(`${feature} needs ${needs}, which an edge Worker (${runtime}) does not have.`, {
    hint: IN_A_WORKER,
  });
}
