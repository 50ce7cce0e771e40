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

/** `--profile`, or an abbreviation of it (`--pr` at least: `--p` could be `--port`), with or without `=value`. */
const PROFILE_FLAG = /^--pr(o(f(i(le?)?)?)?)?(=.*)?$/;

/**
 * The command word and the rest of `argv`: `--profile <name>` (or `--profile=<name>`) may come
 * before the command word as well as after it, and is then moved after it. Without a command
 * word (`mesh-auth --headless`), the `fallback` command with every argument.
 */
export function splitCommand(argv: readonly string[], fallback: string): { name: string; args: string[] } {
  const leading: string[] = [];
  let index = 0;
  while (index < argv.length && PROFILE_FLAG.test(argv[index] as string)) {
    const flag = argv[index] as string;
    leading.push(flag);
    if (!flag.includes('=') && index + 1 < argv.length) leading.push(argv[++index] as string);
    index += 1;
  }
  const word = argv[index];
  if (word !== undefined && !word.startsWith('-')) return { name: word, args: [...leading, ...argv.slice(index + 1)] };
  return { name: fallback, args: [...argv] };
}
