/**
 * How the CLI's commands reach the backend: node:http, which a process that makes a request or two
 * and exits starts about 300 ms sooner than undici (issue 22: `mesh-auth status` within 1.5x of a
 * bare `node -e 0`). With a proxy variable set, undici as the library uses it (node:http does not
 * read HTTP(S)_PROXY or NO_PROXY): undefined, the client's default.
 */
import { nodeHttpTransport } from '../http/node-http-transport.js';
import type { Transport } from '../http/transport.js';
import { proxyConfigured } from '../internal/environment.js';

export function cliTransport(): Transport | undefined {
  return proxyConfigured() ? undefined : nodeHttpTransport();
}
