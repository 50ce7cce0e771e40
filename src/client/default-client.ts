/**
 * The top-level helpers: one default MeshClient, created on first use (never at import), with
 * all configuration from the environment. They are async so that a configuration error arrives
 * as a rejected promise, like every other failure.
 */

import type { GeneratedImage, GenerateImageOptions } from './images/types.js';
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
export async function chat(input: string | ChatMessage[], options?: ChatOptions): Promise<ChatResponse> {
  return getDefaultClient().chat(input, options);
}

/** @example for await (const delta of chatStream('Tell me a story')) process.stdout.write(delta); */
export async function* chatStream(
  input: string | ChatMessage[],
  options?: ChatOptions,
): AsyncGenerator<string, ChatStreamResult> {
  return yield* getDefaultClient().chatStream(input, options);
}

/** @example const names = await listKeys(); */
export async function listKeys(options?: RequestOptions): Promise<string[]> {
  return getDefaultClient().listKeys(options);
}

/** @example await storeKey('openai_key', process.env.OPENAI_API_KEY!); */
export async function storeKey(name: string, value: string, options?: RequestOptions): Promise<void> {
  return getDefaultClient().storeKey(name, value, options);
}

/** @example const value = await getKey('openai_key'); */
export async function getKey(name: string, options?: RequestOptions): Promise<string> {
  return getDefaultClient().getKey(name, options);
}

/** @example const { key } = await generateApiKey('render-production'); */
export async function generateApiKey(name?: string, options?: RequestOptions): Promise<CreatedApiKey> {
  return getDefaultClient().generateApiKey(name, options);
}

/** @example const [image] = await generateImage('A lighthouse at dawn', { saveTo: './lighthouse.png' }); */
export async function generateImage(prompt: string, options?: GenerateImageOptions): Promise<GeneratedImage[]> {
  return getDefaultClient().generateImage(prompt, options);
}
