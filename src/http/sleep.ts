import { AbortError } from '../errors/mesh-error.js';

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
