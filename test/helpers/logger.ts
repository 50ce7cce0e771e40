import type { InternalLogger } from '../../src/internal/logger.js';

/** A logger that records what it is told: warnings (including warnOnce) and debug lines. */
export function recordingLogger(): InternalLogger & { warnings: string[]; debugs: string[] } {
  const warnings: string[] = [];
  const debugs: string[] = [];
  return {
    warnings,
    debugs,
    debugEnabled: true,
    debug: (message) => debugs.push(message),
    warn: (message) => warnings.push(message),
    warnOnce: (_key, message) => warnings.push(message),
  };
}
