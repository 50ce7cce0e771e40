/**
 * The reference backend's chat: deterministic, no language model. Simple arithmetic is answered
 * ("What is 5 + 7?" -> "5 + 7 = 12"); anything else is echoed. Images in the last user message are
 * described first ("I see 2 images (image/png 4x4, image/jpeg 10x10).") so that a client's test can
 * tell that the bytes arrived whole, in order, and at the size it meant to send.
 */
import type { ImageFacts } from './image-bytes.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** The text (of the text parts, when the content was an array). */
  content: string;
  /** The images the message carried, in order. */
  images?: ImageFacts[];
}

export interface ChatAnswer {
  content: string;
  model: string;
  provider: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export const DEFAULT_MODEL = 'mesh-reference-1';

const ARITHMETIC = /(-?\d+(?:\.\d+)?)\s*([-+*/x×÷])\s*(-?\d+(?:\.\d+)?)/;

function compute(a: number, operator: string, b: number): number | undefined {
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
    case 'x':
    case '×':
      return a * b;
    case '/':
    case '÷':
      return b === 0 ? undefined : a / b;
    default:
      return undefined;
  }
}

function reply(text: string): string {
  const match = ARITHMETIC.exec(text);
  if (match) {
    const [, a, operator, b] = match as unknown as [string, string, string, string];
    const result = compute(Number(a), operator, Number(b));
    if (result !== undefined) return `${a} ${operator} ${b} = ${Number(result.toFixed(10))}`;
  }
  return `Echo: ${text}`;
}

/** Provider inferred from the model name, as the real server does for its aliases. */
export function providerFor(model: string): string {
  if (/^(gpt|o\d|chatgpt)/i.test(model)) return 'openai';
  if (/^claude/i.test(model)) return 'anthropic';
  if (/^gemini/i.test(model)) return 'google';
  return 'mesh';
}

/** "I see 1 image (image/png 4x4)." / "I see 2 images (image/png 4x4, image/jpeg 10x10)." */
export function describeImages(images: readonly ImageFacts[]): string {
  const list = images.map((i) => `${i.mediaType} ${i.width}x${i.height}`).join(', ');
  return `I see ${images.length} image${images.length === 1 ? '' : 's'} (${list}).`;
}

const countTokens = (text: string) => (text.trim() === '' ? 0 : text.trim().split(/\s+/).length);

export function answer(messages: ChatMessage[], model = DEFAULT_MODEL, provider?: string, maxTokens?: number): ChatAnswer {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const images = lastUser?.images ?? [];
  const text = lastUser?.content ?? '';
  let content =
    images.length === 0 ? reply(text) : [describeImages(images), text.trim() === '' ? '' : reply(text)].join(' ').trimEnd();
  if (maxTokens !== undefined)
    content = content
      .split(/(?<=\s)/)
      .slice(0, maxTokens)
      .join('')
      .trimEnd();
  const prompt = messages.reduce((sum, m) => sum + countTokens(m.content), 0);
  const completion = countTokens(content);
  return {
    content,
    model,
    provider: provider ?? providerFor(model),
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

/** Splits an answer into stream deltas: one word (with its following space) each. */
export function deltas(content: string): string[] {
  return content.match(/\S+\s*/g) ?? [];
}
