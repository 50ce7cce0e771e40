// useStack() itself: the stand-in refuses to be read before beforeAll, then forwards to the
// started stack; options (a function too) are evaluated inside beforeAll; resetAfterEach resets.
import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';
import { useStack } from './stack.js';

describe('useStack() with a function for options and resetAfterEach', () => {
  let port = 0;
  let evaluated = false;
  const stack = useStack(
    async () => {
      evaluated = true;
      port = await freePort();
      return { callbackPorts: [port], backend: { capabilities: ['request_id'] } };
    },
    { resetAfterEach: true },
  );
  // At collection time: nothing started, nothing evaluated, and a read says what went wrong.
  const early = (() => {
    try {
      return stack.apiUrl;
    } catch (error) {
      return error as Error;
    }
  })();
  const evaluatedAtCollection = evaluated;

  it('throws a clear Error when read before beforeAll, and evaluates the options inside it', () => {
    expect(early).toBeInstanceOf(Error);
    expect((early as Error).message).toMatch(/stack\.apiUrl read before the stack started/);
    expect(evaluatedAtCollection).toBe(false);
    expect(evaluated).toBe(true);
  });

  it('forwards every property to the started stack, with the options given', async () => {
    expect(stack.apiUrl).toBe(stack.backend.url);
    expect(stack.env.MESH_API_URL).toBe(stack.apiUrl);
    expect(stack.provider.settings).toBeDefined();
    expect('close' in stack).toBe(true);
    expect(Object.keys({ ...stack })).toEqual(expect.arrayContaining(['provider', 'backend', 'apiUrl', 'env', 'close']));
    const config = (await (await fetch(`${stack.apiUrl}/auth/config`)).json()) as { capabilities?: string[] };
    expect(config.capabilities).toEqual(['request_id']);
    expect(port).toBeGreaterThan(0);
    stack.backend.settings.capabilities = [];
  });

  it('reset the backend after the previous test', () => {
    expect(stack.backend.settings.capabilities).toEqual(['request_id']);
  });

  it('is read-only: the stack belongs to useStack()', () => {
    expect(() => {
      (stack as { apiUrl: string }).apiUrl = 'http://elsewhere';
    }).toThrow(/read-only/);
  });
});
