/**
 * Image generation and editing (backend-contract.md part A, client.py 1.5.6 `MeshClient.image`):
 * `POST /api/v1/images/generate` and `POST /api/v1/images/vision`, answered in OpenAI's shape
 * `{"created", "data": [{"url"} | {"b64_json"}]}` with solid-colour PNGs (the colour follows the
 * prompt; an edit keeps the input's width and height), and `GET /__dev/images/<id>.png`, where
 * the `url`s point: no credential needed, as an image host's links are.
 */
import { createHash, randomBytes } from 'node:crypto';
import { providerFor } from './chat-responder.js';
import type { Backend, Principal, Route, RouteRequest } from './context.js';
import { fields, HttpError, IMAGE_BODY_BYTES } from './http.js';
import { decodeBase64, ImageProblem, inspectImage } from './image-bytes.js';
import { solidPng } from './png.js';
import type { BackendState } from './state.js';

const PROVIDERS = ['openai', 'google'] as const;
type ImageProvider = (typeof PROVIDERS)[number];
/** client.py 1.5.6 `image`: the model it names when the caller names none. */
export const DEFAULT_IMAGE_MODELS: Record<ImageProvider, string> = {
  openai: 'dall-e-3',
  google: 'gemini-2.0-flash-exp-image-generation',
};
export const MAX_IMAGES_PER_REQUEST = 10;
/** The largest side `size` may ask for (DALL-E's largest is 1792). */
export const MAX_GENERATED_SIDE = 2048;
const QUALITIES = ['standard', 'hd', 'low', 'medium', 'high', 'auto'];
const STYLES = ['vivid', 'natural'];
const RESPONSE_FORMATS = ['url', 'b64_json'];
/** Generated images kept for download, per backend; the oldest go first. */
const KEPT_IMAGES = 256;

const invalid = (message: string) => new HttpError(400, message);
/** `null` is unset: the Python client sends `"model": null` and passes extra fields through as given. */
const given = (value: unknown) => value !== undefined && value !== null;

interface ImageRequest {
  provider: ImageProvider;
  model: string;
  prompt: string;
  n: number;
  size?: { width: number; height: number };
  responseFormat: 'url' | 'b64_json';
}

function optionalOneOf(b: Record<string, unknown>, field: string, allowed: string[]): void {
  if (given(b[field]) && !allowed.includes(b[field] as string)) {
    throw invalid(`${field} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}.`);
  }
}

/** The fields both routes share; extra fields (the Python client's `**kwargs`) are accepted as they are. */
function parseCommon(body: unknown): ImageRequest & { body: Record<string, unknown> } {
  const b = fields(body);
  if (typeof b.prompt !== 'string' || b.prompt.trim() === '') throw invalid('prompt is required (a non-empty string).');
  if (given(b.provider) && !(PROVIDERS as readonly unknown[]).includes(b.provider)) {
    throw invalid(`provider must be "openai" or "google" for images, not ${JSON.stringify(b.provider)}.`);
  }
  const provider = (given(b.provider) ? b.provider : 'openai') as ImageProvider;
  if (given(b.model) && (typeof b.model !== 'string' || b.model === '')) throw invalid('model must be a non-empty string.');
  const model = given(b.model) ? (b.model as string) : DEFAULT_IMAGE_MODELS[provider];
  const modelProvider = providerFor(model);
  if (modelProvider !== 'mesh' && modelProvider !== provider) {
    throw invalid(`model ${model} is a ${modelProvider} model, but provider is ${provider}.`);
  }
  if (given(b.n) && (!Number.isInteger(b.n) || (b.n as number) < 1 || (b.n as number) > MAX_IMAGES_PER_REQUEST)) {
    throw invalid(`n must be an integer from 1 to ${MAX_IMAGES_PER_REQUEST}.`);
  }
  let size: ImageRequest['size'];
  if (given(b.size)) {
    const match = typeof b.size === 'string' ? /^(\d{1,5})x(\d{1,5})$/.exec(b.size) : null;
    const [width, height] = [Number(match?.[1]), Number(match?.[2])];
    if (!match || width < 1 || height < 1 || width > MAX_GENERATED_SIDE || height > MAX_GENERATED_SIDE) {
      throw invalid(`size must be "<width>x<height>", each from 1 to ${MAX_GENERATED_SIDE} (e.g. "1024x1024").`);
    }
    size = { width, height };
  }
  optionalOneOf(b, 'quality', QUALITIES);
  optionalOneOf(b, 'style', STYLES);
  optionalOneOf(b, 'response_format', RESPONSE_FORMATS);
  if (given(b.generationConfig) && (typeof b.generationConfig !== 'object' || Array.isArray(b.generationConfig))) {
    throw invalid('generationConfig must be an object.');
  }
  return {
    body: b,
    provider,
    model,
    prompt: b.prompt,
    n: given(b.n) ? (b.n as number) : 1,
    size,
    responseFormat: b.response_format === 'b64_json' ? 'b64_json' : 'url',
  };
}

