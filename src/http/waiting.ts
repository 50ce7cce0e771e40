/** Waiting with one's own signal: on a timer, or on shared work that goes on for the others. */
import { AbortError } from '../errors/mesh-error.js';

/** `promise`, or an AbortError (saying `what`) as soon as `signal` fires; the promise itself is not cancelled. */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what = 'The wait was aborted.',
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortError(what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Waits `ms`, or rejects with AbortError (saying `what`) as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal, what = 'The wait was aborted.'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(what));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(what));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
