/**
 * The login's one-time start link, `http://localhost:<port>/start/<random>`: what the browser
 * opener gets and what is printed, instead of the authorization URL.
 *
 * Why: the authorization URL carries the `state`, and a URL handed to an opener sits on a command
 * line (`xdg-open <url>`) that every local user can read with `ps`. With the state, another user
 * could send the listener a code of their own, and without PKCE (the deployed backend does not
 * advertise it) this user would be logged in as them. The link answers its first GET with a 302 to
 * the authorization URL; a second GET means two programs opened it, the browser and another one,
 * in either order, and the login is stopped.
 *
 * Another program can fetch the link before the browser does and send its code at once. So when
 * the link was handed to an opener, a code is held back until the link has been out for
 * `holdMs`: the browser's own (second) fetch then still stops the login.
 */
import { randomBytes } from 'node:crypto';
import { LoginError } from '../errors/mesh-error.js';

export type StartVisit =
  /** The first GET: send the browser on, to `location`. */
  | { kind: 'first'; location: string }
  /** A later GET: the link was opened twice. */
  | { kind: 'again' };

export class StartLink {
  /** `/start/` and 256 random bits: not guessable, and worthless once fetched. */
  readonly path = `/start/${randomBytes(32).toString('base64url')}`;
  readonly #holdMs: number;
  readonly #now: () => number;
  #target: string | undefined;
  #firstVisitAt: number | undefined;

  /** `holdMs`: how long after its first fetch a code is held back (0 when the link was only shown). */
  constructor(holdMs: number, now: () => number = () => performance.now()) {
    this.#holdMs = holdMs;
    this.#now = now;
  }

  /** Points the link at the authorization URL; until then the link answers as an unknown path. */
  pointAt(target: string): void {
    this.#target = target;
  }

  /** Records a GET of the link and says what it gets; undefined before the link is pointed (nobody has it yet). */
  visit(): StartVisit | undefined {
    if (this.#target === undefined) return undefined;
    if (this.#firstVisitAt !== undefined) return { kind: 'again' };
    this.#firstVisitAt = this.#now();
    return { kind: 'first', location: this.#target };
  }

  /** How long a code arriving now must still be held, ms: until `holdMs` after the first fetch. */
  holdLeft(): number {
    if (this.#firstVisitAt === undefined) return 0;
    return Math.max(0, this.#firstVisitAt + this.#holdMs - this.#now());
  }
}

/** The login's end when the start link is fetched a second time. */
export function linkOpenedTwice(): LoginError {
  return new LoginError(
    'The login link was opened twice, so the login was stopped. Unless you opened it twice yourself, another program on this machine may be interfering with the login.',
    {
      hint: 'Run `npx mesh-auth` again and open the new link once. If this happens again, log in with a device code instead: `npx mesh-auth --headless`.',
    },
  );
}
