/**
 * Streamed chat: SSE `data: {"delta": ...}` events as text deltas, then `{"done": true, usage}`,
 * then `[DONE]`. Leaving the loop early (`break`) or aborting closes the connection; a stream cut
 * before `[DONE]` is a StreamInterruptedError carrying the text that did arrive.
 */
import { AbortError, MeshError, ResponseValidationError, StreamInterruptedError } from '../errors/mesh-error.js';
import type { HttpResponse } from '../http/http-client.js';
import { readSseData } from '../http/sse.js';
import { chatStreamEvent } from './schemas.js';
import type { ChatStreamResult, ChatUsage } from './types.js';

export async function* readChatStream(response: HttpResponse, signal?: AbortSignal): AsyncGenerator<string, ChatStreamResult> {
  const body = response.body;
  if (!body)
    throw new ResponseValidationError('The chat stream has no body.', { status: response.status, requestId: response.requestId });
  let partial = '';
  let usage: ChatUsage | undefined;
  let finished = false;
  const details = { status: response.status, requestId: response.requestId };
  try {
    for await (const data of readSseData(body)) {
      if (data === '[DONE]') {
        finished = true;
        break;
      }
      let event: unknown;
      try {
        event = JSON.parse(data);
      } catch {
        throw new ResponseValidationError('The chat stream sent an event that is not JSON.', details);
      }
      const parsed = chatStreamEvent.safeParse(event);
      if (!parsed.success)
        throw new ResponseValidationError('The chat stream sent an event this SDK does not understand.', details);
      const { delta, usage: reported } = parsed.data as {
        delta?: string;
        usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
      };
      if (delta !== undefined) {
        partial += delta;
        yield delta;
      } else if (reported) {
        const u = reported;
        usage = { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens };
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
