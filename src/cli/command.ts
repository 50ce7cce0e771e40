/**
 * What a `mesh-auth` command is given. Each command lives in a module of its own group, loaded by
 * the dispatcher (mesh-auth.ts) only when that command runs: `mesh-auth token` must not pay for
 * the HTTP stack, the doctor or the login machinery (issue 22).
 */
import type { LoginUi } from './login-ui.js';
import type { Output } from './output.js';

export interface CommandContext {
  out: Output;
  ui: LoginUi;
  /** The command's own usage text (for a UsageError). */
  usage: string;
  /** `--profile <name>`, when given (checked when a client resolves it: a ConfigError naming the rule). */
  profile?: string;
}

export type Command = (
  values: Record<string, unknown>,
  signal: AbortSignal,
  positionals: readonly string[],
  context: CommandContext,
) => Promise<void>;
