// Pure pieces of the v2 dialect: the chat body, the three reply shapes, and the path memory. No I/O.
// (The error translator over every error body shape: test/http/response-errors.test.ts.)
import { describe, expect, it } from 'vitest';
import { type ChatDefaults, chatBody, chatResponseOf, inferProvider } from '../../src/client/chat.js';
import { chatReply } from '../../src/client/replies.js';
import { ErrorCode } from '../../src/errors/codes.js';
import type { HttpResponse } from '../../src/http/http-client.js';
import { readReply } from '../../src/http/reply-body.js';

const defaults: ChatDefaults = {
  defaultModel: 'gpt-4o',
  defaultProvider: 'openai',
  modelFor: (provider) => (provider === 'anthropic' ? 'claude-3-7-sonnet-20250219' : 'gpt-4o'),
};

function reply(status: number, json: unknown, extra: Partial<HttpResponse> = {}): HttpResponse {
  const text = json === undefined ? '' : JSON.stringify(json);
  return { status, headers: {}, requestId: undefined, json, text, rateLimit: undefined, attempts: 1, ...extra };
}

describe('chat body', () => {
  it('always names model and provider (defaults gpt-4o/openai) and sends no null field', () => {
    const body = chatBody('hi', {}, defaults, false);
    expect(body).toEqual({ model: 'gpt-4o', provider: 'openai', messages: [{ role: 'user', content: 'hi' }] });
    expect(JSON.stringify(body)).not.toContain('null');
  });

  it.each([
    ['claude-3-5-haiku-20241022', 'anthropic'],
    ['gpt-4o-mini', 'openai'],
    ['o1-preview', 'openai'],
    ['o3-mini', 'openai'],
    ['gemini-1.5-pro', 'google'],
    ['llama-3-70b', 'openai'], // unknown: the default provider
  ])('infers the provider of %s as %s', (model, provider) => {
    expect(chatBody('hi', { model }, defaults, false)).toMatchObject({ model, provider });
  });

  it('names the provider default model when only the provider is given; keeps an explicit pair', () => {
    expect(chatBody('hi', { provider: 'anthropic' }, defaults, false)).toMatchObject({
      model: 'claude-3-7-sonnet-20250219',
      provider: 'anthropic',
    });
    expect(chatBody('hi', { model: 'my-model', provider: 'custom' }, defaults, false)).toMatchObject({
      model: 'my-model',
      provider: 'custom',
    });
    expect(inferProvider('Claude-Opus')).toBe('anthropic');
  });

  it('sends temperature and max_tokens only when set; array content as given', () => {
    const parts = [
      { type: 'text', text: 'what is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
    ];
    const body = chatBody([{ role: 'user', content: parts }], { temperature: 0, maxTokens: 5 }, defaults, false);
    expect(body).toEqual({
      model: 'gpt-4o',
      provider: 'openai',
      messages: [{ role: 'user', content: parts }],
      temperature: 0,
      max_tokens: 5,
    });
  });

  it('a stream body: the same plus stream true, without provider', () => {
    expect(chatBody('hi', { model: 'claude-3-opus' }, defaults, true)).toEqual({
      model: 'claude-3-opus',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
  });
});

/** A chat reply as the pipeline reads it (the operation's check), then as chat() gives it. */
async function readChat(response: HttpResponse, sent: Record<string, unknown>) {
  return chatResponseOf(await readReply(chatReply, response, 'Chat'), response, sent);
}

describe('chat reply shapes', () => {
  const sent = { model: 'gpt-4o-mini', provider: 'openai' };

  it('reads OpenAI choices[0].message.content with id, model and usage', async () => {
    const r = await readChat(
      reply(200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: 'gpt-4o',
        choices: [{ index: 0, message: { role: 'assistant', content: '12' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      }),
      sent,
    );
    // The reply names the model that answered; it names no provider: the one asked for.
    expect(r).toMatchObject({ id: 'chatcmpl-1', content: '12', model: 'gpt-4o', provider: 'openai' });
    expect(r.usage).toEqual({ promptTokens: 3, completionTokens: 1, totalTokens: 4 });
  });

  it('reads {content} and {message: {content}}, inventing no id or usage the server did not send', async () => {
    expect(await readChat(reply(200, { content: 'a', provider: 'anthropic' }), sent)).toMatchObject({
      content: 'a',
      provider: 'anthropic',
      id: undefined,
      model: 'gpt-4o-mini',
      usage: undefined,
    });
    expect(await readChat(reply(200, { message: { role: 'assistant', content: 'b' } }), sent)).toMatchObject({
      content: 'b',
      model: 'gpt-4o-mini',
      provider: 'openai',
      id: undefined,
      usage: undefined,
    });
  });

  it('joins text parts when content comes as an array; a shape it cannot read is ResponseValidationError', async () => {
    expect(
      (
        await readChat(
          reply(200, {
            content: [
              { type: 'text', text: 'x' },
              { type: 'text', text: 'y' },
            ],
          }),
          sent,
        )
      ).content,
    ).toBe('xy');
    await expect(readChat(reply(200, { answer: 'nope' }), sent)).rejects.toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_RESPONSE }),
    );
  });
});
