/** The API of backend-contract.md v2 part A: chat (plain and SSE), stored keys, API keys. */
import { randomBytes } from 'node:crypto';
import { recordSecrets } from '../canaries.js';
import { answer, type ChatMessage, deltas, providerFor } from './chat-responder.js';
import type { Backend, Principal, Route, RouteRequest } from './context.js';
import { cutConnection, fields, HttpError, IMAGE_BODY_BYTES, type Reply, requireString, sleep } from './http.js';
import { checkGenerationConfig, checkLayouts, imageProvider, type Layout, visionMessage } from './vision.js';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
export const CHAT_PATHS = { mesh: '/v1/mesh/chat', completions: '/api/v1/chat/completions' } as const;

export function invalid(message: string): HttpError {
  return new HttpError(400, message);
}

interface ChatRequest {
  messages: ChatMessage[];
  model: string;
  provider?: string;
  maxTokens?: number;
  stream: boolean;
  /** `"thinking": true` (a bare boolean; the Python client sends it only through `mesh.chat(thinking=...)`). */
  thinking: boolean;
}

/** `null` means unset, as the Python client sends `temperature: null` and the like. */
const given = (value: unknown) => value !== undefined && value !== null;

function parseChat(body: unknown): ChatRequest {
  const b = fields(body);
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw invalid('messages must be a non-empty array.');
  if (given(b.stream) && typeof b.stream !== 'boolean') throw invalid('stream must be a boolean.');
  const stream = b.stream === true;
  if (typeof b.model !== 'string' || b.model === '') throw invalid('model is required.');
  // A stream request carries no provider (the Python client's stream body has none).
  if (!stream && (typeof b.provider !== 'string' || b.provider === '')) throw invalid('provider is required.');
  if (given(b.provider) && typeof b.provider !== 'string') throw invalid('provider must be a string.');
  const read = b.messages.map((m, i) => {
    const message = fields(m);
    if (!ROLES.has(message.role as string)) throw invalid(`messages[${i}].role must be system, user, assistant or tool.`);
    return { role: message.role as ChatMessage['role'], ...visionMessage(message, i) };
  });
  const provider = typeof b.provider === 'string' ? b.provider : undefined;
  const layouts = read.flatMap((m) => (m.layout === undefined ? [] : [m.layout])) as Layout[];
  const imagesFor = imageProvider(provider, providerFor(b.model), layouts);
  checkLayouts(read, imagesFor);
  checkGenerationConfig(b, b.model, layouts.includes('google'));
  if (given(b.temperature) && (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 2)) {
    throw invalid('temperature must be a number from 0 to 2.');
  }
  if (given(b.max_tokens) && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) {
    throw invalid('max_tokens must be a positive integer.');
  }
  if (given(b.thinking) && typeof b.thinking !== 'boolean') throw invalid('thinking must be a boolean.');
  return {
    messages: read.map(({ role, text, images }) => ({ role, content: text, images })),
    model: b.model,
    provider,
    maxTokens: given(b.max_tokens) ? (b.max_tokens as number) : undefined,
    stream,
    thinking: b.thinking === true,
  };
}

