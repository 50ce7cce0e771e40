/**
 * The loopback listener of the login (RFC 8252 §7.3): bound to 127.0.0.1 and ::1 only, path
 * `/callback`. It checks `state` in constant time, answers the code with a 302 to a code-free
 * page (so the code leaves the address bar and history), shows the outcome there, ignores stray
 * requests, and closes on every path.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ErrorCode } from '../errors/codes.js';
import { AbortError, LoginError } from '../errors/mesh-error.js';
import { oauthDescription, oauthErrorWord, oauthLoginError } from './oauth-login-error.js';
import { failurePage, successPage } from './pages.js';

export interface LoopbackOptions {
  port: number;
  /** The `state` sent in the authorization request. */
  state: string;
  /** How long to wait for the browser, ms. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface LoopbackListener {
  /** `http://localhost:<port>/callback`: what Auth0 has registered. */
  redirectUri: string;
  /** Resolves with the authorization code; rejects on an error callback, the time bound or abort. */
  code: Promise<string>;
  /** The flow's final word (after the exchange), shown on the browser's page. */
  finish(outcome: { ok: true } | { ok: false; reason: string }): void;
  /** Stops listening and drops every connection; waits briefly for the browser to get its page. */
  close(): Promise<void>;
}

/**
 * Compares two secrets (the callback's `state` with ours) in constant time: both are hashed to
 * SHA-256 first, so `timingSafeEqual` always gets 32 bytes each. Comparing the raw strings (`===`,
 * or an early length check) would tell a forger, by timing, how much of a guess was right.
 */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export type CallbackVerdict =
  | { kind: 'code'; code: string }
  | { kind: 'error'; error: string; description?: string }
  | { kind: 'rejected'; reason: 'state' | 'no-code' | 'stale' };

/** What a callback's query says (RFC 6749 §4.1.2): the code, the error, or a refusal (wrong state, no code). */
export function interpretCallback(params: URLSearchParams, expectedState: string): CallbackVerdict {
  if (!sameSecret(params.get('state') ?? '', expectedState)) return { kind: 'rejected', reason: 'state' };
  const error = params.get('error');
  if (error) {
    // Error codes are ASCII words (RFC 6749 §4.1.2.1); anything else is shown as "unknown".
    const safe = oauthErrorWord(error);
    return { kind: 'error', error: safe, description: oauthDescription(params.get('error_description') ?? undefined) };
  }
  const code = params.get('code');
  return code ? { kind: 'code', code } : { kind: 'rejected', reason: 'no-code' };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function portInUse(port: number, cause: unknown): LoginError {
  return new LoginError(`Port ${port} is already in use, so the login cannot receive its callback there.`, {
    code: ErrorCode.CALLBACK_PORT_IN_USE,
    cause,
    hint: `Stop the program using port ${port}, or log in on another port registered for the Mesh app: \`npx mesh-auth --port <port>\` or AUTH0_CALLBACK_PORT.`,
  });
}

export async function startLoopbackListener(options: LoopbackOptions): Promise<LoopbackListener> {
  const { port, state } = options;
  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void };
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  code.catch(() => {}); // observed by the caller; never an unhandled rejection here
  let settled = false;
  let callbackArrived = false; // a browser brought a code or an error: it will ask for /done
  let finishOutcome!: (outcome: { ok: true } | { ok: false; reason: string }) => void;
  const outcome = new Promise<{ ok: true } | { ok: false; reason: string }>((resolve) => {
    finishOutcome = resolve;
  });
  let pageServed!: () => void;
  const served = new Promise<void>((resolve) => {
    pageServed = resolve;
  });

  const settleWith = (result: { code: string } | { error: Error }) => {
    if (settled) return;
    settled = true;
    if ('code' in result) settle.resolve(result.code);
    else {
      finishOutcome({ ok: false, reason: result.error.message });
      settle.reject(result.error);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const html = (status: number, body: string) =>
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    if (url.pathname === '/callback') {
      const verdict = settled ? ({ kind: 'rejected', reason: 'stale' } as const) : interpretCallback(url.searchParams, state);
      if (verdict.kind === 'rejected') {
        // A forged, stale or empty callback: refuse it, keep waiting for the real one.
        html(
          400,
          failurePage(
            verdict.reason === 'no-code'
              ? 'The login response carried no code.'
              : 'This login response does not belong to the login in progress, so it was ignored.',
          ),
        );
        return;
      }
      if (verdict.kind === 'error') {
        settleWith({
          error: oauthLoginError(`The login was refused: ${verdict.description ?? verdict.error} (${verdict.error}).`, verdict, {
            hint: 'Run `npx mesh-auth` to try again.',
          }),
        });
      } else {
        settleWith({ code: verdict.code });
      }
      callbackArrived = true;
      // The code leaves the address bar: the browser lands on a page without it.
      res.writeHead(302, { location: '/done', 'cache-control': 'no-store' }).end();
      return;
    }
    if (url.pathname === '/done' && settled) {
      let bound: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        outcome,
        new Promise<null>((resolve) => {
          bound = setTimeout(resolve, 30_000, null);
        }),
      ]);
      clearTimeout(bound); // else it holds a script's event loop open for 30 s after its login
      html(200, result?.ok ? successPage() : failurePage(result ? result.reason : 'The login is taking too long.'));
      pageServed();
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
  };

  const servers: Server[] = [];
  const newServer = () => {
    const server = createServer((req, res) => {
      handle(req, res).catch(() => res.destroy());
    });
    servers.push(server);
    return server;
  };
  const closeAll = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => {});

  // Loopback only (RFC 8252 §8.3): never every interface. Both families, so that `localhost`
  // works whichever it resolves to.
  try {
    await listen(newServer(), port, '127.0.0.1');
  } catch (error) {
    await closeAll();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port, error);
    throw new LoginError(`Could not listen on 127.0.0.1:${port} for the login callback.`, { cause: error });
  }
  try {
    await listen(newServer(), port, '::1');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'EADDRINUSE') {
      await closeAll();
      throw portInUse(port, error);
    }
    servers.pop(); // no IPv6 loopback here: 127.0.0.1 alone
  }

  const timer = setTimeout(() => {
    settleWith({
      error: new LoginError(`No login response arrived within ${Math.round(options.timeoutMs / 1000)} s.`, {
        code: ErrorCode.LOGIN_TIMEOUT,
        hint: 'Run `npx mesh-auth` to try again; on a machine without a browser use `npx mesh-auth --headless`.',
      }),
    });
  }, options.timeoutMs);
  const onAbort = () => settleWith({ error: new AbortError('The login was cancelled.') });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  return {
    redirectUri: `http://localhost:${port}/callback`,
    code,
    finish: (result) => finishOutcome(result),
    async close() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // After a callback, give the browser a moment to fetch its page; then drop everything.
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        served,
        new Promise((resolve) => {
          grace = setTimeout(resolve, callbackArrived ? 2000 : 0);
        }),
      ]);
      clearTimeout(grace); // a pending timer would keep the process alive that long for nothing
      await closeAll();
    },
  };
}
