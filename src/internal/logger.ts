import { redact } from './redact.js';
import { oneLine } from './safe-text.js';

/** Where debug and warning lines go. The default writes to stderr; every line is redacted first. */
export interface Logger {
  /** A debug line, redacted and on one line; sent only when `debug` is on. */
  debug(message: string): void;
  /** A warning line, redacted and on one line. */
  warn(message: string): void;
}

/** The SDK's logger: every line redacted and on one line; debug lines only when debug is on; warnings once per key. */
export interface InternalLogger {
  /** Whether debug lines go anywhere: check it before building an expensive line. */
  readonly debugEnabled: boolean;
  debug(message: string): void;
  warn(message: string): void;
  /** Warns once per `key` for the life of this logger (e.g. "keychain unavailable"). */
  warnOnce(key: string, message: string): void;
}

const stderrLogger: Logger = {
  debug: (message) => process.stderr.write(`[mesh-sdk] ${message}\n`),
  warn: (message) => process.stderr.write(`[mesh-sdk] warning: ${message}\n`),
};

export function createLogger(options: { debug?: boolean; logger?: Logger | undefined } = {}): InternalLogger {
  const sink = options.logger ?? stderrLogger;
  const warned = new Set<string>();
  // One line each: a line may quote a server, whose CR/LF could forge a `[mesh-sdk]` line of its own.
  const clean = (message: string) => oneLine(redact(message));
  return {
    debugEnabled: options.debug === true,
    debug: options.debug ? (message) => sink.debug(clean(message)) : () => {},
    warn: (message) => sink.warn(clean(message)),
    warnOnce(key, message) {
      if (warned.has(key)) return;
      warned.add(key);
      sink.warn(clean(message));
    },
  };
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: InternalLogger = { debugEnabled: false, debug() {}, warn() {}, warnOnce() {} };
