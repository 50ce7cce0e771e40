/**
 * `useStack()`: the local stack (dev/stack.ts) for one test file or one describe block.
 *
 *   const stack = useStack();                                  // start in beforeAll, close in afterAll
 *   const stack = useStack({ provider: { accessTokenTtl: 3 } }, { resetAfterEach: true });
 *   const stack = useStack(async () => ({ callbackPorts: [await freePort()] }));
 *
 * Call it where the hooks belong (file top level or inside a describe). It returns a stand-in that
 * forwards every property to the started `Stack`, so a test reads `stack.apiUrl` as before; the
 * options are evaluated inside beforeAll, so a function may pick free ports first.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type Stack, type StackOptions, startStack } from '../../dev/stack.js';

export type StackOptionsSource = StackOptions | (() => StackOptions | Promise<StackOptions>);

export interface UseStackOptions {
  /** `stack.backend.reset()` after each test: settings as started, faults cleared (counters are kept: measure differences). */
  resetAfterEach?: boolean;
}

export function useStack(options: StackOptionsSource = {}, use: UseStackOptions = {}): Stack {
  let started: Stack | undefined;
  beforeAll(async () => {
    started = await startStack(typeof options === 'function' ? await options() : options);
  });
  afterAll(async () => {
    await started?.close();
  });
  if (use.resetAfterEach) {
    afterEach(() => {
      started?.backend.reset();
    });
  }
  return stackProxy(() => started);
}

/**
 * A Proxy, not a copy: the stack only exists once beforeAll ran, and a test module captures the
 * returned object at import time. Touching it earlier (at module or describe level) is a test bug,
 * so it throws saying so instead of a later "cannot read properties of undefined".
 */
function stackProxy(current: () => Stack | undefined): Stack {
  const live = (property: PropertyKey): Stack => {
    const stack = current();
    if (stack === undefined) {
      throw new Error(
        `useStack(): stack.${String(property)} read before the stack started; read it inside a test or hook, not at module or describe level`,
      );
    }
    return stack;
  };
  return new Proxy({} as Stack, {
    get(_target, property) {
      // Not thenable, and inspectable (vitest prints values), even before the start.
      if (current() === undefined && (property === 'then' || typeof property === 'symbol')) return undefined;
      return Reflect.get(live(property), property);
    },
    has: (_target, property) => Reflect.has(live(property), property),
    ownKeys: () => Reflect.ownKeys(live('keys')),
    getOwnPropertyDescriptor: (_target, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(live(property), property);
      // A proxy may only report configurable properties its (empty) target does not have.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    set: (_target, property) => {
      throw new Error(`useStack(): stack.${String(property)} is read-only; the stack belongs to useStack()`);
    },
  });
}
