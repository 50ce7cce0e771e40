/**
 * A stand-in browser behind the real opener. xdg-open (the `open` package's copy, which the login
 * runs) starts `$BROWSER <url>` when it finds no desktop handler; this script records the URL and
 * exits as told. A test then sees exactly what reached the opener's command line (which any local
 * user can read with `ps`), and whether the login claimed an opened browser.
 *
 * xdg-open asks `xdg-mime` for the desktop's handler first: a stand-in that knows none is put
 * first on PATH, so that this machine's own browser (Debian's Chromium) is never started, and
 * because the real one is a slow script (a loaded machine would push xdg-open past the login's
 * 1.5 s verdict).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { scratchDir } from '../helpers/scratch.js';

export interface RecordingOpener {
  /** The variables for the process that logs in: $BROWSER, the record, and PATH with the xdg-mime stand-in. */
  env: Record<string, string>;
  /** The URLs the stand-in was started with (xdg-open may retry one that failed). */
  opened(): Promise<string[]>;
}

// The delay is on the first start only: xdg-open starts $BROWSER again after a failure, and the
// whole run must stay well inside the login's 1.5 s verdict on a loaded machine.
const SCRIPT = `#!/bin/sh
[ -e "$MESH_TEST_OPENED" ] || sleep "$MESH_TEST_OPENER_DELAY"
printf '%s\\n' "$1" >> "$MESH_TEST_OPENED"
exit "$MESH_TEST_OPENER_EXIT"
`;

/**
 * `display`: set DISPLAY (to a display nobody serves: only its presence matters). `exit`: the
 * stand-in's exit code, the first time after `delaySeconds` (a browser that takes a moment to fail).
 */
export async function recordingOpener(options: {
  display: boolean;
  exit?: number;
  delaySeconds?: number;
}): Promise<RecordingOpener> {
  const directory = await scratchDir('mesh-opener-');
  const script = join(directory, 'browser.sh');
  await writeFile(script, SCRIPT);
  await chmod(script, 0o755);
  const bin = join(directory, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'xdg-mime'), '#!/bin/sh\nexit 1\n');
  await chmod(join(bin, 'xdg-mime'), 0o755);
  const record = join(directory, 'opened.txt');
  return {
    env: {
      PATH: `${bin}${delimiter}${process.env.PATH}`,
      BROWSER: script,
      MESH_TEST_OPENED: record,
      MESH_TEST_OPENER_EXIT: String(options.exit ?? 0),
      MESH_TEST_OPENER_DELAY: String(options.delaySeconds ?? 0),
      ...(options.display ? { DISPLAY: ':99' } : {}),
    },
    opened: async () => (existsSync(record) ? (await readFile(record, 'utf8')).split('\n').filter(Boolean) : []),
  };
}