/** `text/event-stream` of OpenAI chunks, a last chunk with `finish_reason` and usage, then `[DONE]`. */
async function streamChat(request: RouteRequest, backend: Backend, result: ReturnType<typeof answer>, id: string) {
  const { res } = request;
  const cut = backend.faults.take('POST', request.url.pathname, ['cutStream']);
  const afterDeltas = cut?.kind === 'cutStream' ? cut.afterDeltas : Number.POSITIVE_INFINITY;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    ...request.headers,
  });
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: result.model, choices: [{ index: 0, ...choice }], ...extra })}\n\n`;
  for (const [index, content] of deltas(result.content).entries()) {
    if (index >= afterDeltas) {
      cutConnection(res); // a cut stream: no last chunk, no [DONE]
      return;
    }
    res.write(chunk({ delta: index === 0 ? { role: 'assistant', content } : { content }, finish_reason: null }));
    if (backend.settings.streamDelayMs > 0) await sleep(backend.settings.streamDelayMs);
    if (res.destroyed) return; // the client went away
  }
  res.write(chunk({ delta: {}, finish_reason: 'stop' }, { usage: result.usage }));
  res.end('data: [DONE]\n\n');
}

function chatReply(backend: Backend, result: ReturnType<typeof answer>, id: string): Reply {
  switch (backend.settings.chatReplyShape) {
    case 'content':
      return {
        status: 200,
        body: { id, content: result.content, model: result.model, provider: result.provider, usage: result.usage },
      };
    case 'message':
      return { status: 200, body: { message: { role: 'assistant', content: result.content } } };
    default:
      return {
        status: 200,
        body: {
          id,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: result.model,
          choices: [{ index: 0, message: { role: 'assistant', content: result.content }, finish_reason: 'stop' }],
          usage: result.usage,
        },
      };
  }
}

function chatRoute(path: string, which: 'mesh' | 'completions'): Route {
  return {
    method: 'POST',
    pattern: path,
    auth: true,
    limited: true,
    maxBodyBytes: IMAGE_BODY_BYTES,
    when: (backend) => backend.settings.chatPaths === 'both' || backend.settings.chatPaths === which,
    handler: async (request, backend) => {
      const user = backend.state.user(sub(request));
      // An unregistered user is as unknown as a bad credential: the same 404 (README 1.5.5).
      if (backend.settings.chatRequiresRegistration && !user.registered) throw notFound();
      const chat = parseChat(request.body);
      // The deployed server streams on /v1/mesh/chat; a server that serves only the documented path
      // (chatPaths 'completions') streams there, as an OpenAI-style route does.
      if (chat.stream && which !== 'mesh' && backend.settings.chatPaths !== 'completions') {
        throw invalid(`Streaming is served on ${CHAT_PATHS.mesh} only.`);
      }
      if (user.credits <= 0) throw new HttpError(402, 'Insufficient credits.');
      user.credits -= 1;
      backend.counters.chats += 1;
      backend.counters.chatImages += chat.messages.reduce((sum, m) => sum + (m.images?.length ?? 0), 0);
      if (chat.thinking) backend.counters.thinkingChats += 1;
      const result = answer(chat.messages, chat.model, chat.provider, chat.maxTokens);
      const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
      if (chat.stream) {
        await streamChat(request, backend, result, id);
        return undefined;
      }
      return chatReply(backend, result, id);
    },
  };
}

const sub = (r: RouteRequest) => (r.principal as Principal).sub;
const notFound = () => new HttpError(404, 'Not found');

/** The `userId` a key route names must be the caller's own profile id; returns it. */
export function ownUserId(request: RouteRequest, userId: string): string {
  if (userId !== sub(request)) throw new HttpError(403, 'userId does not match the authenticated user.');
  return userId;
}

/** A missing key (or ZKP commitment): 404, or 200 `{success: false}` per `missingKeyStatus` (ambiguity 5). */
export function missingKey(backend: Backend) {
  if (backend.settings.missingKeyStatus === 200) return { status: 200, body: { success: false, error: 'Key not found' } };
  throw new HttpError(404, 'Key not found');
}

function apiKeyRoute(path: string, which: 'mesh' | 'api'): Route {
  return {
    method: 'POST',
    pattern: path,
    auth: true,
    limited: true,
    when: (backend) => backend.settings.apiKeysPath === 'both' || backend.settings.apiKeysPath === which,
    handler: async (request, backend) => {
      const raw = fields(request.body).name;
      if (given(raw) && (typeof raw !== 'string' || raw.trim() === '' || raw.length > 128)) {
        throw invalid('name must be a non-empty string of at most 128 characters.');
      }
      const name = typeof raw === 'string' ? raw : `SDK Generated Key (${new Date().toISOString().slice(0, 10)})`;
      const { record, key } = backend.state.createApiKey(sub(request), name);
      recordSecrets(key);
      const apiKey =
        backend.settings.apiKeyReplyShape === 'string'
          ? key
          : { api_key: key, key_id: record.id, name: record.name, created_at: record.created_at };
      return { status: 200, body: { success: true, api_key: apiKey } };
    },
  };
}

export const apiRoutes: Route[] = [
  chatRoute(CHAT_PATHS.mesh, 'mesh'),
  chatRoute(CHAT_PATHS.completions, 'completions'),
  {
    method: 'POST',
    pattern: '/api/v1/storeKey',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const userId = requireString(request.body, 'userId');
      const keyName = requireString(request.body, 'keyName');
      const keyValue = requireString(request.body, 'keyValue');
      ownUserId(request, userId);
      backend.state.user(userId).keys.set(keyName, keyValue);
      recordSecrets(keyValue);
      return { status: 200, body: { success: true, message: 'Key stored.' } };
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/getKey',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const userId = request.url.searchParams.get('userId') ?? '';
      const keyName = request.url.searchParams.get('keyName') ?? '';
      if (userId === '' || keyName === '') throw invalid('userId and keyName are required.');
      ownUserId(request, userId);
      const value = backend.state.user(userId).keys.get(keyName);
      if (value === undefined) return missingKey(backend);
      return { status: 200, body: { success: true, [backend.settings.getKeyField]: value } };
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/listKeys',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const userId = request.url.searchParams.get('userId') ?? '';
      if (userId === '') throw invalid('userId is required.');
      ownUserId(request, userId);
      const prefix = `${userId}_`;
      const names = [...backend.state.user(userId).keys.keys()];
      const keys = backend.settings.listKeysPrefixed
        ? names
        : names.map((name) => (name.startsWith(prefix) ? name.slice(prefix.length) : name));
      return { status: 200, body: { keys } };
    },
  },
  apiKeyRoute('/v1/mesh/api-keys', 'mesh'),
  apiKeyRoute('/api/v1/api-keys', 'api'),
];

/**
 * Counts a request against the caller's one-minute window; over `rateLimitPerMinute` it is a 429.
 * Returns the X-RateLimit-* headers (sent only with `rate_limit_headers`); Retry-After goes on the
 * 429 only with `retry_after`.
 */
export function rateLimit(backend: Backend, principal: Principal): Record<string, string> {
  const perUser = backend.state.rateWindows;
  const now = Date.now();
  let window = perUser.get(principal.sub);
  if (!window || now - window.start >= 60_000) {
    window = { start: now, used: 0 };
    perUser.set(principal.sub, window);
  }
  window.used += 1;
  const limit = backend.settings.rateLimitPerMinute;
  const headers: Record<string, string> = backend.has('rate_limit_headers')
    ? {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(Math.max(0, limit - window.used)),
        'x-ratelimit-reset': String(Math.ceil((window.start + 60_000) / 1000)),
      }
    : {};
  if (window.used > limit) {
    const retry: Record<string, string> = backend.has('retry_after')
      ? { 'retry-after': String(Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000))) }
      : {};
    throw new HttpError(429, 'Too many requests; slow down.', undefined, { ...headers, ...retry });
  }
  return headers;
}