/**
 * client.py 1.5.6 `image` (generation only) adds `"generationConfig": {"responseModalities":
 * ["Text", "Image"]}` for provider google and a model that names "gemini-2.0"; without it, 400.
 */
function checkGeminiModalities(request: ReturnType<typeof parseCommon>): void {
  if (request.provider !== 'google' || !request.model.includes('gemini-2.0')) return;
  const config = fields(request.body.generationConfig);
  const modalities = config.responseModalities;
  if (!Array.isArray(modalities) || modalities.join(',') !== 'Text,Image') {
    throw invalid(`${request.model} needs "generationConfig": {"responseModalities": ["Text", "Image"]}.`);
  }
}

/** The edit's input: raw base64 of the file (no `data:` prefix), a whole JPEG, PNG, GIF or WebP. */
function parseEditImage(b: Record<string, unknown>): { width: number; height: number; digest: string } {
  if (typeof b.image !== 'string' || b.image === '') throw invalid('image is required: the base64 of the image file.');
  if (b.image.startsWith('data:')) throw invalid('image must be raw base64 of the file, without a data: URL prefix.');
  const bytes = decodeBase64(b.image);
  if (bytes === undefined) throw invalid('image is not valid base64 (standard alphabet, padded).');
  try {
    const facts = inspectImage(bytes);
    return { width: facts.width, height: facts.height, digest: createHash('sha256').update(bytes).digest('hex') };
  } catch (error) {
    if (error instanceof ImageProblem) throw invalid(`image: ${error.message}.`);
    throw error;
  }
}

/** Downloadable images by id, one store per backend. */
const stores = new WeakMap<BackendState, Map<string, Buffer>>();
function storeOf(backend: Backend): Map<string, Buffer> {
  let store = stores.get(backend.state);
  if (!store) {
    store = new Map();
    stores.set(backend.state, store);
  }
  return store;
}

/** A deterministic colour per prompt, model, input and index: the same request draws the same images. */
function colourOf(...parts: string[]): [number, number, number] {
  const digest = createHash('sha256').update(parts.join('\n')).digest();
  return [digest[0] as number, digest[1] as number, digest[2] as number];
}

function charge(request: RouteRequest, backend: Backend, images: number): void {
  const user = backend.state.user((request.principal as Principal).sub);
  if (user.credits < images) throw new HttpError(402, 'Insufficient credits.');
  user.credits -= images;
}

function reply(
  request: RouteRequest,
  backend: Backend,
  parsed: ImageRequest,
  size: { width: number; height: number },
  seed: string,
) {
  const store = storeOf(backend);
  // The URL names the host the client reached, so it works through whatever proxy the test put in front.
  const origin = `http://${request.req.headers.host ?? '127.0.0.1'}`;
  const data = Array.from({ length: parsed.n }, (_, i) => {
    const png = solidPng(size.width, size.height, colourOf(parsed.prompt, parsed.model, seed, String(i)));
    if (parsed.responseFormat === 'b64_json') return { b64_json: png.toString('base64') };
    const id = randomBytes(12).toString('hex');
    store.set(id, png);
    if (store.size > KEPT_IMAGES) store.delete(store.keys().next().value as string);
    return { url: `${origin}/__dev/images/${id}.png` };
  });
  return { status: 200, body: { created: Math.floor(Date.now() / 1000), data } };
}

export const imageRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/api/v1/images/generate',
    auth: true,
    limited: true,
    handler: async (request, backend) => {
      const parsed = parseCommon(request.body);
      checkGeminiModalities(parsed);
      charge(request, backend, parsed.n);
      backend.counters.imagesGenerated += parsed.n;
      return reply(request, backend, parsed, parsed.size ?? { width: 1024, height: 1024 }, 'generate');
    },
  },
  {
    method: 'POST',
    pattern: '/api/v1/images/vision',
    auth: true,
    limited: true,
    maxBodyBytes: IMAGE_BODY_BYTES,
    handler: async (request, backend) => {
      const parsed = parseCommon(request.body);
      const input = parseEditImage(parsed.body);
      charge(request, backend, parsed.n);
      backend.counters.imagesEdited += parsed.n;
      return reply(request, backend, parsed, parsed.size ?? input, input.digest);
    },
  },
  {
    method: 'GET',
    pattern: '/__dev/images/:file',
    handler: async ({ req, res, params }, backend) => {
      const id = /^([0-9a-f]+)\.png$/.exec(params.file ?? '')?.[1];
      const png = id === undefined ? undefined : storeOf(backend).get(id);
      if (png === undefined) throw new HttpError(404, 'No such image.');
      backend.counters.imageDownloads += 1;
      const h = req.headers;
      if (h.authorization !== undefined || h['x-api-key'] !== undefined || h.cookie !== undefined) {
        backend.counters.imageDownloadsWithCredentials += 1;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'cache-control': 'no-store' });
      res.end(png);
      return undefined;
    },
  },
];
