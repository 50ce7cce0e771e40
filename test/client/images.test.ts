// Image generation and editing against the reference backend (dev/backend/images.ts): the request
// bodies it validates strictly, both reply formats, saveTo (a URL reply downloaded without any
// Mesh credential), an edit, and a generation that is never retried after it may have been done.
import { lstat, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageDimensions } from '../../src/client/images/dimensions.js';
import { ErrorCode } from '../../src/errors/codes.js';
import { ConfigError, ImageInputError, ServerError } from '../../src/errors/mesh-error.js';
import { clientWithTokens } from '../helpers/client.js';
import { jpegBytes, pngBytes } from '../helpers/images.js';
import { useStack } from '../helpers/stack.js';

const stack = useStack({}, { resetAfterEach: true });
type Counter = 'imagesGenerated' | 'imagesEdited' | 'imageDownloads' | 'imageDownloadsWithCredentials';
/** The backend's counters are not reset between tests: each test reads what it changed. */
function counted(name: Counter): () => number {
  const before = stack.backend.counters[name];
  return () => stack.backend.counters[name] - before;
}
const GENERATE = 'POST /api/v1/images/generate';
const requests = (route: string) => stack.backend.counters.requests[route] ?? 0;

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mesh-images-'));
});
afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

const sizeOf = (bytes: Uint8Array) => imageDimensions(bytes, 'image/png');

describe('generateImage', () => {
  it('answers URLs by default (openai, dall-e-3)', async () => {
    const { client } = await clientWithTokens(stack);
    const generated = counted('imagesGenerated');
    const images = await client.generateImage('A red square');
    expect(images).toEqual([{ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/__dev\/images\/[0-9a-f]+\.png$/) }]);
    expect(generated()).toBe(1);
  });

  it('answers the bytes with responseFormat b64_json, typed from them', async () => {
    const { client } = await clientWithTokens(stack);
    const images = await client.generateImage('A blue square', {
      responseFormat: 'b64_json',
      size: '64x32',
      n: 2,
      quality: 'hd',
      style: 'vivid',
    });
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(image).toEqual({ b64Json: expect.any(String), mediaType: 'image/png' });
      expect(sizeOf(Buffer.from(image.b64Json as string, 'base64'))).toEqual({ width: 64, height: 32 });
    }
  });

  it('names google’s image model and asks for image output (the backend refuses a gemini-2.0 request without it)', async () => {
    const { client } = await clientWithTokens(stack);
    const images = await client.generateImage('A green square', { provider: 'google', responseFormat: 'b64_json', size: '8x8' });
    expect(images[0]?.mediaType).toBe('image/png');
  });

  it('refuses a provider with no image model when no model is named, sending nothing', async () => {
    const { client } = await clientWithTokens(stack);
    const before = requests(GENERATE);
    await expect(client.generateImage('x', { provider: 'anthropic' })).rejects.toBeInstanceOf(ConfigError);
    expect(requests(GENERATE)).toBe(before);
  });

  it('without idempotency_key, is not retried after it may have been processed: a 500 is the caller’s to judge', async () => {
    // With the extension the POST carries an Idempotency-Key and a retry is safe (the backend replays).
    stack.backend.settings.capabilities = [];
    const { client } = await clientWithTokens(stack);
    stack.backend.faults.add({ fault: { kind: 'status', status: 500 }, match: { path: '/api/v1/images/generate' } });
    const before = requests(GENERATE);
    await expect(client.generateImage('x')).rejects.toBeInstanceOf(ServerError);
    expect(requests(GENERATE) - before).toBe(1);
  });
});

describe('saveTo', () => {
  it('downloads a URL reply without any Mesh credential and writes it', async () => {
    const { client } = await clientWithTokens(stack);
    const [downloads, withCredentials] = [counted('imageDownloads'), counted('imageDownloadsWithCredentials')];
    const target = join(folder, 'square.png');
    const [image] = await client.generateImage('A red square', { size: '20x10', saveTo: target });
    expect(image).toEqual({ url: expect.any(String), mediaType: 'image/png', path: target });
    expect(sizeOf(await readFile(target))).toEqual({ width: 20, height: 10 });
    expect(downloads()).toBe(1);
    expect(withCredentials()).toBe(0);
  });

  it('writes several as stem_0, stem_1..., with the type’s extension when the name has none', async () => {
    const { client } = await clientWithTokens(stack);
    const images = await client.generateImage('Two', {
      n: 2,
      size: '4x4',
      responseFormat: 'b64_json',
      saveTo: join(folder, 'pair'),
    });
    expect(images.map((i) => i.path)).toEqual([join(folder, 'pair_0.png'), join(folder, 'pair_1.png')]);
    for (const image of images)
      expect(await readFile(image.path as string)).toEqual(Buffer.from(image.b64Json as string, 'base64'));
  });

  it('replaces a symbolic link at the target instead of writing through it', async () => {
    const { client } = await clientWithTokens(stack);
    const victim = join(folder, 'victim.txt');
    await writeFile(victim, 'untouched');
    const target = join(folder, 'linked.png');
    await symlink(victim, target);
    await client.generateImage('x', { size: '4x4', responseFormat: 'b64_json', saveTo: target });
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    expect((await lstat(target)).isSymbolicLink()).toBe(false);
    await expect(readlink(target)).rejects.toThrow();
  });

  it('refuses a folder that does not exist before anything is sent (a generation costs credits)', async () => {
    const { client } = await clientWithTokens(stack);
    const before = requests(GENERATE);
    const error = await client.generateImage('x', { saveTo: join(folder, 'missing', 'x.png') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/does not exist; nothing was sent/);
    expect(requests(GENERATE)).toBe(before);
  });
});

describe('editing (image)', () => {
  it('posts the raw base64 to /api/v1/images/vision and answers images of the input’s size', async () => {
    const { client } = await clientWithTokens(stack);
    const edited = counted('imagesEdited');
    const input = join(folder, 'input.jpg');
    await writeFile(input, jpegBytes(40, 30));
    const [image] = await client.generateImage('Make it blue', { image: input, responseFormat: 'b64_json' });
    expect(sizeOf(Buffer.from(image?.b64Json as string, 'base64'))).toEqual({ width: 40, height: 30 });
    expect(edited()).toBe(1);
  });

  it('sends an edit’s image unscaled (as the Python SDK reads the file as it is)', async () => {
    const { client } = await clientWithTokens(stack);
    const [image] = await client.generateImage('x', { image: pngBytes(1800, 20), responseFormat: 'b64_json' });
    expect(sizeOf(Buffer.from(image?.b64Json as string, 'base64'))).toEqual({ width: 1800, height: 20 });
  });

  it('refuses generation-only options and a bad image before anything is sent', async () => {
    const { client } = await clientWithTokens(stack);
    const edited = counted('imagesEdited');
    await expect(client.generateImage('x', { image: pngBytes(2, 2), size: '4x4' })).rejects.toBeInstanceOf(ConfigError);
    const error = await client.generateImage('x', { image: Buffer.from('not an image') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageInputError);
    expect((error as ImageInputError).code).toBe(ErrorCode.IMAGE_UNSUPPORTED_TYPE);
    expect(edited()).toBe(0);
  });
});
