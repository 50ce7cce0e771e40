/**
 * Contract part B `idempotency_key`: a POST with `Idempotency-Key` is processed once per key and
 * caller for 24 h; a repeat gets the first reply, marked `Idempotent-Replayed: true`. Here: the
 * scope a reply is remembered under, the replayed answer, and counting the header.
 */
import type { IncomingMessage } from 'node:http';
import type { Backend, Principal, Route } from './context.js';
import type { Reply } from './http.js';

/** Counts the header per route whether or not the capability is on, so a test can tell a client sent none. */
export function countIdempotencyKey(backend: Backend, req: IncomingMessage, routeKey: string): void {
  if (req.headers['idempotency-key'] === undefined) return;
  const counted = backend.counters.idempotencyKeys;
  counted[routeKey] = (counted[routeKey] ?? 0) + 1;
}

export interface IdempotentRequest {
  req: IncomingMessage;
  route: Route;
  principal: Principal | undefined;
  body: unknown;
}

/**
 * The scope this request's reply is remembered under, or undefined when it is not idempotent (not
 * a POST, no key, or the capability off). The scope names the caller: the principal, or for a
 * route without credentials what the route reads from the body (`/auth/refresh-token`: its
 * refresh token), so the same key from another caller is processed, never answered with another
 * caller's reply.
 */
export function idempotencyScope(backend: Backend, { req, route, principal, body }: IdempotentRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  if (req.method !== 'POST' || !backend.has('idempotency_key') || typeof key !== 'string' || key === '') return undefined;
  const caller = principal?.sub ?? route.idempotencyCaller?.(body) ?? '-';
  return `${caller} ${route.pattern} ${key}`;
}

/** An earlier reply, answered again. */
export function replayOf(reply: Reply): Reply {
  return { ...reply, headers: { ...reply.headers, 'idempotent-replayed': 'true' } };
}
