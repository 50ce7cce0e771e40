/**
 * Checks a soak's figures so that a failure says which figure was off on its first line: CI's
 * summary (scripts/test-summary.mjs) shows only that line, and `toMatchObject` puts there an object
 * cut to its first key (`expected { machines: 2, …(35) }`), which names nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';

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
