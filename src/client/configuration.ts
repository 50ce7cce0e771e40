/**
 * Configuration as the public API offers it: resolved and inspected from the one public options
 * type, `MeshClientOptions` (config/ below reads only its data settings and a store's shape), with
 * the user configuration file (`~/.mesh/config.json`, its profiles) read once, here, for a client.
 */
import { configFileReader } from '../config/config-file.js';
import {
  type ConfigReport,
  inspectConfig as inspectSettings,
  type ResolvedConfig,
  resolveConfig as resolveSettings,
} from '../config/resolve.js';
import type { MeshClientOptions } from './options.js';

/**
 * The configuration a `MeshClient` with these options would use: each setting from its option,
 * else its environment variable, else the profile's settings in the user configuration file, else
 * the default. Throws the first problem as a `ConfigError`.
 * @example const { apiUrl } = resolveConfig();
 */
export function resolveConfig(options: MeshClientOptions = {}): ResolvedConfig {
  return resolveSettings(options, configFileReader);
}

/**
 * Every setting with where it came from, and every problem at once (nothing is thrown): what
 * `mesh-auth doctor` prints.
 * @example const { config, problems } = inspectConfig();
 */
export function inspectConfig(options: MeshClientOptions = {}): ConfigReport {
  return inspectSettings(options, configFileReader);
}
