/**
 * The top-level helpers: one default MeshClient, created on first use (never at import), with
 * all configuration from the environment.
 */
import type { MeshClient as MeshClientType } from './mesh-client.js';
import { MeshClient } from './mesh-client.js';
import type { ChatMessage, ChatOptions, ChatResponse, ChatStreamResult, CreatedApiKey, RequestOptions } from './types.js';

let defaultClient: MeshClientType | undefined;

/** The client behind the top-level helpers. */
export function getDefaultClient(): MeshClientType {
  defaultClient ??= new MeshClient();
  return defaultClient;
}

/** @example const { content } = await chat('What is 5 + 7?'); */
export function chat(input: string | ChatMessage[], options?: ChatOptions): Promise<ChatResponse> {
  return getDefaultClient().chat(input, options);
}

/** @example for await (const delta of chatStream('Tell me a story')) process.stdout.write(delta); */
export function chatStream(input: string | ChatMessage[], options?: ChatOptions): AsyncGenerator<string, ChatStreamResult> {
  return getDefaultClient().chatStream(input, options);
}

/** @example const names = await listKeys(); */
export function listKeys(options?: RequestOptions): Promise<string[]> {
  return getDefaultClient().listKeys(options);
}

/** @example await storeKey('openai_key', process.env.OPENAI_API_KEY!); */
export function storeKey(name: string, value: string, options?: RequestOptions): Promise<void> {
  return getDefaultClient().storeKey(name, value, options);
}

/** @example const value = await getKey('openai_key'); */
export function getKey(name: string, options?: RequestOptions): Promise<string> {
  return getDefaultClient().getKey(name, options);
}

/** @example const { key } = await generateApiKey('render-production'); */
export function generateApiKey(name: string, options?: RequestOptions): Promise<CreatedApiKey> {
  return getDefaultClient().generateApiKey(name, options);
}
