// The package's entry on Node.js, Bun and Deno: the public API (api.ts), sending through undici.
// No logic here but the one line below the export.

import { useUndiciAtImport } from './http/http-client.js';
import * as undiciTransports from './http/undici-transport.js';

export * from './api.js';

// undici comes with the package, so that a client's first request waits for no module; code that
// does not come through this entry (the CLI, on node:http) loads it only if it needs it (http-client.ts).
useUndiciAtImport(undiciTransports);
