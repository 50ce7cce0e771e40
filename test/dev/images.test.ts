// Contract v2 part A, images: vision chat in the Python client's three layouts (and every way the
// reference backend refuses a malformed one), `thinking`, image generation and editing, and the
// download of a generated image, by raw HTTP with real image files (test/helpers/images.ts).
// Passes in both dialects.
import { beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, registeredTokens } from '../helpers/backend-login.js';
import { dataUrlOf, gifBytes, imageBytes, jpegBytes, MEDIA_TYPES, pngBytes, webpBytes } from '../helpers/images.js';
import { type RawCallOptions, rawCall } from '../helpers/raw-call.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
let token: string;
let userId: string;
beforeAll(async () => {
  ({
    userId,
    tokens: { access_token: token },
  } = await registeredTokens(stack, { login: 'iris@example.test' }));
});

type CallOptions = RawCallOptions;

/** A request as a client makes it by hand; POST and iris's token by default. */
const call = (path: string, options: CallOptions = {}) =>
  rawCall(stack.apiUrl, path, { method: 'POST', credential: token, ...options });

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const errorText = (json: Record<string, unknown>) => {
  const error = json.error as string | { message: string };
  return typeof error === 'string' ? error : error.message;
};
const contentOf = (json: Record<string, unknown>) =>
  (json.choices as Array<{ message: { content: string } }>)[0]?.message.content;
const counters = () => stack.backend.counters;

// The parts as client.py 1.5.6 `MeshClient.chat` builds them, per provider.
const openaiImage = (bytes: Uint8Array, mediaType: string) => ({
  type: 'image_url',
  image_url: { url: dataUrlOf(bytes, mediaType), detail: 'high' },
});
const anthropicImage = (bytes: Uint8Array, mediaType: string) => ({
  type: 'image',
  source: { type: 'base64', media_type: mediaType, data: b64(bytes) },
});
const googleImage = (bytes: Uint8Array, mediaType: string) => ({ inline_data: { mime_type: mediaType, data: b64(bytes) } });
const text = (value: string) => ({ type: 'text', text: value });

const PNG_4 = pngBytes(4, 4);
const JPEG_10 = jpegBytes(10, 10);
const GIF_3x2 = gifBytes(3, 2);
const WEBP_5x7 = webpBytes(5, 7);

const chat = (body: Record<string, unknown>, path = '/v1/mesh/chat') => call(path, { body });
const openaiChat = (content: unknown, extra: Record<string, unknown> = {}) =>
  chat({ model: 'gpt-4o', provider: 'openai', messages: [{ role: 'user', content }], ...extra });
const anthropicChat = (content: unknown) =>
  chat({ model: 'claude-3-7-sonnet-20250219', provider: 'anthropic', messages: [{ role: 'user', content }] });
const googleChat = (parts: unknown, model = 'gemini-1.5-pro', extra: Record<string, unknown> = {}) =>
  chat({ model, provider: 'google', messages: [{ role: 'user', parts }], ...extra });

