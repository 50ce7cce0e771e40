/**
 * What to do next, for each error code: the hint an error carries when the place that raises it
 * has nothing more specific to say. Every `MeshError` therefore has a hint. The same advice as the
 * "what to do" column of docs/troubleshooting.md (test/errors/error-codes.test.ts holds them to
 * each other).
 */
import type { ErrorCode } from './codes.js';

export const DEFAULT_HINTS: Readonly<Record<ErrorCode, string>> = {
  config_invalid: 'Fix or unset the value the message names.',
  authentication_failed: 'Run `npx mesh-auth` to log in again, or check MESH_API_KEY.',
  reauthentication_required: 'Run `npx mesh-auth`; in CI or on a server, set MESH_API_KEY.',
  login_failed: 'Read serverCode and serverMessage, check the Auth0 settings, and log in again.',
  callback_port_in_use:
    'Stop the program using the port, or log in on another registered port: `npx mesh-auth --port <port>` or AUTH0_CALLBACK_PORT.',
  login_timeout: 'Log in again; on a machine without a browser, `npx mesh-auth --headless`.',
  login_access_denied: 'Log in again and approve.',
  login_expired: 'Run `npx mesh-auth --headless` for a new code.',
  login_device_config_unavailable:
    'Check MESH_API_URL; or log in on a machine with a browser and copy the tokens, or set MESH_API_KEY.',
  network_error: 'Check the connection, MESH_API_URL and any proxy (HTTPS_PROXY).',
  timeout: 'Try again; raise `timeout` if the backend is known to be slow.',
  aborted: 'Nothing to fix: your AbortSignal cancelled the call.',
  rate_limited: 'Wait `retryAfter` seconds (when given), then try again.',
  server_error: 'Try again later; quote the request id if it persists.',
  not_found: 'Check the name or id you asked for (`listKeys()` lists the stored keys).',
  invalid_response: 'Check that MESH_API_URL points at a Mesh backend; quote the request id.',
  keychain_unavailable: 'Unlock the OS keychain, or set MESH_TOKEN_STORE=file.',
  bad_request: 'Fix the request: serverMessage says what the backend refused (model, messages, key name).',
  insufficient_credits: 'Add credits to your Mesh account.',
  circuit_open: 'Wait for the cool-down (30 s); the earlier errors say why the backend failed.',
  stream_interrupted: 'Use partialText, or ask again.',
  unsupported_by_backend: 'This deployment has no endpoint for it; nothing was sent.',
  unsupported_runtime: 'In a Worker, pass apiKey, tokens or a tokenProvider; log in and keep tokens on Node.js, Bun or Deno.',
  request_failed: 'Read serverCode and serverMessage: the backend says what it refused.',
  token_store_conflict: 'Load the store again: another process saved a newer token set.',
  token_sealing_failed: 'Set MESH_TOKEN_KEY to the key the other instances use, or log out and log in to reseal.',
  token_store_corrupt:
    'Run `npx mesh-auth logout` (or delete the key) and log in; or give mesh-sdk its own MESH_TOKEN_STORE_KEY.',
  token_store_failed: 'Free some disk space or fix the permissions, or set MESH_TOKEN_DIR to a directory of your own.',
  token_store_unsafe: 'Remove the file, or set MESH_TOKEN_DIR to a directory of your own.',
  redirect_refused: 'Check MESH_API_URL (set it to the redirect target if you trust it) and any proxy in between.',
  response_too_large: 'Check MESH_API_URL; raise maxResponseBytes if replies this large are expected.',
  stream_idle_timeout: 'Ask again; raise streamIdleTimeout for models that think long before answering.',
  image_too_many: 'Send at most 5 images per message, or split the question.',
  image_unreadable: 'Check the path or URL the message names.',
  image_unsupported_type: 'Convert the image to JPEG, PNG, GIF or WebP.',
  mesh_error: 'See the message.',
};
