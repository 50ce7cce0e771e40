/**
 * Streamed chat (backend-contract.md part A "Streaming"): `data: <json>` lines carrying OpenAI
 * chunks (`choices[0].delta.content`) up to `data: [DONE]`, read by bytes and lines; any other
 * line, and a data line that is not a chunk, is skipped as the Python SDK skips it. An error
 * object in the stream becomes the error it means. Leaving the loop early (`break`) or aborting
 * closes the connection; a stream cut before `[DONE]` is a StreamInterruptedError carrying the
 * text that did arrive.
 */
import { ErrorCode } from '../errors/codes.js';
import { AbortError, MeshError, ResponseValidationError, StreamInterruptedError } from '../errors/mesh-error.js';
import type { HttpResponse } from '../http/http-client.js';
import { boundedChunks } from '../http/reply-body.js';
import { errorFromResponse } from '../http/response-errors.js';
import { readDataLines } from '../http/sse.js';
import { usageOf } from './chat.js';
import { chatChunkOf } from './replies.js';
import type { ChatStreamResult, ChatUsage } from './types.js';

const WHAT = 'Chat stream';

/** The event, when the data line is JSON. */
function jsonOf(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/**
 * Whether a chunk without text content still shows the answer moving (a role, reasoning, a tool
 * call, a finish reason, usage): an empty `{}` or `{"choices": []}` repeated is a keep-alive.
 */
function carriesSomething(chunk: { choices?: unknown; usage?: unknown }): boolean {
  if (chunk.usage !== undefined) return true;
  const choices = Array.isArray(chunk.choices) ? (chunk.choices as Array<Record<string, unknown>>) : [];
  return choices.some((choice) => {
    if (choice.finish_reason != null) return true;
    const delta = choice.delta as Record<string, unknown> | undefined;
    return delta !== undefined && Object.values(delta).some((value) => value !== null && value !== '' && value !== undefined);
  });
}

export interface StreamBounds {
  signal?: AbortSignal;
  /** Longest wait for a chunk of content, ms (keep-alives and skipped lines do not count). */
  idleMs: number;
  /** The most the whole stream may send, bytes. */
  maxBytes: number;
}

/** Not a MeshError of its own: the marker that the idle timer cut the stream. */
class IdleTimeout extends Error {}

export async function* readChatStream(response: HttpResponse, bounds: StreamBounds): AsyncGenerator<string, ChatStreamResult> {
  const { signal } = bounds;
  const body = response.body;
  if (!body)
    throw new ResponseValidationError('The chat stream has no body.', { status: response.status, requestId: response.requestId });
  let partial = '';
  let usage: ChatUsage | undefined;
  let finished = false;
  const details = { status: response.status, requestId: response.requestId };
  // Restarted by each chunk of content, stopped while the caller holds a delta (its own pace is not the server's).
  const startIdle = () => setTimeout(() => body.destroy(new IdleTimeout()), bounds.idleMs);
  let idle = startIdle();
  try {
    for await (const data of readDataLines(boundedChunks(body, bounds.maxBytes, WHAT))) {
      // Lines already received must not outrun an abort: stop at once, not at the end of the buffer.
      if (signal?.aborted) throw new AbortError('The chat stream was aborted.', details);
      if (data.trim() === '[DONE]') {
        finished = true;
        break;
      }
      const event = jsonOf(data);
      if (event === null || typeof event !== 'object') continue;
      if ((event as { error?: unknown }).error != null) throw errorFromResponse({ ...response, json: event, text: data }, WHAT);
      const chunk = chatChunkOf(event);
      if (!chunk) continue;
      usage = usageOf(chunk.usage) ?? usage;
      const delta = chunk.choices?.[0]?.delta?.content;
      if (typeof delta === 'string' && delta !== '') {
        partial += delta;
        clearTimeout(idle);
        yield delta;
        idle = startIdle();
      } else if (carriesSomething(chunk)) {
        idle.refresh();
      }
    }
  } catch (error) {
    if (signal?.aborted) throw new AbortError('The chat stream was aborted.', { cause: error, ...details });
    if (error instanceof IdleTimeout) {
      throw new StreamInterruptedError(
        `The chat stream sent no content for ${bounds.idleMs / 1000} s (only keep-alives or nothing), after ${partial.length} characters.`,
        {
          ...details,
          code: ErrorCode.STREAM_IDLE_TIMEOUT,
          partialText: partial,
          hint: 'Ask again; for a model that thinks long before answering, raise streamIdleTimeout.',
        },
      );
    }
    if (error instanceof MeshError) throw error;
    throw new StreamInterruptedError(`The chat stream was cut after ${partial.length} characters.`, {
      ...details,
      cause: error,
      partialText: partial,
    });
  } finally {
    clearTimeout(idle);
    if (!finished) body.destroy(); // break, abort or error: close the connection, do not drain it
  }
  if (!finished) {
    if (signal?.aborted) throw new AbortError('The chat stream was aborted.', details);
    throw new StreamInterruptedError(`The chat stream ended after ${partial.length} characters without its end marker.`, {
      ...details,
      partialText: partial,
    });
  }
  return { content: partial, usage };
}
