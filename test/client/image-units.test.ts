// The pure parts of images: sniffing, header dimensions, the scaling bounds, the per-provider
// layout, file naming. Everything that crosses a socket is in vision.test.ts and images.test.ts.
import { describe, expect, it } from 'vitest';
import { imageDimensions } from '../../src/client/images/dimensions.js';
import { bodyWithImages, canSeeImages } from '../../src/client/images/layout.js';
import { extensionFor, sniffMediaType } from '../../src/client/images/media-type.js';
import type { PreparedImage } from '../../src/client/images/prepare.js';
import { savePaths } from '../../src/client/images/save.js';
import { fitWithin, MAX_LONG_EDGE, MAX_PIXELS } from '../../src/client/images/scale.js';
import { type ImageKind, imageBytes, MEDIA_TYPES } from '../helpers/images.js';

const KINDS: ImageKind[] = ['png', 'jpeg', 'gif', 'webp'];

describe('sniffing and dimensions', () => {
  it.each(KINDS)('reads a %s by its magic bytes and its size from its header', (kind) => {
    const bytes = imageBytes(kind, 37, 21);
    expect(sniffMediaType(bytes)).toBe(MEDIA_TYPES[kind]);
    expect(imageDimensions(bytes, MEDIA_TYPES[kind] as never)).toEqual({ width: 37, height: 21 });
  });

  it('knows nothing else: text, a truncated header, a RIFF that is not WebP', () => {
    expect(sniffMediaType(Buffer.from('hello, world'))).toBeUndefined();
    expect(sniffMediaType(Buffer.from([0x89, 0x50, 0x4e]))).toBeUndefined();
    expect(sniffMediaType(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeUndefined();
    expect(imageDimensions(imageBytes('png', 4, 4).subarray(0, 20), 'image/png')).toBeUndefined();
  });

  it('names files by type, .png when it cannot tell (as the Python SDK does)', () => {
    expect(['image/jpeg', 'image/gif', 'image/webp', 'image/png', undefined].map(extensionFor)).toEqual([
      '.jpg',
      '.gif',
      '.webp',
      '.png',
      '.png',
    ]);
  });
});

describe('the scaling bounds (1.15 MP, 1568 px)', () => {
  it('leaves an image within both alone', () => {
    expect(fitWithin({ width: 1568, height: 733 })).toBeUndefined();
    expect(fitWithin({ width: 1072, height: 1072 })).toBeUndefined();
  });

  it.each([
    [3000, 2000],
    [1600, 1200],
    [4000, 100],
    [100, 4000],
    [1569, 10],
    [1073, 1073],
  ])('scales %ix%i to fit both, keeping the aspect ratio', (width, height) => {
    const fitted = fitWithin({ width, height });
    expect(fitted).toBeDefined();
    const { width: w, height: h } = fitted as { width: number; height: number };
    expect(w * h).toBeLessThanOrEqual(MAX_PIXELS);
    expect(Math.max(w, h)).toBeLessThanOrEqual(MAX_LONG_EDGE);
    expect(Math.abs(w / h - width / height) / (width / height)).toBeLessThan(0.02 + 1 / Math.min(w, h));
  });

  it('gives 3000x2000 the size the Python SDK gives it', () => {
    // scale = min(1568 / 3000, sqrt(1.15 / 6)) = 0.43779...; int(3000 * s) x int(2000 * s)
    expect(fitWithin({ width: 3000, height: 2000 })).toEqual({ width: 1313, height: 875 });
  });
});

const IMAGE: PreparedImage = { mediaType: 'image/png', base64: 'iVBORw0KGgo=' };
const body = (messages: unknown[], model = 'gpt-4o') => ({ model, provider: 'x', messages });

describe('the layout per provider', () => {
  it('openai: the text part, then image_url parts with detail "high"', () => {
    const laid = bodyWithImages(body([{ role: 'user', content: 'What is this?' }]), { provider: 'openai', modelNamed: true }, [
      IMAGE,
      IMAGE,
    ]);
    expect(laid.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
        ],
      },
    ]);
  });

  it('anthropic: image parts first, then the text part', () => {
    const laid = bodyWithImages(body([{ role: 'user', content: 'What is this?' }]), { provider: 'anthropic', modelNamed: true }, [
      IMAGE,
    ]);
    expect(laid.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'text', text: 'What is this?' },
        ],
      },
    ]);
  });

  it('google: parts (no content), text first; an image-generation model asks for image output', () => {
    const laid = bodyWithImages(
      body([{ role: 'user', content: 'What is this?' }], 'gemini-2.0-flash-exp-image-generation'),
      { provider: 'google', modelNamed: true },
      [IMAGE],
    );
    expect(laid.messages).toEqual([
      { role: 'user', parts: [{ text: 'What is this?' }, { inline_data: { mime_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
    ]);
    expect(laid.generationConfig).toEqual({ responseModalities: ['Text', 'Image'] });
    const plain = bodyWithImages(
      body([{ role: 'user', content: 'x' }], 'gemini-1.5-pro'),
      { provider: 'google', modelNamed: true },
      [IMAGE],
    );
    expect(plain.generationConfig).toBeUndefined();
  });

  it('puts the images on the last user message, copying it: the caller’s messages are untouched', () => {
    const messages = [
      { role: 'user' as const, content: 'first' },
      { role: 'assistant' as const, content: 'ok' },
      { role: 'user' as const, content: 'second' },
      { role: 'assistant' as const, content: 'and?' },
    ];
    const before = structuredClone(messages);
    const laid = bodyWithImages(body(messages), { provider: 'openai', modelNamed: true }, [IMAGE]);
    const out = laid.messages as Array<{ content: unknown }>;
    expect(out[0]).toBe(messages[0]);
    expect(out[2]?.content).toHaveLength(2);
    expect(messages).toEqual(before);
  });

  it('adds a user message when the conversation has none', () => {
    const laid = bodyWithImages(body([{ role: 'system', content: 'be brief' }]), { provider: 'anthropic', modelNamed: true }, [
      IMAGE,
    ]);
    expect((laid.messages as unknown[])[1]).toEqual({
      role: 'user',
      content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
        { type: 'text', text: '' },
      ],
    });
  });

  it('replaces a model that cannot see only when the caller named none', () => {
    expect(canSeeImages('gpt-3.5-turbo')).toBe(false);
    expect(canSeeImages('claude-3-5-haiku-20241022')).toBe(true);
    const chosen = (model: string, provider: string, modelNamed: boolean) =>
      bodyWithImages(body([{ role: 'user', content: 'x' }], model), { provider, modelNamed }, [IMAGE]).model;
    expect(chosen('gpt-3.5-turbo', 'openai', false)).toBe('gpt-4o');
    expect(chosen('claude-2.1', 'anthropic', false)).toBe('claude-3-7-sonnet-20250219');
    expect(chosen('gpt-3.5-turbo', 'openai', true)).toBe('gpt-3.5-turbo');
    expect(chosen('gpt-4o-mini', 'openai', false)).toBe('gpt-4o-mini');
  });
});

describe('saveTo names', () => {
  it('one image: the name as given, or with its type’s extension', () => {
    expect(savePaths('out/cat.png', ['image/png'], false)).toEqual(['out/cat.png']);
    expect(savePaths('out/cat', ['image/jpeg'], false)).toEqual(['out/cat.jpg']);
  });

  it('several: stem_0, stem_1... (numbered from 0, as the Python SDK does)', () => {
    expect(savePaths('out/cat.png', ['image/png', 'image/png'], true)).toEqual(['out/cat_0.png', 'out/cat_1.png']);
    expect(savePaths('out/cat', ['image/webp', undefined], true)).toEqual(['out/cat_0.webp', 'out/cat_1.png']);
  });
});
