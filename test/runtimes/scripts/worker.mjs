// The Worker around the same scripts: GET /<script> runs that script's `run(env)` with the
// Worker's bindings and answers its result as JSON, as run-local.mjs prints it.
import { run as api } from './api.mjs';
import { run as limits } from './limits.mjs';
import { run as server } from './server.mjs';

const scripts = { api, limits, server };

export default {
  async fetch(request, env) {
    const run = scripts[new URL(request.url).pathname.slice(1)];
    if (run === undefined) return new Response('no such script', { status: 404 });
    try {
      return Response.json({ ok: true, seen: await run(env) });
    } catch (error) {
      return Response.json({
        ok: false,
        error: { name: error.name, code: error.code, message: error.message, stack: error.stack },
      });
    }
  },
};
