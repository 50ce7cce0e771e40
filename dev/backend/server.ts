/**
 * The reference Mesh backend: contract v2 part A as the deployed backend serves it, in memory, as
 * a confidential client of the stand-in provider; part B extensions when `settings.capabilities`
 * advertises them; switches for every ambiguous reading, faults for the awkward behaviours, and
 * counters a test can read. Not published; tests start it on a free loopback port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { apiRoutes, rateLimit } from './api-routes.js';
import { authRoutes } from './auth-routes.js';
import {
  type AuthorityInfo,
  type Backend,
  type BackendCounters,
  type BackendSettings,
  CAPABILITIES,
  type Capability,
  type Principal,
  type Route,
} from './context.js';
import { devRoutes } from './dev-routes.js';
import { FaultQueue, proxyErrorPage } from './faults.js';
import {
  apiKeyOfAuthorization,
  apiKeyOfHeader,
  bearerOf,
  cutConnection,
  type ErrorStyle,
  errorReply,
  HttpError,
  newRequestId,
  type Reply,
  readJsonBody,
  sleep,
  writeReply,
} from './http.js';
import { countIdempotencyKey, idempotencyScope, replayOf } from './idempotency.js';
import { imageRoutes } from './images.js';
import { BackendState } from './state.js';
import { zkpRoutes } from './zkp-routes.js';

export interface BackendOptions {
  authority: AuthorityInfo;
  settings?: Partial<BackendSettings>;
  /** Credits each new user starts with (a chat costs one). @default 1000 */
  initialCredits?: number;
  port?: number;
}

export interface RunningBackend extends Backend {
  url: string;
  /** The settings it started with (defaults, env capabilities, then its options). */
  readonly initialSettings: Readonly<BackendSettings>;
  /** Puts every setting back to `initialSettings` and clears the faults (for `afterEach`). */
  reset(): void;
  close(): Promise<void>;
}

/**
 * The capabilities every backend started in this process advertises unless its options say
 * otherwise: env `DEV_BACKEND_CAPABILITIES` = `all`, or a comma list of part B names (CI runs the
 * suite once more with `all`). An unknown name is an error, not a silent no-op.
 */
export function capabilitiesFromEnv(value = process.env.DEV_BACKEND_CAPABILITIES): string[] {
  const raw = (value ?? '').trim();
  if (raw === '' || raw === 'none') return [];
  if (raw === 'all') return [...CAPABILITIES];
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(CAPABILITIES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`DEV_BACKEND_CAPABILITIES: unknown ${unknown.join(', ')}; use "all" or some of ${CAPABILITIES.join(', ')}.`);
  }
  return [...new Set(names)];
}

/** The deployed backend (contract v2 part A), plus the env's default capabilities. Frozen: copy, do not mutate. */
export const DEFAULT_BACKEND_SETTINGS: Readonly<BackendSettings> = Object.freeze({
  capabilities: Object.freeze(capabilitiesFromEnv()) as string[],
  configEndpoint: true,
  authUrlEndpoint: true,
  validateEndpoint: true,
  validateRejectStatus: 401,
  authFailureStatus: 404,
  refreshFailureStatus: 400,
  refreshOmitsRefreshToken: false,
  profileShape: 'nested',
  apiKeyHeaders: 'both',
  errorShape: 'string',
  chatPaths: 'both',
  chatRequiresRegistration: true,
  chatReplyShape: 'openai',
  getKeyField: 'keyValue',
  missingKeyStatus: 404,
  listKeysPrefixed: true,
  apiKeysPath: 'mesh',
  apiKeyReplyShape: 'object',
  rateLimitPerMinute: 1000,
  streamDelayMs: 2,
  latencyMs: 0,
  auth0Unreachable: false,
  rejectTokensIssuedBefore: 0,
});

