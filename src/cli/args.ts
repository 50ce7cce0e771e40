/**
 * Long options may be abbreviated to any unambiguous prefix (`--head` for `--headless`), as
 * Python's argparse allows: the Python SDK's `mesh-auth` and `mesh-env` were argparse programs,
 * and people's scripts keep their spellings.
 */
import { UsageError } from './run.js';

/** Rewrites each abbreviated `--option` in `args` to its full name; a prefix that fits several is a UsageError. */
export function expandAbbreviations(args: readonly string[], longNames: readonly string[], usage?: string): string[] {
  const expanded: string[] = [];
  for (const [index, arg] of args.entries()) {
    if (arg === '--') return [...expanded, ...args.slice(index)];
    const match = /^--([^=]+)(=.*)?$/.exec(arg);
    const name = match?.[1];
    if (name === undefined || longNames.includes(name)) {
      expanded.push(arg);
      continue;
    }
    const candidates = longNames.filter((long) => long.startsWith(name));
    if (candidates.length > 1) {
      throw new UsageError(`Option '--${name}' is ambiguous: it could be ${candidates.map((c) => `--${c}`).join(', ')}.`, usage);
    }
    expanded.push(candidates[0] === undefined ? arg : `--${candidates[0]}${match?.[2] ?? ''}`);
  }
  return expanded;
}
