/**
 * The reference Mesh backend: every endpoint of backend-contract.md, in memory, as a confidential
 * client of the stand-in provider, with switches and faults for the awkward behaviours and
 * counters a test can read. Not published; tests start it on a free loopback port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { apiRoutes, rateLimitHeaders } from './api-routes.js';
import { authRoutes } from './auth-routes.js';
import type { AuthorityInfo, Backend, BackendCounters, BackendSettings, Principal, Route } from './context.js';
import { devRoutes } from './dev-routes.js';
import { FaultQueue, proxyErrorPage } from './faults.js';
import {
  bearerOf,
  cutConnection,
  errorReply,
  HttpError,
  newRequestId,
  type Reply,
  readJsonBody,
  sleep,
  writeReply,
} from './http.js';
import { BackendState } from './state.js';

export interface BackendOptions {
  authority: AuthorityInfo;
  settings?: Partial<BackendSettings>;
  /** Credits each new user starts with (a chat costs one). @default 1000 */
  initialCredits?: number;
  port?: number;
}

export interface RunningBackend extends Backend {
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_BACKEND_SETTINGS: BackendSettings = {
  validateEndpoint: true,
  configEndpoint: true,
  authUrlEndpoint: true,
  deviceFlow: true,
  authFailureStatus: 404,
  refreshInvalidGrantStatus: 400,
  deviceInterval: 5,
  devicePollFloor: 0,
  rateLimitPerMinute: 1000,
  streamDelayMs: 2,
  auth0Unreachable: false,
};

export function newCounters(): BackendCounters {
  return {
    exchanges: 0,
    refreshes: 0,
    refreshFailures: 0,
    validations: 0,
    profiles: 0,
    deviceCodes: 0,
    tokenStatusPolls: 0,
    requests: {},
  };
}

interface CompiledRoute extends Route {
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern.replace(/:(\w+)/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, regex: new RegExp(`^${source}$`), names };
}

const ROUTES = [...authRoutes, ...apiRoutes, ...devRoutes].map(compile);

function match(method: string, path: string) {
  let pathMatched = false;
  for (const route of ROUTES) {
    const found = route.regex.exec(path);
    if (!found) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = decodeURIComponent(found[i + 1] ?? '');
    });
    return { route, params };
  }
  return { pathMatched };
}

export async function startBackend(options: BackendOptions): Promise<RunningBackend> {
  const { authority } = options;
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', authority.origin));
  const state = new BackendState(options.initialCredits ?? 1000);
  const verified = new Map<string, Principal>();

  const backend: Backend = {
    settings: { ...DEFAULT_BACKEND_SETTINGS, ...options.settings },
    counters: newCounters(),
    state,
    faults: new FaultQueue(),
    authority,
    async authenticate(credential): Promise<Principal | undefined> {
      if (credential === undefined) return undefined;
      if (credential.startsWith('mesh_')) {
        const record = state.findApiKey(credential);
        if (!record) return undefined;
        record.last_used_at = new Date().toISOString();
        return { sub: record.owner, via: 'api_key', exp: null, scope: 'api_key' };
      }
      const cached = verified.get(credential);
      if (cached) {
        if (cached.exp !== null && cached.exp * 1000 > Date.now()) return cached;
        verified.delete(credential);
      }
      try {
        const { payload } = await jwtVerify(credential, jwks, {
          issuer: authority.issuer,
          audience: authority.audience,
          algorithms: ['RS256'],
        });
        if (typeof payload.sub !== 'string') return undefined;
        const principal: Principal = {
          sub: payload.sub,
          via: 'jwt',
          exp: payload.exp ?? null,
          scope: String(payload.scope ?? ''),
        };
        // An RSA verification per request would make this server, not the client, the subject of
        // every benchmark: remember verified tokens until they expire (bounded).
        if (verified.size >= 10_000) verified.clear();
        verified.set(credential, principal);
        return principal;
      } catch {
        return undefined;
      }
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://backend.invalid');
    const path = url.pathname;
    const found = match(method, path);
    const routeKey = 'route' in found && found.route ? `${method} ${found.route.pattern}` : `${method} (no route)`;
    backend.counters.requests[routeKey] = (backend.counters.requests[routeKey] ?? 0) + 1;
    const isDev = path.startsWith('/__dev/');

    const fault = isDev ? undefined : backend.faults.take(method, path, ['status', 'slowHeaders', 'slowBody', 'drop', 'hang']);
    if (fault?.kind === 'hang') return; // answered never; the socket closes with the client or the server
    if (fault?.kind === 'drop' && fault.when === 'before') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slowHeaders') await sleep(fault.ms);
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      const reply: Reply = fault.html
        ? { status: fault.status, text: proxyErrorPage(fault.status), headers }
        : {
            status: fault.status,
            body: {
              error: fault.status === 429 ? 'rate_limited' : 'server_error',
              message: `Injected ${fault.status}.`,
              request_id: requestId,
            },
            headers,
          };
      await writeReply(res, reply, requestId);
      return;
    }

    let reply: Reply | undefined;
    const route = 'route' in found ? found.route : undefined;
    try {
      if (!route) {
        const pathMatched = 'pathMatched' in found && found.pathMatched;
        throw pathMatched
          ? new HttpError(405, 'method_not_allowed', `${method} is not allowed here.`)
          : new HttpError(404, 'not_found', 'Not found.');
      }
      const body = method === 'GET' || method === 'HEAD' ? undefined : await readJsonBody(req);
      let principal: Principal | undefined;
      let extraHeaders: Record<string, string> = {};
      if (route.auth) {
        principal = await backend.authenticate(bearerOf(req));
        if (!principal) {
          // The real server hides its routes from strangers: 404 unless configured to say 401.
          throw backend.settings.authFailureStatus === 401
            ? new HttpError(401, 'unauthorized', 'Missing or invalid credentials.')
            : new HttpError(404, 'not_found', 'Not found.');
        }
        if (path.startsWith('/api/v1/')) extraHeaders = rateLimitHeaders(backend, principal);
      }
      const idempotencyKey = method === 'POST' ? req.headers['idempotency-key'] : undefined;
      const scope =
        typeof idempotencyKey === 'string' ? `${principal?.sub ?? '-'} ${route.pattern} ${idempotencyKey}` : undefined;
      const replay = scope === undefined ? undefined : state.replayFor(scope);
      if (replay) {
        reply = { ...replay, headers: { ...replay.headers, ...extraHeaders, 'idempotent-replayed': 'true' } };
      } else {
        reply = await route.handler({ req, res, url, params: found.params ?? {}, body, requestId, principal }, backend);
        if (reply) reply = { ...reply, headers: { ...reply.headers, ...extraHeaders } };
        if (reply && scope !== undefined && reply.status < 500) state.remember(scope, reply);
      }
    } catch (error) {
      if (error instanceof HttpError) {
        reply = errorReply(error, requestId, route?.oauth === true);
      } else {
        process.stderr.write(`reference backend: ${String((error as Error)?.stack ?? error)}\n`);
        reply = errorReply(new HttpError(500, 'internal_error', 'Internal error.'), requestId);
      }
    }
    if (!reply || res.headersSent) return; // a stream answered for itself
    if (fault?.kind === 'drop') {
      res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': '1000', 'x-request-id': requestId });
      res.write('{"partial":');
      cutConnection(res);
      return;
    }
    await writeReply(res, reply, requestId, fault?.kind === 'slowBody' ? fault.ms : 0);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`reference backend: ${String(error)}\n`);
      res.destroy();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

  return Object.assign(backend, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
