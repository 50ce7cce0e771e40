/**
 * Runs a soak and checks its figures so that a failure says which figure was off on its first
 * line: CI's summary (scripts/test-summary.mjs) shows only that line, and `toMatchObject` puts
 * there an object cut to its first key (`expected { machines: 2, …(35) }`), which names nothing.
 */
import { type ExecFileOptions, execFile } from 'node:child_process';
import { isDeepStrictEqual, promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);

/**
 * The stdout of `node <args>` (a soak). A run that missed a goal exits 1 with its figures still
 * printed: that output is answered too (`printedFigures` says whether it holds them), so that the
 * test names what was off. A run that printed none fails with its stderr.
 */
export async function soakOutput(
  args: string[],
  options: ExecFileOptions,
  printedFigures: (stdout: string) => boolean,
): Promise<string> {
  try {
    return (await run(process.execPath, args, { ...options, encoding: 'utf8' })).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    if (stdout && printedFigures(stdout)) return stdout;
    throw new Error(`the soak did not run: ${stderr ?? error}`);
  }
}

/**
 * Asserts every figure in `expected`. A failure's message names each one that was off, with its
 * value and the expected one, then `context` (the run's first errors, its warnings...) as JSON.
 */
export function expectFigures(
  figures: Record<string, unknown>,
  expected: Record<string, unknown>,
  context: Record<string, unknown> = {},
): void {
  const off = Object.entries(expected)
    .filter(([name, value]) => !isDeepStrictEqual(figures[name], value))
    .map(([name, value]) => `${name} ${JSON.stringify(figures[name])} (expected ${JSON.stringify(value)})`);
  expect(off, `${off.join('; ')}; ${JSON.stringify(context)}`).toEqual([]);
}

/** The named figures of `figures`, for the context of {@link expectFigures}. */
export function pick(figures: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, figures[name]]));
}
