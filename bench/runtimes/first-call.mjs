// Cold start (Node.js, Bun, Deno): import the SDK, make a client, one call (`listKeys`, the
// default, or `chat`, as argv[2]), print `replied`, and exit by itself. The bench times the whole
// process, and when the line arrives (the reply, before whatever the runtime does on its way out).
import { firstCall } from './calls.mjs';

await firstCall(process.env, process.argv[2] ?? 'listKeys');
console.log('replied');
