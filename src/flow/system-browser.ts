/**
 * The default browser opener: the `open` package (xdg-open on Linux, `open` on macOS, `start` on
 * Windows), with an honest answer. It rejects when nothing could have opened a browser, so that
 * the login says "open this URL" instead of claiming "Opened your browser".
 */
import type { ChildProcess } from 'node:child_process';
import { type EnvironmentVariables, probeEnvironment } from '../internal/environment.js';

/**
 * How long an opener has to fail. xdg-open that finds no browser exits non-zero within a few
 * hundred ms; one that is still running after this has launched one (some run the browser in the
 * foreground and exit only when it closes).
 */
export const OPENER_VERDICT_MS = 1500;

/**
 * Opens `url` in the user's browser; resolves once a browser is on its way, rejects when none
 * could be: no display on Linux (not even tried: xdg-open would fall back to a text browser
 * nobody sees), the opener missing, or the opener exiting non-zero.
 */
export async function openWithSystemBrowser(url: string, env: EnvironmentVariables = process.env): Promise<void> {
  if (probeEnvironment({ env }).display === undefined) {
    throw new Error('no display (DISPLAY and WAYLAND_DISPLAY are unset)');
  }
  const { default: open } = await import('open');
  await openerVerdict(await open(url), OPENER_VERDICT_MS);
}

/**
 * Waits for the opener's verdict: it exited 0, or is still running after `boundMs` (success);
 * it could not be started, or exited non-zero or on a signal (failure).
 */
function openerVerdict(child: ChildProcess, boundMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, boundMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    // Stays attached: an 'error' event with no listener would crash the process later.
    child.on('error', fail);
    child.once('exit', (code, signal) => {
      if (code === 0) {
        clearTimeout(timer);
        resolve();
      } else fail(new Error(`${child.spawnfile} exited with ${code ?? signal}`));
    });
  });
}
