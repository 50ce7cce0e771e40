/**
 * Faults a test can inject into the reference backend, matched per request, each for a number of
 * requests: the awkward behaviours real deployments show.
 */
export type Fault =
  /** Answer with this status: 5xx (as JSON, or an HTML page as a proxy sends), or 429 with Retry-After. */
  | { kind: 'status'; status: number; html?: boolean; retryAfter?: string }
  /** Wait this long before the response headers. */
  | { kind: 'slowHeaders'; ms: number }
  /** Send half the body, wait this long, then the rest. */
  | { kind: 'slowBody'; ms: number }
  /** Close the connection before any response, or after the headers and part of the body. */
  | { kind: 'drop'; when: 'before' | 'during' }
  /** End an SSE chat stream abruptly after this many deltas. */
  | { kind: 'cutStream'; afterDeltas: number }
  /** Never answer (until the client gives up or the server closes). */
  | { kind: 'hang' }
  /** Answer with this redirect status, `Location` and an empty body (e.g. to another origin). */
  | { kind: 'redirect'; status: RedirectStatus; location: string };

export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number];

export interface FaultRule {
  fault: Fault;
  /** Which requests: method and/or path prefix. Unset: every request except /__dev. */
  match?: { method?: string; path?: string };
  /** How many matching requests it applies to. @default 1 */
  times?: number;
}

export class FaultQueue {
  #rules: Array<FaultRule & { left: number }> = [];

  add(rule: FaultRule): void {
    this.#rules.push({ ...rule, left: rule.times ?? 1 });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The fault for this request, consuming one use of the first matching rule. */
  take(method: string, path: string, kinds?: ReadonlyArray<Fault['kind']>): Fault | undefined {
    const rule = this.#rules.find(
      (r) =>
        r.left > 0 &&
        (r.match?.method === undefined || r.match.method.toUpperCase() === method) &&
        (r.match?.path === undefined || path.startsWith(r.match.path)) &&
        (kinds === undefined || kinds.includes(r.fault.kind)),
    );
    if (!rule) return undefined;
    rule.left -= 1;
    this.#rules = this.#rules.filter((r) => r.left > 0);
    return rule.fault;
  }
}

/**
 * Why a fault cannot be injected, or undefined when it can. Checked for faults that arrive over
 * HTTP (`/__dev/faults`), where nothing typed them; only the redirect's fields are checked.
 */
export function faultProblem(fault: Fault): string | undefined {
  if (fault.kind !== 'redirect') return undefined;
  if (!(REDIRECT_STATUSES as readonly number[]).includes(fault.status)) {
    return `A redirect fault needs a status of ${REDIRECT_STATUSES.join(', ')}.`;
  }
  if (typeof fault.location !== 'string' || fault.location === '') return 'A redirect fault needs a location.';
  return undefined;
}

/** What a Cloudflare-style proxy shows when the origin misbehaves. */
export function proxyErrorPage(status: number): string {
  return `<!DOCTYPE html><html><head><title>${status}: Web server is returning an unknown error</title></head><body><h1>Error ${status}</h1><p>Web server is returning an unknown error.</p></body></html>`;
}
