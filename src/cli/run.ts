/**
 * The one place the CLIs turn outcomes into exit codes, as gh does: 0 success, 1 failure,
 * 2 usage, 4 authentication required; 130 after Ctrl-C. Errors print their message and hint.
 */
import { AbortError, AuthenticationError, MeshError } from '../errors/mesh-error.js';
import { heldWorkSettled } from '../internal/held-signals.js';
import { redact } from '../internal/redact.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, authRequired: 4, interrupted: 130 } as const;

export class UsageError extends Error {
  /** The usage text to show (a command's own, when known). */
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** Exits with a code instead of throwing (for outcomes that are not errors, e.g. "not logged in"). */
export class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export async function runCli(usage: string, main: (signal: AbortSignal) => Promise<void>): Promise<never> {
  const controller = new AbortController();
  // Ctrl-C cancels what is waiting (a login, a request); a second one exits at once.
  process.once('SIGINT', () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  let code: number = EXIT.ok;
  try {
    await main(controller.signal);
  } catch (error) {
    code = report(error, usage, controller.signal.aborted);
  }
  // Ctrl-C ends the command at once, but never a token save in flight (a refresh between the
  // rotation and the save): exiting then would lose the login. Bounded (2 s).
  await heldWorkSettled();
  process.exit(code);
}

function report(error: unknown, usage: string, interrupted: boolean): number {
  if (error instanceof Exit) return error.code;
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${error.usage ?? usage}\n`);
    return EXIT.usage;
  }
  if (interrupted || error instanceof AbortError) {
    process.stderr.write('Cancelled.\n');
    return EXIT.interrupted;
  }
  if (error instanceof MeshError) {
    process.stderr.write(`Error: ${error.message}\n`);
    if (error.hint) process.stderr.write(`${error.hint}\n`);
    if (error.requestId) process.stderr.write(`(request id ${error.requestId})\n`);
    return error instanceof AuthenticationError ? EXIT.authRequired : EXIT.failure;
  }
  process.stderr.write(`Error: ${redact((error as Error)?.message ?? String(error))}\n`);
  return EXIT.failure;
}
