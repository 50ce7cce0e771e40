/**
 * Ctrl-C (SIGINT), `docker stop` and `kill` (SIGTERM) and a closed terminal (SIGHUP) arriving while
 * a refresh is between the rotation at the identity provider and the save of the new set: the
 * process would die with the only copy of the new refresh token, and the next process would present
 * the old one, which the provider treats as reuse and answers by revoking the whole family.
 *
 * So such work is "held": while any is in flight, these signals are caught; once the held work
 * ends, or after a bound (2 s: a save is milliseconds, a stuck one must not keep a person's Ctrl-C
 * waiting), the listener is removed and the signal is raised again, so the process ends exactly as
 * it would have (killed by that signal, exit status 128 + n). A second signal of the same kind does
 * not wait. A program with its own listener for a signal keeps full control of it: nothing is
 * caught or raised again for that signal.
 *
 * Signals belong to the process, not to a client: this module's state is process-wide on purpose.
 */

const HELD_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HeldSignal = (typeof HELD_SIGNALS)[number];

/** How long a caught signal waits for held work: long enough for a save, short enough for a person. */
export const SIGNAL_HOLD_BOUND_MS = 2000;

/** Exit statuses of a process killed by each signal, for platforms that cannot raise one (Windows). */
const SIGNAL_NUMBERS: Record<HeldSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

let held = 0;
let caught: HeldSignal | undefined;
let boundTimer: NodeJS.Timeout | undefined;
/** Resolved each time the held work drops to none. */
let idleWaiters: Array<() => void> = [];

const listeners = new Map<HeldSignal, () => void>();

function othersListen(signal: HeldSignal): boolean {
  const ours = listeners.get(signal);
  return process.listeners(signal).some((listener) => listener !== ours);
}

function install(): void {
  for (const signal of HELD_SIGNALS) {
    const onSignal = () => {
      // Someone else handles this signal: their handler decides what happens, not us.
      if (othersListen(signal)) return;
      if (caught === signal) {
        raise(); // asked twice: the person means it
        return;
      }
      caught ??= signal;
      boundTimer ??= setTimeout(raise, SIGNAL_HOLD_BOUND_MS);
    };
    listeners.set(signal, onSignal);
    process.on(signal, onSignal);
  }
}

function uninstall(): void {
  for (const [signal, listener] of listeners) process.removeListener(signal, listener);
  listeners.clear();
}

/** Removes the listeners and, if a signal was caught, lets it do what it would have done. */
function raise(): void {
  clearTimeout(boundTimer);
  boundTimer = undefined;
  const signal = caught;
  caught = undefined;
  uninstall();
  if (signal === undefined) return;
  // A listener added meanwhile takes over: raising again would only call it a second time.
  if (process.listenerCount(signal) > 0) return;
  if (process.platform === 'win32') process.exit(128 + SIGNAL_NUMBERS[signal]);
  process.kill(process.pid, signal);
}

/**
 * Holds SIGINT, SIGTERM and SIGHUP until the returned function is called (safe to call twice).
 *
 * @example
 * const release = holdSignals();
 * try { await rotateAndSave(); } finally { release(); }
 */
export function holdSignals(): () => void {
  if (held === 0 && listeners.size === 0) install();
  held += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held -= 1;
    if (held > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
    raise();
  };
}

/**
 * Resolves once no work is held, or after `boundMs`. A program about to call `process.exit()`
 * (the CLIs after Ctrl-C) waits here first, so an exit never cuts a save short.
 */
export function heldWorkSettled(boundMs: number = SIGNAL_HOLD_BOUND_MS): Promise<void> {
  if (held === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, boundMs);
    idleWaiters.push(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How many pieces of work are held now (tests). */
export function heldWorkCount(): number {
  return held;
}
