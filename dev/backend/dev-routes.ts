/**
 * `/__dev/*`: the test controls of the reference backend over HTTP, for tests and tools in
 * other processes (soak runs, CLI tests). Not part of the contract.
 */
import type { BackendSettings, Route } from './context.js';
import { type FaultRule, faultProblem } from './faults.js';
import { HttpError } from './http.js';

export const devRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/__dev/counters',
    handler: async (_r, backend) => ({
      status: 200,
      body: { backend: backend.counters, provider: backend.providerCounters?.() ?? null },
    }),
  },
  {
    method: 'GET',
    pattern: '/__dev/settings',
    handler: async (_r, backend) => ({ status: 200, body: backend.settings }),
  },
  {
    method: 'POST',
    pattern: '/__dev/settings',
    handler: async ({ body }, backend) => {
      const patch = (body ?? {}) as Partial<BackendSettings>;
      for (const [key, value] of Object.entries(patch)) {
        const current = (backend.settings as unknown as Record<string, unknown>)[key];
        if (current === undefined || typeof current !== typeof value || Array.isArray(current) !== Array.isArray(value)) {
          throw new HttpError(400, `Unknown setting or wrong type: ${key}.`);
        }
      }
      Object.assign(backend.settings, patch);
      return { status: 200, body: backend.settings };
    },
  },
  {
    method: 'POST',
    pattern: '/__dev/faults',
    handler: async ({ body }, backend) => {
      const rule = body as FaultRule;
      if (typeof rule?.fault?.kind !== 'string') throw new HttpError(400, 'Send {"fault": {"kind": ...}}.');
      const problem = faultProblem(rule.fault);
      if (problem !== undefined) throw new HttpError(400, problem);
      backend.faults.add(rule);
      return { status: 200, body: { added: true } };
    },
  },
];
