import type { MeshClientOptions } from '../config/options.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.js';

/**
 * The Mesh client. Construction resolves and validates all configuration (options, then
 * environment, then defaults) and throws `ConfigError` on a bad value; it does no I/O.
 *
 * @example
 * import { MeshClient } from 'mesh-sdk';
 * const client = new MeshClient({ apiUrl: 'http://127.0.0.1:4001' });
 * console.log(client.config.apiUrl);
 */
export class MeshClient {
  /** The resolved, frozen configuration. */
  readonly config: ResolvedConfig;

  constructor(options: MeshClientOptions = {}) {
    this.config = resolveConfig(options);
  }
}
