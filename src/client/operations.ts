/**
 * Every call the client makes to the backend's API, declared once (backend-contract.md part A;
 * the shape is http/operation.ts): its method and path (or the paths a deployment may serve it
 * on), how its reply is read, and what its trace says. The request pipeline (api-caller.ts) runs each the same way: the
 * credential, retries by the HTTP layer's policy (a GET after any transient failure; a POST only
 * where it cannot have been processed, or with an Idempotency-Key the backend honours), one
 * refresh after a refusal, the path fallback, the reply check, the trace.
 * The backend's auth endpoints (`/auth/*`) are declared beside their client, in
 * auth/backend/backend-auth.ts, on the HTTP layer's policy alike.
 */
import type { Operation as HttpOperation } from '../http/operation.js';
import type { TraceEnd } from '../internal/tracing.js';
import {
  type ChatReplyData,
  type CreatedApiKeyData,
  chatReply,
  createdApiKeyReply,
  getKeyReply,
  type ImagesData,
  imagesReply,
  listKeysReply,
  profileReply,
  type Reply,
  storeKeyReply,
  zkpReply,
} from './replies.js';

/** An API call: the HTTP layer's declaration, its reply read by its check (replies.ts), and what its trace adds. */
export interface Operation<T = unknown> extends HttpOperation<Reply<T>> {
  /** What the trace adds from the reply (read only when something listens). */
  readonly traceEnd?: (data: T) => TraceEnd;
}

/** client.py 1.5.6 maps the documented `/api/v1/chat/completions` to `/v1/mesh/chat` and falls back to the former on a 404. */
export const CHAT_PATHS = ['/v1/mesh/chat', '/api/v1/chat/completions'] as const;
/** client.py 1.5.6 maps `/api/v1/api-keys` to `/v1/mesh/api-keys`; pre_deploy.py 1.5.3 posted to the former. */
export const API_KEY_PATHS = ['/v1/mesh/api-keys', '/api/v1/api-keys'] as const;
/** Creation may take minutes on a struggling deployment: the Python SDK waits 360 s (gotchas.md 1.5.0). */
export const API_KEY_TIMEOUT_MS = 360_000; // 6 min
/** A generation often takes 10-60 s; a struggling provider longer. Per attempt, unless `timeout` says otherwise. */
export const IMAGE_TIMEOUT_MS = 180_000; // 3 min
export const PROFILE_PATH = '/auth/profile';

const chatTraceEnd = (data: ChatReplyData): TraceEnd => ({
  responseModel: data.model,
  responseId: data.id,
  inputTokens: data.usage?.prompt_tokens,
  outputTokens: data.usage?.completion_tokens,
});

export const CHAT: Operation<ChatReplyData> = {
  name: 'chat',
  what: 'Chat',
  method: 'POST',
  paths: CHAT_PATHS,
  reply: chatReply,
  registerOn404: true,
  traceEnd: chatTraceEnd,
};
/** A stream is sent on the chat path this client last saw answer (no fallback mid-stream). */
export const CHAT_STREAM: Operation<never> = {
  name: 'chat',
  what: 'Chat stream',
  method: 'POST',
  paths: CHAT_PATHS,
  stream: true,
};
export const PROFILE = op('profile', 'Reading the profile', 'GET', PROFILE_PATH, profileReply);
export const LIST_KEYS = op('listKeys', 'Listing keys', 'GET', '/api/v1/listKeys', listKeysReply);
export const GET_KEY = op('getKey', 'Reading a key', 'GET', '/api/v1/getKey', getKeyReply);
export const STORE_KEY = op('storeKey', 'Storing a key', 'POST', '/api/v1/storeKey', storeKeyReply);
export const CREATE_API_KEY: Operation<CreatedApiKeyData> = {
  name: 'generateApiKey',
  what: 'Creating an API key',
  method: 'POST',
  paths: API_KEY_PATHS,
  reply: createdApiKeyReply,
  timeout: API_KEY_TIMEOUT_MS,
};
export const GENERATE_IMAGE: Operation<ImagesData> = {
  ...op('generateImage', 'Generating an image', 'POST', '/api/v1/images/generate', imagesReply),
  timeout: IMAGE_TIMEOUT_MS,
};
export const EDIT_IMAGE: Operation<ImagesData> = {
  ...op('editImage', 'Editing an image', 'POST', '/api/v1/images/vision', imagesReply),
  timeout: IMAGE_TIMEOUT_MS,
};
export const STORE_KEY_ZKP = op('storeKeyZkp', 'Storing a key as a commitment', 'POST', '/api/v1/storeKeyZKP', zkpReply);
export const GET_COMMITMENT = op('getCommitment', 'Reading a commitment', 'GET', '/api/v1/getCommitment', zkpReply);
export const GET_CHALLENGE = op('getChallenge', 'Asking for a challenge', 'GET', '/api/v1/getChallenge', zkpReply);
export const VERIFY_PROOF = op('verifyProof', 'Verifying a proof', 'POST', '/api/v1/verifyProof', zkpReply);

/** An operation on one path. */
function op<T>(name: string, what: string, method: 'GET' | 'POST', path: string, reply: Reply<T>): Operation<T> {
  return { name, what, method, paths: [path], reply };
}
