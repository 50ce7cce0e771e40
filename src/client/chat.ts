/**
 * Chat as the deployed backend takes it (backend-contract.md part A "Chat"): the request body
 * (always `model` and `provider`, never a `null` field), the reply in any of its three shapes,
 * and the two paths a deployment may serve it on.
 */
import type { HttpResponse } from '../http/http-client.js';
import type { ApiCaller } from './api-caller.js';
import { CHAT } from './operations.js';
import type { ChatReplyData } from './replies.js';
import type { ChatMessage, ChatOptions, ChatResponse, ChatUsage } from './types.js';

/** What a chat names when the caller does not say: the client's configuration. */
export interface ChatDefaults {
  /** The model when the caller names neither model nor provider. */
  defaultModel: string;
  /** The provider when the caller names none and the model does not tell. */
  defaultProvider: string;
  /** The model for a provider named without a model. */
  modelFor(provider: string): string;
}

/** The provider a model name belongs to, as the Python SDK infers it (models.py 1.5.5); undefined when unknown. */
export function inferProvider(model: string): string | undefined {
  const name = model.trim().toLowerCase();
  if (name.startsWith('claude')) return 'anthropic';
  if (/^(gpt|chatgpt|o\d|text-|davinci)/.test(name)) return 'openai';
  if (name.startsWith('gemini')) return 'google';
  return undefined;
}

function toMessages(input: string | ChatMessage[]): ChatMessage[] {
  return typeof input === 'string' ? [{ role: 'user', content: input }] : input;
}

/**
 * The chat request body. A stream sends the same body plus `stream: true` and no `provider`
 * (client.py 1.5.6). Unset options are left out, never sent as `null`.
 */
export function chatBody(
  input: string | ChatMessage[],
  options: ChatOptions,
  defaults: ChatDefaults,
  stream: boolean,
): Record<string, unknown> {
  const { model, provider } = chatTarget(options, defaults);
  const body: Record<string, unknown> = stream ? { model } : { model, provider };
  body.messages = toMessages(input);
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
  // A bare `true` when asked, nothing otherwise (never `false` or `null`): backend-contract.md part A.
  if (options.thinking === true) body.thinking = true;
  if (stream) body.stream = true;
  return body;
}

/** The model and provider a chat names (a stream's body leaves the provider out, but its images are laid out for it). */
export function chatTarget(options: ChatOptions, defaults: ChatDefaults): { model: string; provider: string } {
  const model =
    options.model ?? (options.provider === undefined ? defaults.defaultModel : defaults.modelFor(options.provider.toLowerCase()));
  return { model, provider: options.provider ?? inferProvider(model) ?? defaults.defaultProvider };
}

export function usageOf(
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens?: number } | null | undefined,
): ChatUsage | undefined {
  if (!usage) return undefined;
  const { prompt_tokens: promptTokens, completion_tokens: completionTokens } = usage;
  return { promptTokens, completionTokens, totalTokens: usage.total_tokens ?? promptTokens + completionTokens };
}

/**
 * A whole chat: the body (unless the images made it already: `prepared`), sent on the chat paths
 * (registering once more on a first 404), and the reply read.
 */
export async function sendChat(
  api: ApiCaller,
  input: string | ChatMessage[],
  options: ChatOptions,
  defaults: ChatDefaults,
  prepared?: Record<string, unknown>,
): Promise<ChatResponse> {
  const body = prepared ?? chatBody(input, options, defaults, false);
  const { signal, timeout, maxRetries, temperature, maxTokens } = options;
  const trace = { model: body.model as string, provider: body.provider as string, temperature, maxTokens };
  const { data, response } = await api.perform(CHAT, { body, signal, timeout, maxRetries, trace });
  return chatResponseOf(data, response, body);
}

/**
 * A chat reply (in any of the three shapes, as read). `id` and usage the backend did not send stay undefined;
 * model and provider fall back to what the request named (`body`), which is what answered.
 */
export function chatResponseOf(data: ChatReplyData, response: HttpResponse, body: Record<string, unknown>): ChatResponse {
  return {
    id: data.id,
    content: data.text,
    model: data.model ?? (body.model as string),
    provider: data.provider ?? (body.provider as string),
    usage: usageOf(data.usage),
    requestId: response.requestId,
    rateLimit: response.rateLimit,
  };
}
