/**
 * undici in the Worker build (tsup.config.ts resolves `undici` here for dist/worker.js): a Worker
 * cannot load undici (it needs node:net and node:assert), and the Worker entry sends through fetch
 * instead. Only what needs an undici dispatcher of its own reaches these (the device login, which
 * config/runtime.ts refuses first), and gets a typed error, not a stack trace from a dependency.
 */
import { UnsupportedRuntimeError } from '../errors/mesh-error.js';

function unavailable(): never {
  throw new UnsupportedRuntimeError('An undici dispatcher needs Node.js, Bun or Deno; an edge Worker has none.', {
    hint: 'In a Worker, leave the dispatcher option out: mesh-sdk sends through fetch there.',
  });
}

export const request: typeof import('undici').request = unavailable;
export const getGlobalDispatcher: typeof import('undici').getGlobalDispatcher = unavailable;

export class Agent {
  constructor() {
    unavailable();
  }
}

export class EnvHttpProxyAgent extends Agent {}
