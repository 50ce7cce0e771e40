/**
 * The loopback listener of the login (RFC 8252 §7.3): bound to 127.0.0.1 and ::1 only. It serves
 * the one-time start link (start-link.ts) and the callback, `/callback`: it checks `state` in
 * constant time, answers the code with a 302 to a code-free page (so the code leaves the address
 * bar and history), shows the outcome there, ignores stray requests, and closes on every path.
 * Every request must name this listener in `Host` (a DNS-rebinding defence) and be a GET.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ErrorCode } from '../errors/codes.js';
import { AbortError, LoginError } from '../errors/mesh-error.js';
import { oauthDescription, oauthErrorWord, oauthLoginError } from './oauth-login-error.js';
import { failurePage, successPage } from './pages.js';
import { linkOpenedTwice, StartLink } from './start-link.js';

export interface LoopbackOptions {
  port: number;
  /** The `state` sent in the authorization request. */
  state: string;
  /** How long to wait for the browser, ms. */
  timeoutMs: number;
  /**
   * How long after the start link's first fetch a code is held back, ms (start-link.ts): set when
   * the link is handed to a browser opener, whose command line other users can read. @default 0
   */
  holdMs?: number;
  signal?: AbortSignal;
}

type Outcome = { ok: true } | { ok: false; reason: string };

export interface LoopbackListener {
  /** `http://localhost:<port>/callback`: what Auth0 has registered. */
  redirectUri: string;
  /**
   * Points the one-time start link at the authorization URL and returns the link,
   * `http://localhost:<port>/start/<random>`: the only URL to hand to a browser or print.
   */
  startLink(authorizationUrl: string): string;
  /** Resolves with the authorization code; rejects on an error callback, a reused start link, the time bound or abort. */
  code: Promise<string>;
  /** The flow's final word (after the exchange), shown on the browser's page. */
  finish(outcome: Outcome): void;
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

/**
 * Whether a request's `Host` names this listener. A page on another site whose name an attacker
 * re-points at 127.0.0.1 (DNS rebinding) reaches the socket, but its requests carry that name.
 */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  return host !== undefined && [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
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

const html = (res: ServerResponse, status: number, body: string) =>
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);

const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);

export async function startLoopbackListener(options: LoopbackOptions): Promise<LoopbackListener> {
  const { port, state } = options;
  const link = new StartLink(options.holdMs ?? 0);
  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void };
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  code.catch(() => {}); // observed by the caller; never an unhandled rejection here
  // waiting: callbacks are taken; holding: a code arrived and is held back (start-link.ts); done: decided.
  let phase: 'waiting' | 'holding' | 'done' = 'waiting';
  let hold: NodeJS.Timeout | undefined;
  let callbackArrived = false; // a browser brought a code or an error: it will ask for /done
  let finishOutcome!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => {
    finishOutcome = resolve;
  });
  let pageServed!: () => void;
  const served = new Promise<void>((resolve) => {
    pageServed = resolve;
  });

  const fail = (error: Error) => {
    if (phase === 'done') return;
    phase = 'done';
    clearTimeout(hold);
    finishOutcome({ ok: false, reason: error.message });
    settle.reject(error);
  };
  const release = (value: string) => {
    if (phase === 'done') return;
    phase = 'done';
    settle.resolve(value);
  };
  const accept = (value: string) => {
    phase = 'holding';
    const left = link.holdLeft();
    if (left === 0) release(value);
    else hold = setTimeout(release, left, value);
  };

  const onStart = (res: ServerResponse) => {
    const visit = link.visit();
    if (!visit) {
      text(res, 404, 'Not found');
    } else if (visit.kind === 'first') {
      res.writeHead(302, { location: visit.location, 'cache-control': 'no-store' }).end();
    } else if (phase === 'done') {
      html(res, 410, failurePage('This login link was already used.'));
    } else {
      // Whoever asks second, the browser or the other program, the login in progress is not to be trusted.
      const error = linkOpenedTwice();
      html(res, 410, failurePage(error.message));
      fail(error);
    }
  };

  const onCallback = (res: ServerResponse, params: URLSearchParams) => {
    const verdict = phase === 'waiting' ? interpretCallback(params, state) : ({ kind: 'rejected', reason: 'stale' } as const);
    if (verdict.kind === 'rejected') {
      // A forged, stale or empty callback: refuse it, keep waiting for the real one.
      const reason =
        verdict.reason === 'no-code'
          ? 'The login response carried no code.'
          : 'This login response does not belong to the login in progress, so it was ignored.';
      html(res, 400, failurePage(reason));
      return;
    }
    if (verdict.kind === 'error') {
      const message = `The login was refused: ${verdict.description ?? verdict.error} (${verdict.error}).`;
      fail(oauthLoginError(message, verdict, { hint: 'Run `npx mesh-auth` to try again.' }));
    } else {
      accept(verdict.code);
    }
    callbackArrived = true;
    // The code leaves the address bar: the browser lands on a page without it.
    res.writeHead(302, { location: '/done', 'cache-control': 'no-store' }).end();
  };

  const onDone = async (res: ServerResponse) => {
    let bound: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      outcome,
      new Promise<null>((resolve) => {
        bound = setTimeout(resolve, 30_000, null);
      }),
    ]);
    clearTimeout(bound); // else it holds a script's event loop open for 30 s after its login
    html(res, 200, result?.ok ? successPage() : failurePage(result ? result.reason : 'The login is taking too long.'));
    pageServed();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!isLoopbackHost(req.headers.host, port)) return text(res, 400, 'Bad host');
    if (req.method !== 'GET') return text(res, 405, 'Method not allowed', { allow: 'GET' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === link.path) return onStart(res);
    if (url.pathname === '/callback') return onCallback(res, url.searchParams);
    if (url.pathname === '/done' && phase !== 'waiting') return onDone(res);
    if (url.pathname === '/favicon.ico') return res.writeHead(204).end();
    text(res, 404, 'Not found');
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
    fail(
      new LoginError(`No login response arrived within ${Math.round(options.timeoutMs / 1000)} s.`, {
        code: ErrorCode.LOGIN_TIMEOUT,
        hint: 'Run `npx mesh-auth` to try again; on a machine without a browser use `npx mesh-auth --headless`.',
      }),
    );
  }, options.timeoutMs);
  const onAbort = () => fail(new AbortError('The login was cancelled.'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  return {
    redirectUri: `http://localhost:${port}/callback`,
    startLink(authorizationUrl) {
      link.pointAt(authorizationUrl);
      return `http://localhost:${port}${link.path}`;
    },
    code,
    finish: (result) => finishOutcome(result),
    async close() {
      clearTimeout(timer);
      clearTimeout(hold);
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