export function newCounters(): BackendCounters {
  return {
    exchanges: 0,
    refreshes: 0,
    refreshFailures: 0,
    refreshClientTypes: {},
    validations: 0,
    profiles: 0,
    chats: 0,
    deviceCodes: 0,
    tokenStatusPolls: 0,
    requests: {},
    idempotencyKeys: {},
    refreshReplays: 0,
    nullFields: {},
    chatImages: 0,
    thinkingChats: 0,
    imagesGenerated: 0,
    imagesEdited: 0,
    imageDownloads: 0,
    imageDownloadsWithCredentials: 0,
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

const ROUTES = [...authRoutes, ...apiRoutes, ...imageRoutes, ...zkpRoutes, ...devRoutes].map(compile);

function match(backend: Backend, method: string, path: string) {
  let pathMatched = false;
  for (const route of ROUTES) {
    const found = route.regex.exec(path);
    if (!found || (route.when && !route.when(backend))) continue;
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
  /** Idempotent requests being processed now, by scope (contract part B: at most once per key). */
  const inFlight = new Map<string, Promise<Reply | undefined>>();
  const verified = new Map<string, Principal>();
  const initialSettings: Readonly<BackendSettings> = Object.freeze({ ...DEFAULT_BACKEND_SETTINGS, ...options.settings });

  async function verifyJwt(token: string | undefined): Promise<Principal | undefined> {
    // A Mesh API key is never a bearer token (contract v2 part A).
    if (token === undefined || token.startsWith('mesh_')) return undefined;
    const revoked = (principal: Principal) => (principal.iat ?? 0) < backend.settings.rejectTokensIssuedBefore;
    const cached = verified.get(token);
    if (cached) {
      if (cached.exp !== null && cached.exp * 1000 > Date.now()) return revoked(cached) ? undefined : cached;
      verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: authority.issuer,
        audience: authority.audience,
        algorithms: ['RS256'],
      });
      if (typeof payload.sub !== 'string') return undefined;
      const principal: Principal = {
        sub: payload.sub,
        via: 'jwt',
        exp: payload.exp ?? null,
        iat: payload.iat ?? null,
        scope: String(payload.scope ?? ''),
      };
      // An RSA verification per request would make this server, not the client, the subject of
      // every benchmark: remember verified tokens until they expire (bounded).
      if (verified.size >= 10_000) verified.clear();
      verified.set(token, principal);
      return revoked(principal) ? undefined : principal;
    } catch {
      return undefined;
    }
  }

  const backend: Backend = {
    settings: { ...initialSettings, capabilities: [...initialSettings.capabilities] },
    counters: newCounters(),
    state,
    faults: new FaultQueue(),
    authority,
    has: (capability: Capability) => backend.settings.capabilities.includes(capability),
    verifyJwt,
    async authenticate(req): Promise<Principal | undefined> {
      const bearer = bearerOf(req);
      if (bearer !== undefined) return verifyJwt(bearer);
      const { apiKeyHeaders } = backend.settings;
      const key =
        (apiKeyHeaders === 'x-api-key' ? undefined : apiKeyOfAuthorization(req)) ??
        (apiKeyHeaders === 'authorization' ? undefined : apiKeyOfHeader(req));
      if (key === undefined || !key.startsWith('mesh_')) return undefined;
      const record = state.findApiKey(key);
      if (!record) return undefined;
      record.last_used_at = new Date().toISOString();
      return { sub: record.owner, via: 'api_key', exp: null, iat: null, scope: 'api_key' };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const withId = backend.has('request_id');
    const style = (): ErrorStyle => ({ shape: backend.settings.errorShape, requestId: withId ? requestId : undefined });
    const headers: Record<string, string> = withId ? { 'x-request-id': requestId } : {};
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://backend.invalid');
    const path = url.pathname;
    const found = match(backend, method, path);
    const routeKey = 'route' in found && found.route ? `${method} ${found.route.pattern}` : `${method} (no route)`;
    backend.counters.requests[routeKey] = (backend.counters.requests[routeKey] ?? 0) + 1;
    countIdempotencyKey(backend, req, routeKey);
    const isDev = path.startsWith('/__dev/');

    const fault = isDev
      ? undefined
      : backend.faults.take(method, path, ['status', 'redirect', 'slowHeaders', 'slowBody', 'drop', 'hang']);
    if (fault?.kind === 'hang') return; // answered never; the socket closes with the client or the server
    if (fault?.kind === 'drop' && fault.when === 'before') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slowHeaders') await sleep(fault.ms);
    if (!isDev && backend.settings.latencyMs > 0) await sleep(backend.settings.latencyMs);
    if (fault?.kind === 'status') {
      const retryAfter = fault.retryAfter ?? (fault.status === 429 && backend.has('retry_after') ? '1' : undefined);
      const faultHeaders: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {};
      const reply: Reply = fault.html
        ? { status: fault.status, text: proxyErrorPage(fault.status), headers: faultHeaders }
        : {
            ...errorReply(
              new HttpError(fault.status, fault.status === 429 ? 'Too many requests.' : `Injected ${fault.status}.`),
              style(),
            ),
            headers: faultHeaders,
          };
      await writeReply(res, reply, headers);
      return;
    }
    if (fault?.kind === 'redirect') {
      res.writeHead(fault.status, { ...headers, location: fault.location, 'content-length': '0' }).end();
      return;
    }

    let reply: Reply | undefined;
    const route = 'route' in found ? found.route : undefined;
    try {
      if (!route) {
        const pathMatched = 'pathMatched' in found && found.pathMatched;
        throw pathMatched ? new HttpError(405, 'Method not allowed') : new HttpError(404, 'Not found');
      }
      const body = method === 'GET' || method === 'HEAD' ? undefined : await readJsonBody(req, route.maxBodyBytes);
      if (body !== null && typeof body === 'object' && Object.values(body).includes(null)) {
        backend.counters.nullFields[routeKey] = (backend.counters.nullFields[routeKey] ?? 0) + 1;
      }
      let principal: Principal | undefined;
      if (route.auth) {
        principal = await backend.authenticate(req);
        // The real server hides its routes from strangers: 404 unless configured to say 401.
        if (!principal) throw new HttpError(backend.settings.authFailureStatus, 'Not found');
        if (route.limited) Object.assign(headers, rateLimit(backend, principal));
      }
      const scope = idempotencyScope(backend, { req, route, principal, body });
      // A repeat that arrives while the first is still being processed waits for its answer.
      if (scope !== undefined) await inFlight.get(scope)?.catch(() => {});
      const replay = scope === undefined ? undefined : state.replayFor(scope);
      if (replay) {
        route.onReplay?.(backend);
        reply = replayOf(replay);
      } else {
        const request = { req, res, url, params: found.params ?? {}, body, requestId, principal, headers };
        const handling = route.handler(request, backend);
        if (scope !== undefined) inFlight.set(scope, handling);
        try {
          reply = await handling;
        } finally {
          if (scope !== undefined) inFlight.delete(scope);
        }
        if (reply && scope !== undefined && reply.status < 500) state.remember(scope, reply);
      }
    } catch (error) {
      if (error instanceof HttpError) {
        reply = errorReply(error, style());
      } else {
        process.stderr.write(`reference backend: ${String((error as Error)?.stack ?? error)}\n`);
        reply = errorReply(new HttpError(500, 'Internal error.'), style());
      }
    }
    if (!reply || res.headersSent) return; // a stream answered for itself
    if (fault?.kind === 'drop') {
      res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': '1000', ...headers });
      res.write('{"partial":');
      cutConnection(res);
      return;
    }
    await writeReply(res, reply, headers, fault?.kind === 'slowBody' ? fault.ms : 0);
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
    initialSettings,
    reset() {
      Object.assign(backend.settings, initialSettings, { capabilities: [...initialSettings.capabilities] });
      backend.faults.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
