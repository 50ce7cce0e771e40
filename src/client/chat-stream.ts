/**
 * Streamed chat (backend-contract.md part A "Streaming"): `data: <json>` lines carrying OpenAI
 * chunks (`choices[0].delta.content`) up to `data: [DONE]`, read by bytes and lines; any other
 * line, and a data line that is not a chunk, is skipped as the Python SDK skips it. An error
 * object in the stream becomes the error it means. Leaving the loop early (`break`) or aborting
 * closes the connection; a stream cut before `[DONE]` is a StreamInterruptedError carrying the
 * text that did arrive.
 */
import { AbortError, MeshError, ResponseValidationError, StreamInterruptedError } from '../errors/mesh-error.js';
import type { HttpResponse } from '../http/http-client.js';
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

export async function* readChatStream(response: HttpResponse, signal?: AbortSignal): AsyncGenerator<string, ChatStreamResult> {
  const body = response.body;
  if (!body)
    throw new ResponseValidationError('The chat stream has no body.', { status: response.status, requestId: response.requestId });
  let partial = '';
  let usage: ChatUsage | undefined;
  let finished = false;
  const details = { status: response.status, requestId: response.requestId };
  try {
    for await (const data of readDataLines(body)) {
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
        yield delta;
      }
    }
  } catch (error) {
    if (signal?.aborted) throw new AbortError('The chat stream was aborted.', { cause: error, ...details });
    if (error instanceof MeshError) throw error;
    throw new StreamInterruptedError(`The chat stream was cut after ${partial.length} characters.`, {
      ...details,
      cause: error,
      partialText: partial,
    });
  } finally {
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