/** Width and height from a PNG's IHDR, read here rather than with the backend's reader. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  expect(bytes.subarray(-8, -4).toString('latin1')).toBe('IEND');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('vision chat: the three layouts of client.py 1.5.6, described back', () => {
  it.each(['/v1/mesh/chat', '/api/v1/chat/completions'])('openai on %s: text first, then image_url data URLs', async (path) => {
    const before = counters().chatImages;
    const content = [text('What is 6 * 7?'), openaiImage(PNG_4, 'image/png'), openaiImage(JPEG_10, 'image/jpeg')];
    const { status, json } = await chat({ model: 'gpt-4o', provider: 'openai', messages: [{ role: 'user', content }] }, path);
    expect(status).toBe(200);
    expect(contentOf(json)).toBe('I see 2 images (image/png 4x4, image/jpeg 10x10). 6 * 7 = 42');
    expect(counters().chatImages - before).toBe(2);
  });

  it('anthropic: image parts first, then the text', async () => {
    const { status, json } = await anthropicChat([
      anthropicImage(GIF_3x2, 'image/gif'),
      anthropicImage(WEBP_5x7, 'image/webp'),
      text('Describe these'),
    ]);
    expect(status).toBe(200);
    expect(contentOf(json)).toBe('I see 2 images (image/gif 3x2, image/webp 5x7). Echo: Describe these');
  });

  it('google: "parts" instead of "content", the text then inline_data', async () => {
    const { status, json } = await googleChat([{ text: 'What is 2 + 2?' }, googleImage(PNG_4, 'image/png')]);
    expect(status).toBe(200);
    expect(contentOf(json)).toBe('I see 1 image (image/png 4x4). 2 + 2 = 4');
  });

  it('every kind, at every size the helpers make, is read at its size', async () => {
    for (const kind of ['png', 'jpeg', 'gif', 'webp'] as const) {
      const bytes = imageBytes(kind, 33, 17);
      const { json } = await openaiChat([text(''), openaiImage(bytes, MEDIA_TYPES[kind])]);
      expect(contentOf(json)).toBe(`I see 1 image (${MEDIA_TYPES[kind]} 33x17).`);
    }
  });

  it('five images is the most a message carries', async () => {
    const five = Array.from({ length: 5 }, (_, i) => openaiImage(pngBytes(i + 1, 1), 'image/png'));
    const { status, json } = await openaiChat([text('count'), ...five]);
    expect(status).toBe(200);
    expect(contentOf(json)).toMatch(/^I see 5 images \(image\/png 1x1, image\/png 2x1, .*image\/png 5x1\)\. Echo: count$/);
  });

  it("a message list: the images on the last user message are the ones described (Python's list path)", async () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [text('first'), openaiImage(JPEG_10, 'image/jpeg')] },
      { role: 'assistant', content: 'I see 1 image (image/jpeg 10x10). Echo: first' },
      { role: 'user', content: [text('and this one?'), openaiImage(PNG_4, 'image/png')] },
    ];
    const before = counters().chatImages;
    const { json } = await chat({ model: 'gpt-4o', provider: 'openai', messages });
    expect(contentOf(json)).toBe('I see 1 image (image/png 4x4). Echo: and this one?');
    expect(counters().chatImages - before).toBe(2);
  });

  it('openai with no user message in the list: images then an empty text part, as Python appends it', async () => {
    const messages = [
      { role: 'system', content: 'look' },
      { role: 'user', content: [openaiImage(PNG_4, 'image/png'), text('')] },
    ];
    const { status, json } = await chat({ model: 'gpt-4o', provider: 'openai', messages });
    expect(status).toBe(200);
    expect(contentOf(json)).toBe('I see 1 image (image/png 4x4).');
  });

  it('google, message-list path: "parts" added, the old string "content" left as it was', async () => {
    const message = { role: 'user', content: 'what is it?', parts: [{ text: 'what is it?' }, googleImage(PNG_4, 'image/png')] };
    const ok = await chat({ model: 'gemini-1.5-pro', provider: 'google', messages: [message] });
    expect(ok.status).toBe(200);
    expect(contentOf(ok.json)).toBe('I see 1 image (image/png 4x4). Echo: what is it?');
    const other = await chat({ model: 'gemini-1.5-pro', provider: 'google', messages: [{ ...message, content: 'else' }] });
    expect(other.status).toBe(400);
  });

  it('a Gemini 2.0 image-generation model with images needs generationConfig.responseModalities ["Text", "Image"]', async () => {
    const parts = [{ text: 'redraw' }, googleImage(PNG_4, 'image/png')];
    const model = 'gemini-2.0-flash-exp-image-generation';
    const without = await googleChat(parts, model);
    expect(without.status).toBe(400);
    expect(errorText(without.json)).toContain('responseModalities');
    expect((await googleChat(parts, model, { generationConfig: { responseModalities: ['Image'] } })).status).toBe(400);
    expect((await googleChat(parts, model, { generationConfig: 'Text,Image' })).status).toBe(400);
    const withIt = await googleChat(parts, model, { generationConfig: { responseModalities: ['Text', 'Image'] } });
    expect(withIt.status).toBe(200);
    // Python adds it only with images laid out for google: a text chat with that model goes without.
    const textOnly = await chat({ model, provider: 'google', messages: [{ role: 'user', content: 'hi' }] });
    expect(textOnly.status).toBe(200);
    // ... and only for a model that names "2.0" (its Gemini 1.x branch never adds it).
    expect((await googleChat(parts, 'gemini-1.5-image-generation')).status).toBe(200);
  });

  it('streams (no provider): the model tells the layout, else the images do; the description is streamed', async () => {
    const stream = async (model: string, content: unknown) => {
      const response = await call('/v1/mesh/chat', { body: { model, stream: true, messages: [{ role: 'user', content }] } });
      const deltas = response.text
        .split('\n')
        .filter((line) => line.startsWith('data: {'))
        .map(
          (line) => (JSON.parse(line.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content,
        )
        .join('');
      return { status: response.status, deltas, json: response.json };
    };
    const openai = await stream('gpt-4o', [text('hi'), openaiImage(PNG_4, 'image/png')]);
    expect(openai).toMatchObject({ status: 200, deltas: 'I see 1 image (image/png 4x4). Echo: hi' });
    const anthropicByLayout = await stream('mesh-reference-1', [anthropicImage(JPEG_10, 'image/jpeg'), text('hi')]);
    expect(anthropicByLayout).toMatchObject({ status: 200, deltas: 'I see 1 image (image/jpeg 10x10). Echo: hi' });
    const wrong = await stream('gpt-4o', [anthropicImage(JPEG_10, 'image/jpeg'), text('hi')]);
    expect(wrong.status).toBe(400);
    expect(errorText(wrong.json)).toContain('provider is openai');
  });

  it('takes chat bodies over 1 MiB (images); the limit is 32 MiB', async () => {
    const big = gifBytes(1600, 1200); // ~1.1 MB, ~1.4 MB as base64
    const { status, json } = await openaiChat([text('big'), openaiImage(big, 'image/gif')]);
    expect(status).toBe(200);
    expect(contentOf(json)).toBe('I see 1 image (image/gif 1600x1200). Echo: big');
    const tooBig = await call('/v1/mesh/chat', { body: `{"pad":"${'x'.repeat(33 * 1024 * 1024)}"}` });
    expect(tooBig.status).toBe(413);
  });
});

describe('vision chat: what is refused (400, {"error": "<text>"})', () => {
  const png = (mediaType = 'image/png') => openaiImage(PNG_4, mediaType);

  it.each([
    ['openai: an anthropic image part', () => openaiChat([text('x'), anthropicImage(PNG_4, 'image/png')]), 'anthropic layout'],
    ['openai: the image before a non-empty text', () => openaiChat([png(), text('x')]), 'text", "text": ...}, then'],
    ['openai: images with no text part', () => openaiChat([png()]), 'openai images go as'],
    [
      'openai: "parts" (the google layout)',
      () =>
        chat({
          model: 'gpt-4o',
          provider: 'openai',
          messages: [{ role: 'user', parts: [{ text: 'x' }, googleImage(PNG_4, 'image/png')] }],
        }),
      'google layout',
    ],
    [
      'anthropic: the text before the image',
      () => anthropicChat([text('x'), anthropicImage(PNG_4, 'image/png')]),
      'anthropic images go as',
    ],
    ['anthropic: an image_url part', () => anthropicChat([openaiImage(PNG_4, 'image/png'), text('x')]), 'openai layout'],
    [
      'google: image_url parts in "content"',
      () => chat({ model: 'gemini-1.5-pro', provider: 'google', messages: [{ role: 'user', content: [text('x'), png()] }] }),
      'google images go as',
    ],
    [
      'google: the image before the text',
      () => googleChat([googleImage(PNG_4, 'image/png'), { text: 'x' }]),
      'parts[0] must be {"text"',
    ],
    [
      'google: camelCase inlineData',
      () => googleChat([{ text: 'x' }, { inlineData: { mimeType: 'image/png', data: b64(PNG_4) } }]),
      'not "inlineData"',
    ],
    [
      'google: extra fields in a part',
      () => googleChat([{ text: 'x' }, { ...googleImage(PNG_4, 'image/png'), text: 'y' }]),
      'must be {"inline_data"',
    ],
    ['two layouts in one message', () => openaiChat([text('x'), png(), anthropicImage(PNG_4, 'image/png')]), 'two layouts'],
    [
      'an http URL instead of a data: URL',
      () => openaiChat([text('x'), { type: 'image_url', image_url: { url: 'https://example.test/a.png', detail: 'high' } }]),
      'must be a data: URL',
    ],
    [
      'a detail OpenAI does not know',
      () => openaiChat([text('x'), { type: 'image_url', image_url: { url: dataUrlOf(PNG_4, 'image/png'), detail: 'ultra' } }]),
      'detail',
    ],
    ['an unknown part type', () => openaiChat([text('x'), { type: 'audio', data: 'AAAA' }]), 'unknown part type'],
    [
      'images for a provider that takes none',
      () => chat({ model: 'mesh-reference-1', provider: 'mesh', messages: [{ role: 'user', content: [text('x'), png()] }] }),
      'not mesh',
    ],
    ['six images in a message', () => openaiChat([text('x'), ...Array.from({ length: 6 }, () => png())]), 'at most 5'],
  ])('%s', async (_name, send, words) => {
    const { status, json } = await send();
    expect(status).toBe(400);
    expect(errorText(json)).toContain(words);
  });

  const bytesOf = (bytes: Uint8Array) => Buffer.from(bytes);
  const corrupt = (bytes: Uint8Array, at: number) => {
    const copy = Buffer.from(bytes);
    copy[at] = (copy[at] as number) ^ 0xff;
    return copy;
  };

  it.each([
    ['not base64 at all', '!!!!'],
    ['base64 without its padding', b64(PNG_4).replace(/=+$/, '')],
    ['URL-safe base64', b64(pngBytes(7, 5)).replace(/\+/g, '-').replace(/\//g, '_')],
    ['base64 with a line break', `${b64(PNG_4).slice(0, 20)}\n${b64(PNG_4).slice(20)}`],
    ['empty data', ''],
  ])('bad base64 (%s), in each layout', async (_name, data) => {
    expect(data).not.toBe(b64(PNG_4)); // the URL-safe case must differ from the standard one
    const sent = [
      await openaiChat([text('x'), { type: 'image_url', image_url: { url: `data:image/png;base64,${data}`, detail: 'high' } }]),
      await anthropicChat([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }, text('x')]),
      await googleChat([{ text: 'x' }, { inline_data: { mime_type: 'image/png', data } }]),
    ];
    for (const { status, json } of sent) {
      expect(status).toBe(400);
      expect(errorText(json)).toMatch(/base64/);
    }
  });

  it.each([
    ['PNG bytes named image/jpeg', PNG_4, 'image/jpeg', 'declared image/jpeg but the bytes are image/png'],
    ['JPEG bytes named image/webp', JPEG_10, 'image/webp', 'declared image/webp but the bytes are image/jpeg'],
    ['GIF bytes named image/png', GIF_3x2, 'image/png', 'declared image/png but the bytes are image/gif'],
    ['WebP bytes named image/gif', WEBP_5x7, 'image/gif', 'declared image/gif but the bytes are image/webp'],
    ['a BMP', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), 'image/bmp', 'is not image/jpeg, image/png'],
    ['text named image/png', Buffer.from('hello, not an image'), 'image/png', 'magic bytes'],
    ['a truncated PNG', bytesOf(PNG_4).subarray(0, 40), 'image/png', 'truncated or corrupt'],
    ['a PNG with a flipped bit', corrupt(PNG_4, 30), 'image/png', 'CRC'],
    ['a JPEG without its end', bytesOf(JPEG_10).subarray(0, JPEG_10.length - 2), 'image/jpeg', 'truncated or corrupt'],
    ['a GIF without its trailer', bytesOf(GIF_3x2).subarray(0, GIF_3x2.length - 1), 'image/gif', 'truncated or corrupt'],
    ['a WebP cut short', bytesOf(webpBytes(40, 40)).subarray(0, 30), 'image/webp', 'truncated or corrupt'],
    ['a PNG over 8000 px a side', pngBytes(8001, 1), 'image/png', 'over 8000x8000'],
  ])('%s, in each layout', async (_name, bytes, mediaType, words) => {
    const sent = [
      await openaiChat([text('x'), openaiImage(bytes, mediaType)]),
      await anthropicChat([anthropicImage(bytes, mediaType), text('x')]),
      await googleChat([{ text: 'x' }, googleImage(bytes, mediaType)]),
    ];
    for (const { status, json } of sent) {
      expect(status).toBe(400);
      expect(errorText(json)).toContain(words);
    }
  });

  it('a refused chat costs nothing and counts no image', async () => {
    const before = { chats: counters().chats, images: counters().chatImages };
    await openaiChat([text('x'), png('image/gif')]);
    expect({ chats: counters().chats, images: counters().chatImages }).toEqual(before);
  });
});

describe('thinking', () => {
  it('takes "thinking": true (a bare boolean) and counts it; null is unset, as the Python client sends it', async () => {
    const before = counters().thinkingChats;
    const ask = (thinking: unknown) =>
      chat({
        model: 'claude-3-7-sonnet-20250219',
        provider: 'anthropic',
        thinking,
        messages: [{ role: 'user', content: '1 + 1' }],
      });
    const on = await ask(true);
    expect(on.status).toBe(200);
    expect(contentOf(on.json)).toBe('1 + 1 = 2');
    expect((await ask(false)).status).toBe(200);
    expect((await ask(null)).status).toBe(200);
    expect(counters().thinkingChats - before).toBe(1);
  });

  it.each([
    ['a string', 'true'],
    ['an object', { type: 'enabled', budget_tokens: 1024 }],
    ['a number', 1],
  ])('refuses thinking as %s', async (_name, thinking) => {
    const { status, json } = await chat({
      model: 'gpt-4o',
      provider: 'openai',
      thinking,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(status).toBe(400);
    expect(errorText(json)).toContain('thinking must be a boolean');
  });

  it('counts bodies with a null field per route (Python sends them; mesh-sdk must not)', async () => {
    const route = 'POST /v1/mesh/chat';
    const before = counters().nullFields[route] ?? 0;
    const body = { model: 'gpt-4o', provider: 'openai', messages: [{ role: 'user', content: 'x' }] };
    expect((await chat({ ...body, thinking: null, temperature: null })).status).toBe(200);
    expect((await chat({ ...body, thinking: true })).status).toBe(200);
    expect((counters().nullFields[route] ?? 0) - before).toBe(1);
  });

  it('streams take it too', async () => {
    const before = counters().thinkingChats;
    const { status } = await call('/v1/mesh/chat', {
      body: { model: 'gpt-4o', stream: true, thinking: true, messages: [{ role: 'user', content: 'x' }] },
    });
    expect(status).toBe(200);
    expect(counters().thinkingChats - before).toBe(1);
  });
});

interface ImageReply {
  created: number;
  data: Array<{ url?: string; b64_json?: string }>;
}

describe('POST /api/v1/images/generate', () => {
  const generate = (body: Record<string, unknown>, options: CallOptions = {}) =>
    call('/api/v1/images/generate', { body, ...options });

  it('defaults to openai dall-e-3, one image, a url the stack serves without credentials', async () => {
    const before = { ...counters(), requests: { ...counters().requests } };
    const { status, json } = await generate({ prompt: 'a red square' });
    expect(status).toBe(200);
    const reply = json as unknown as ImageReply;
    expect(reply).toEqual({
      created: expect.any(Number),
      data: [{ url: expect.stringMatching(/\/__dev\/images\/[0-9a-f]+\.png$/) }],
    });
    const url = reply.data[0]?.url as string;
    expect(new URL(url).origin).toBe(new URL(stack.apiUrl).origin);
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(pngSize(Buffer.from(await download.arrayBuffer()))).toEqual({ width: 1024, height: 1024 });
    expect(counters().imagesGenerated - before.imagesGenerated).toBe(1);
    expect(counters().imageDownloads - before.imageDownloads).toBe(1);
    expect(counters().imageDownloadsWithCredentials).toBe(before.imageDownloadsWithCredentials);
    const route = 'POST /api/v1/images/generate';
    expect((counters().requests[route] ?? 0) - (before.requests[route] ?? 0)).toBe(1);
  });

  it('b64_json gives n PNGs of the size asked for, the same for the same request', async () => {
    const body = { provider: 'openai', model: 'dall-e-2', prompt: 'stripes', n: 3, size: '16x8', response_format: 'b64_json' };
    const first = (await generate(body)).json as unknown as ImageReply;
    expect(first.data).toHaveLength(3);
    for (const item of first.data) {
      expect(Object.keys(item)).toEqual(['b64_json']);
      expect(pngSize(Buffer.from(item.b64_json as string, 'base64'))).toEqual({ width: 16, height: 8 });
    }
    expect(new Set(first.data.map((i) => i.b64_json)).size).toBe(3); // one colour each
    const again = (await generate(body)).json as unknown as ImageReply;
    expect(again.data).toEqual(first.data);
    const other = (await generate({ ...body, prompt: 'dots' })).json as unknown as ImageReply;
    expect(other.data[0]).not.toEqual(first.data[0]);
  });

  it('google: gemini-2.0-flash-exp-image-generation with generationConfig, as the Python client sends it', async () => {
    const body = { provider: 'google', model: 'gemini-2.0-flash-exp-image-generation', prompt: 'a pig with wings' };
    const ok = await generate({ ...body, generationConfig: { responseModalities: ['Text', 'Image'] } });
    expect(ok.status).toBe(200);
    const without = await generate(body);
    expect(without.status).toBe(400);
    expect(errorText(without.json)).toContain('responseModalities');
    // The default google model is that one, so the rule holds when the body names no model.
    expect((await generate({ provider: 'google', prompt: 'x' })).status).toBe(400);
    // A Gemini model that is not 2.0 gets no generationConfig from Python.
    expect((await generate({ provider: 'google', model: 'gemini-1.5-pro', prompt: 'x' })).status).toBe(200);
  });

  it('takes the optional fields, extra fields (Python passes **kwargs through) and null as unset', async () => {
    const { status, json } = await generate({
      provider: 'openai',
      model: 'dall-e-3',
      prompt: 'a lighthouse',
      size: '1792x1024',
      n: 1,
      quality: 'hd',
      style: 'natural',
      response_format: 'url',
      user: 'someone',
      seed: null,
    });
    expect(status).toBe(200);
    expect((json as unknown as ImageReply).data).toHaveLength(1);
    expect((await generate({ prompt: 'x', model: null, size: null, n: null, quality: null })).status).toBe(200);
  });

  it.each([
    ['no prompt', {}, 'prompt is required'],
    ['an empty prompt', { prompt: '  ' }, 'prompt is required'],
    ['a prompt that is not a string', { prompt: 42 }, 'prompt is required'],
    ['n = 0', { prompt: 'x', n: 0 }, 'n must be an integer from 1 to 10'],
    ['n = 11', { prompt: 'x', n: 11 }, 'n must be an integer from 1 to 10'],
    ['n = 1.5', { prompt: 'x', n: 1.5 }, 'n must be an integer'],
    ['n as a string', { prompt: 'x', n: '2' }, 'n must be an integer'],
    ['a size that is not WxH', { prompt: 'x', size: 'large' }, 'size must be'],
    ['a size over 2048', { prompt: 'x', size: '4096x4096' }, 'size must be'],
    ['a zero size', { prompt: 'x', size: '0x10' }, 'size must be'],
    ['an unknown quality', { prompt: 'x', quality: 'ultra' }, 'quality must be one of'],
    ['an unknown style', { prompt: 'x', style: 'gothic' }, 'style must be one of'],
    ['an unknown response_format', { prompt: 'x', response_format: 'png' }, 'response_format must be one of'],
    ['a provider without images', { prompt: 'x', provider: 'anthropic' }, 'provider must be "openai" or "google"'],
    ["another provider's model", { prompt: 'x', provider: 'openai', model: 'gemini-2.0-flash' }, 'is a google model'],
    ['an empty model', { prompt: 'x', model: '' }, 'model must be a non-empty string'],
    ['generationConfig not an object', { prompt: 'x', generationConfig: ['Text'] }, 'generationConfig must be an object'],
  ])('400 for %s', async (_name, body, words) => {
    const before = counters().imagesGenerated;
    const { status, json } = await generate(body);
    expect(status).toBe(400);
    expect(errorText(json)).toContain(words);
    expect(counters().imagesGenerated).toBe(before);
  });

  it('authenticates as the other API routes: 404 without or with a bad credential; an API key works', async () => {
    expect((await generate({ prompt: 'x' }, { credential: null })).status).toBe(404);
    expect((await generate({ prompt: 'x' }, { credential: 'not-a-token' })).status).toBe(404);
    const created = await call('/v1/mesh/api-keys', { body: { name: 'images' } });
    const key = (created.json.api_key as { api_key: string }).api_key;
    const withKey = await generate(
      { prompt: 'x' },
      { credential: null, headers: { authorization: `ApiKey ${key}`, 'x-api-key': key } },
    );
    expect(withKey.status).toBe(200);
  });

  it('needs no /auth/profile first (Python never calls it before an image)', async () => {
    const fresh = (await loginTokens(stack, { login: 'images-unregistered@example.test' })).access_token;
    expect((await generate({ prompt: 'x' }, { credential: fresh })).status).toBe(200);
  });

  it('costs a credit an image: 402 when there are not enough', async () => {
    const user = stack.backend.state.user(userId);
    const credits = user.credits;
    try {
      user.credits = 2;
      expect((await generate({ prompt: 'x', n: 3 })).status).toBe(402);
      expect((await generate({ prompt: 'x', n: 2 })).status).toBe(200);
      expect(user.credits).toBe(0);
    } finally {
      user.credits = credits;
    }
  });
});

describe('POST /api/v1/images/vision (an edit)', () => {
  const edit = (body: Record<string, unknown>) => call('/api/v1/images/vision', { body });

  it('takes the raw base64 of the file and answers images of its size', async () => {
    const before = counters().imagesEdited;
    const { status, json } = await edit({ provider: 'openai', prompt: 'add a hat', image: b64(JPEG_10), model: 'dall-e-2' });
    expect(status).toBe(200);
    const url = (json as unknown as ImageReply).data[0]?.url as string;
    expect(pngSize(Buffer.from(await (await fetch(url)).arrayBuffer()))).toEqual({ width: 10, height: 10 });
    const b64Reply = await edit({ prompt: 'add a hat', image: b64(WEBP_5x7), response_format: 'b64_json', n: 2 });
    const data = (b64Reply.json as unknown as ImageReply).data;
    expect(data).toHaveLength(2);
    expect(pngSize(Buffer.from(data[1]?.b64_json as string, 'base64'))).toEqual({ width: 5, height: 7 });
    expect(counters().imagesEdited - before).toBe(3);
  });

  it('google, as Python sends it (no generationConfig on an edit); bodies over 1 MiB', async () => {
    const body = { provider: 'google', model: 'gemini-2.0-flash-exp-image-generation', prompt: 'brighter' };
    expect((await edit({ ...body, image: b64(GIF_3x2) })).status).toBe(200);
    const big = await edit({ ...body, image: b64(gifBytes(1600, 1200)), response_format: 'b64_json' });
    expect(big.status).toBe(200);
    const png = Buffer.from((big.json as unknown as ImageReply).data[0]?.b64_json as string, 'base64');
    expect(pngSize(png)).toEqual({ width: 1600, height: 1200 });
  });

  it.each([
    ['a data: prefix on image', { prompt: 'x', image: dataUrlOf(PNG_4, 'image/png') }, 'without a data: URL prefix'],
    ['no image', { prompt: 'x' }, 'image is required'],
    ['bad base64', { prompt: 'x', image: 'not base64!' }, 'not valid base64'],
    ['bytes that are no image', { prompt: 'x', image: b64(Buffer.from('plain text, really')) }, 'magic bytes'],
    ['a truncated PNG', { prompt: 'x', image: b64(Buffer.from(PNG_4).subarray(0, 50)) }, 'truncated or corrupt'],
    ['no prompt', { image: b64(PNG_4) }, 'prompt is required'],
    ['n out of range', { prompt: 'x', image: b64(PNG_4), n: 20 }, 'n must be an integer from 1 to 10'],
    ['an unknown response_format', { prompt: 'x', image: b64(PNG_4), response_format: 'jpeg' }, 'response_format'],
  ])('400 for %s', async (_name, body, words) => {
    const { status, json } = await edit(body);
    expect(status).toBe(400);
    expect(errorText(json)).toContain(words);
  });

  it('404 without a credential', async () => {
    expect((await call('/api/v1/images/vision', { body: { prompt: 'x', image: b64(PNG_4) }, credential: null })).status).toBe(
      404,
    );
  });
});

describe('GET /__dev/images/<id>.png', () => {
  it('404 for an unknown image; counts downloads that carried a credential', async () => {
    expect((await fetch(`${stack.apiUrl}/__dev/images/0123abcd.png`)).status).toBe(404);
    expect((await fetch(`${stack.apiUrl}/__dev/images/../../auth/profile`)).status).toBe(404);
    const { json } = await call('/api/v1/images/generate', { body: { prompt: 'x', size: '2x2' } });
    const url = (json as unknown as ImageReply).data[0]?.url as string;
    const before = counters().imageDownloadsWithCredentials;
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(url, { headers: { 'x-api-key': 'mesh_x' } })).status).toBe(200);
    expect(counters().imageDownloadsWithCredentials - before).toBe(2);
  });
});
