/**
 * Named profiles (issue 23): the name's rule, and the user configuration file's shape
 * (`~/.mesh/config.json`, or `MESH_CONFIG_FILE`). Pure: the file is read by config-file.ts (Node)
 * and handed in as text, so nothing here needs a file system (mesh-sdk/server resolves settings
 * through this layer on runtimes without one).
 */
import { ConfigError } from '../errors/mesh-error.js';
import type { ValueParser } from './parsers.js';

/** The profile of everyone who never names one: today's storage, the Python SDK's keychain slot. */
export const DEFAULT_PROFILE = 'default';

/** Letters, digits, `.`, `_`, `-`; 1 to 64 of them; not `.` or `..`: a name can never make a path of its own. */
export const PROFILE_NAME_RULE = 'letters, digits, ".", "_" and "-" only, 1 to 64 of them, and not "." or ".."';
const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether `name` is a profile name (see PROFILE_NAME_RULE). */
export function isProfileName(name: unknown): name is string {
  return typeof name === 'string' && PROFILE_NAME.test(name) && name !== '.' && name !== '..';
}

/**
 * A profile name as `profile` or `MESH_PROFILE` takes it: the empty string means `default`; the
 * value is never trimmed or changed (` work` is refused, not read as `work`).
 */
export const profileNameValue: ValueParser<string> = {
  expected: `a profile name: ${PROFILE_NAME_RULE}`,
  parse(raw) {
    if (raw === '') return { ok: true, value: DEFAULT_PROFILE };
    return isProfileName(raw) ? { ok: true, value: raw } : { ok: false };
  },
};

/** A ConfigError for a name that breaks the rule (its value shown as JSON, so a `/` or a space is visible). */
export function badProfileName(name: unknown, where: string): ConfigError {
  const shown = typeof name === 'string' && name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}...` : JSON.stringify(name);
  return new ConfigError(`The ${where} is not a profile name: got ${shown}; a profile name has ${PROFILE_NAME_RULE}.`, {
    hint: 'Choose a name such as work, personal or staging.',
  });
}

/**
 * The settings a profile may carry in the user configuration file, by the settings table's names
 * (config/settings.ts), each checked by that setting's parser; `tokenStore` as the option takes it.
 */
export const PROFILE_SETTING_KEYS = [
  'apiUrl',
  'auth0Domain',
  'auth0ClientId',
  'auth0Audience',
  'defaultProvider',
  'defaultModel',
  'tokenStore',
] as const;
export type ProfileSettingKey = (typeof PROFILE_SETTING_KEYS)[number];

/** The user configuration file, as read (each profile's values still raw: resolve.ts parses them). */
export interface UserConfig {
  /** The file's path (for messages). */
  readonly path: string;
  /** Whether the file exists. */
  readonly found: boolean;
  /** `defaultProfile`, written by `mesh-auth use <name>`. */
  readonly defaultProfile: string | undefined;
  /** Each named profile's settings. */
  readonly profiles: Readonly<Record<string, Readonly<Partial<Record<ProfileSettingKey, unknown>>>>>;
}

/** Small: a few profiles of a few settings each. */
export const MAX_USER_CONFIG_BYTES = 64 * 1024;

function fileError(path: string, what: string): ConfigError {
  return new ConfigError(`${path} is not a valid mesh-sdk configuration: ${what}.`, {
    hint: `Fix ${path} (see docs/profiles.md), or point MESH_CONFIG_FILE elsewhere.`,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty configuration (no file). */
export function noUserConfig(path: string): UserConfig {
  return Object.freeze({ path, found: false, defaultProfile: undefined, profiles: Object.freeze({}) });
}

/**
 * Reads the text of a user configuration file: JSON `{ "defaultProfile"?, "profiles"? }`, every
 * profile name and setting name checked (an unknown key is a ConfigError naming the file and the
 * key: a typo must not silently fall back to a default). Values are checked later, by resolve.ts,
 * with the setting's own parser.
 * @throws ConfigError naming the file and the key
 */
export function parseUserConfig(text: string | undefined, path: string): UserConfig {
  if (text === undefined) return noUserConfig(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fileError(path, `it is not JSON (${(error as Error).message})`);
  }
  if (!isRecord(json)) throw fileError(path, 'it is not a JSON object');
  for (const key of Object.keys(json)) {
    if (key !== 'defaultProfile' && key !== 'profiles')
      throw fileError(path, `unknown key "${key}" (known: defaultProfile, profiles)`);
  }
  const defaultProfile = json.defaultProfile;
  if (defaultProfile !== undefined && !isProfileName(defaultProfile)) {
    throw fileError(path, `"defaultProfile" is ${JSON.stringify(defaultProfile)}, not a profile name (${PROFILE_NAME_RULE})`);
  }
  const profiles: Record<string, Partial<Record<ProfileSettingKey, unknown>>> = {};
  if (json.profiles !== undefined) {
    if (!isRecord(json.profiles)) throw fileError(path, '"profiles" is not an object of profiles');
    for (const [name, settings] of Object.entries(json.profiles)) {
      if (!isProfileName(name))
        throw fileError(path, `the profile ${JSON.stringify(name)} has no valid name (${PROFILE_NAME_RULE})`);
      if (!isRecord(settings)) throw fileError(path, `"profiles.${name}" is not an object of settings`);
      for (const key of Object.keys(settings)) {
        if (!(PROFILE_SETTING_KEYS as readonly string[]).includes(key)) {
          throw fileError(path, `unknown key "profiles.${name}.${key}" (known: ${PROFILE_SETTING_KEYS.join(', ')})`);
        }
      }
      profiles[name] = Object.freeze({ ...settings });
    }
  }
  return Object.freeze({
    path,
    found: true,
    defaultProfile: defaultProfile as string | undefined,
    profiles: Object.freeze(profiles),
  });
}
