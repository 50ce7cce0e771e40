// The same calls in a Worker (bundled by wrangler, served by workerd), with the Worker's bindings
// as `env`: GET /first?call=listKeys|chat makes one call of a new client (the cold start's
// request); GET /warm?calls=N&warmup=W runs the warm loops inside this handler and answers
// `{ calls, c1, c16 }`. workerd's clock only advances across I/O, and each call is I/O.
import { firstCall, warmCalls } from './calls.mjs';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/first') {
        await firstCall(env, url.searchParams.get('call') ?? 'listKeys');
        return Response.json({ ok: true });
      }
      if (url.pathname === '/warm') {
        const calls = Number(url.searchParams.get('calls'));
        const warmup = Number(url.searchParams.get('warmup'));
        return Response.json({ ok: true, ...(await warmCalls(env, calls, warmup)) });
      }
      return new Response('not found', { status: 404 });
    } catch (error) {
      return Response.json({ ok: false, error: { name: error.name, code: error.code, message: error.message } }, { status: 500 });
    }
  },
};
