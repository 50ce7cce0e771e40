/**
 * `mesh-auth import-python`: the login in a Python SDK headless token file (`.mesh_token.json`),
 * copied into mesh-sdk's own store once, by the user's explicit choice. The file is read as
 * carefully as any token file (no symbolic link, this user's, a token set's size) and must hold a
 * set for this deployment (its audience); its `auth_source` comes along, so a device-flow login
 * refreshes as one.
 */
import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isDefaultDeployment } from '../auth/stores/create-token-store.js';
import { fileStoreError } from '../auth/stores/file-errors.js';
import { MAX_TOKEN_FILE_BYTES } from '../auth/stores/file-store.js';
import { isForDeployment } from '../auth/stores/python-token-file.js';
import type { TokenSet } from '../auth/stores/token-store.js';
import type { TokenManager } from '../auth/tokens/token-manager.js';
import { parseStoredTokenJson, TokenSetFormatError } from '../auth/tokens/token-set.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { ErrorCode } from '../errors/codes.js';
import { TokenStoreError } from '../errors/mesh-error.js';
import { readSecretFile } from '../internal/secret-file.js';

export interface PythonImportOptions {
  /** Delete the Python file once the set is stored here. @default false */
  remove?: boolean;
}

/** Reads the set in `path`, refusing anything that is not this user's token set for this deployment. */
async function readPythonSet(path: string, config: ResolvedConfig): Promise<TokenSet> {
  let text: string | undefined;
  try {
    text = (await readSecretFile(path, { maxBytes: MAX_TOKEN_FILE_BYTES }))?.text;
  } catch (error) {
    throw fileStoreError('Reading the Python SDK token file', path, error);
  }
  if (text === undefined) {
    throw new TokenStoreError(`There is no Python SDK token file at ${path}.`, {
      hint: 'Name the file: `npx mesh-auth import-python <path>` (the Python SDK writes .mesh_token.json in the directory it ran in, or in /tmp).',
    });
  }
  let tokens: TokenSet;
  try {
    tokens = parseStoredTokenJson(text);
  } catch (error) {
    if (!(error instanceof TokenSetFormatError)) throw error;
    throw new TokenStoreError(`${path} is not a token set: ${error.message}.`, {
      code: ErrorCode.TOKEN_STORE_UNSAFE,
      hint: 'Log in with `npx mesh-auth` instead.',
    });
  }
  // The same audience check as the shared file gets: a set for another deployment is not imported.
  if (!isForDeployment(tokens, { audience: config.auth0.audience, acceptOpaque: isDefaultDeployment(config) })) {
    throw new TokenStoreError(`The tokens in ${path} are not for this Mesh deployment (${config.apiUrl}).`, {
      code: ErrorCode.TOKEN_STORE_UNSAFE,
      hint: 'Point MESH_API_URL and AUTH0_AUDIENCE at the deployment the Python SDK logged in to, or log in with `npx mesh-auth`.',
    });
  }
  return tokens;
}

/** Copies the set into the manager's store; answers the file it came from. */
export async function importPythonTokens(
  path: string,
  manager: TokenManager,
  config: ResolvedConfig,
  options: PythonImportOptions = {},
): Promise<string> {
  const source = resolve(path);
  const tokens = await readPythonSet(source, config);
  await manager.setTokens(tokens);
  if (options.remove) {
    await unlink(source).catch((error: unknown) => {
      throw fileStoreError('Removing', source, error);
    });
  }
  return source;
}
