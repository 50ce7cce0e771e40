// The package's entry in edge Workers (workerd, and bundlers that target a worker or a browser),
// chosen by the `workerd`, `worker` and `browser` export conditions: the same public API (api.ts),
// sending through the runtime's fetch instead of undici, which a Worker cannot load. The login
// and the local token stores throw UnsupportedRuntimeError there (config/runtime.ts).
// No logic here but the one line below the export.

import { fetchTransport } from './http/fetch-transport.js';
import { useFetchAtImport } from './http/http-client.js';

export * from './api.js';

useFetchAtImport(() => fetchTransport());
