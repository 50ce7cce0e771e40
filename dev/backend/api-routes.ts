/** `/api/v1/*` of backend-contract.md: chat (plain and SSE), keys, API keys. */
import { randomBytes } from 'node:crypto';
import { recordSecrets } from '../canaries.js';
import { answer, type ChatMessage, deltas } from './chat-responder.js';
import type { Backend, Principal, Route, RouteRequest } from './context.js';
import { cutConnection, HttpError, type Reply, sleep } from './http.js';

const KEY_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const ROLES = new Set(['system', 'user', 'assistant']);

function invalid(message: string): HttpError {
  return new HttpError(400, 'invalid_request', message);
}

interface ChatRequest {
  messages: ChatMessage[];
  model?: string;
  provider?: string;
  maxTokens?: number;
  stream: boolean;
}

function parseChat(body: unknown): ChatRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  let messages: ChatMessage[];
  if (b.messages === undefined && typeof b.message === 'string') {
    messages = [{ role: 'user', content: b.message }]; // legacy single-message form
  } else if (Array.isArray(b.messages) && b.messages.length > 0) {
    messages = b.messages.map((m, i) => {
      const message = m as Record<string, unknown>;
      if (!ROLES.has(message?.role as string) || typeof message?.content !== 'string') {
        throw invalid(`messages[${i}] must be {"role": "system"|"user"|"assistant", "content": string}.`);
      }
      return { role: message.role as ChatMessage['role'], content: message.content };
    });
  } else {
    throw invalid('messages must be a non-empty array (or send the legacy {"message": "..."}).');
  }
  for (const field of ['model', 'provider'] as const) {
    if (b[field] !== undefined && (typeof b[field] !== 'string' || b[field] === ''))
      throw invalid(`${field} must be a non-empty string.`);
  }
  if (b.temperature !== undefined && (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 2)) {
    throw invalid('temperature must be a number from 0 to 2.');
  }
  if (b.max_tokens !== undefined && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) {
    throw invalid('max_tokens must be a positive integer.');
  }
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw invalid('stream must be a boolean.');
  return {
    messages,
    model: b.model as string | undefined,
    provider: b.provider as string | undefined,
    maxTokens: b.max_tokens as number | undefined,
    stream: b.stream === true,
  };
}

async function streamChat(request: RouteRequest, backend: Backend, result: ReturnType<typeof answer>, id: string) {
  const { res, requestId } = request;
  const cut = backend.faults.take('POST', request.url.pathname, ['cutStream']);
  const afterDeltas = cut?.kind === 'cutStream' ? cut.afterDeltas : Number.POSITIVE_INFINITY;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-request-id': requestId,
    ...rateLimitHeaders(backend, request.principal as Principal),
  });
  const parts = deltas(result.content);
  for (const [index, delta] of parts.entries()) {
    if (index >= afterDeltas) {
      cutConnection(res); // a cut stream: no done event, no [DONE]
      return;
    }
    res.write(`data: ${JSON.stringify({ delta })}\n\n`);
    if (backend.settings.streamDelayMs > 0) await sleep(backend.settings.streamDelayMs);
    if (res.destroyed) return; // the client went away
  }
  res.write(
    `data: ${JSON.stringify({ done: true, id, model: result.model, provider: result.provider, usage: result.usage })}\n\n`,
  );
  res.end('data: [DONE]\n\n');
}

/** X-RateLimit-* for this user's current one-minute window (counting this request). */
export function rateLimitHeaders(backend: Backend, principal: Principal): Record<string, string> {
  const perUser = backend.state.rateWindows;
  const now = Date.now();
  let window = perUser.get(principal.sub);
  if (!window || now - window.start >= 60_000) {
    window = { start: now, used: 0 };
    perUser.set(principal.sub, window);
  }
  window.used += 1;
  const limit = backend.settings.rateLimitPerMinute;
  const headers = {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, limit - window.used)),
    'x-ratelimit-reset': String(Math.ceil((window.start + 60_000) / 1000)),
  };
  if (window.used > limit) {
    const retryAfter = String(Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000)));
    throw new HttpError(429, 'rate_limited', 'Too many requests; slow down.', {}, { ...headers, 'retry-after': retryAfter });
  }
  return headers;
}

const ok: Reply = { status: 200, body: { success: true } };
const sub = (r: RouteRequest) => (r.principal as Principal).sub;

export const apiRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/api/v1/chat',
    auth: true,
    handler: async (request, backend) => {
      const chat = parseChat(request.body);
      const user = backend.state.user(sub(request));
      if (user.credits <= 0) throw new HttpError(402, 'insufficient_credits', 'No credits left on this account.');
      user.credits -= 1;
      const result = answer(chat.messages, chat.model, chat.provider, chat.maxTokens);
      const id = `chat_${randomBytes(8).toString('hex')}`;
      if (chat.stream) {
        await streamChat(request, backend, result, id);
        return undefined;
      }
      return { status: 200, body: { id, ...result } };
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/keys',
    auth: true,
    handler: async (request, backend) => ({ status: 200, body: { keys: [...backend.state.user(sub(request)).keys.keys()] } }),
  },
  {
    method: 'POST',
    pattern: '/api/v1/keys',
    auth: true,
    handler: async (request, backend) => {
      const b = (request.body ?? {}) as Record<string, unknown>;
      if (typeof b.key_name !== 'string' || !KEY_NAME.test(b.key_name)) {
        throw invalid('key_name must be 1-128 characters of A-Z, a-z, 0-9, _, . or -.');
      }
      if (typeof b.key_value !== 'string' || b.key_value === '') throw invalid('key_value must be a non-empty string.');
      backend.state.user(sub(request)).keys.set(b.key_name, b.key_value);
      recordSecrets(b.key_value);
      return ok;
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/keys/:name',
    auth: true,
    handler: async (request, backend) => {
      const name = request.params.name as string;
      const value = backend.state.user(sub(request)).keys.get(name);
      if (value === undefined) throw new HttpError(404, 'not_found', `No key named "${name}".`);
      return { status: 200, body: { key_name: name, key_value: value } };
    },
  },
  {
    method: 'DELETE',
    pattern: '/api/v1/keys/:name',
    auth: true,
    handler: async (request, backend) => {
      const name = request.params.name as string;
      if (!backend.state.user(sub(request)).keys.delete(name)) throw new HttpError(404, 'not_found', `No key named "${name}".`);
      return ok;
    },
  },
  {
    method: 'POST',
    pattern: '/api/v1/api-keys',
    auth: true,
    handler: async (request, backend) => {
      const name = (request.body as Record<string, unknown> | null)?.name;
      if (typeof name !== 'string' || name.trim() === '' || name.length > 128) {
        throw invalid('name must be a non-empty string of at most 128 characters.');
      }
      const { record, key } = backend.state.createApiKey(sub(request), name);
      recordSecrets(key);
      return { status: 201, body: { id: record.id, name: record.name, key, created_at: record.created_at } };
    },
  },
  {
    method: 'GET',
    pattern: '/api/v1/api-keys',
    auth: true,
    handler: async (request, backend) => ({
      status: 200,
      body: {
        api_keys: backend.state
          .apiKeysOf(sub(request))
          .map(({ id, name, created_at, last_used_at }) => ({ id, name, created_at, last_used_at })),
      },
    }),
  },
  {
    method: 'DELETE',
    pattern: '/api/v1/api-keys/:id',
    auth: true,
    handler: async (request, backend) => {
      if (!backend.state.revokeApiKey(sub(request), request.params.id as string)) {
        throw new HttpError(404, 'not_found', 'No such API key.');
      }
      return ok;
    },
  },
];
