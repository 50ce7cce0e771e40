/**
 * Drives the stand-in provider's login over plain HTTP, as a browser would: follows redirects by
 * hand with a cookie jar, fills in the login form, and stops at the redirect to the loopback
 * callback. Tests use it where no browser is needed; the browser tests use real Chromium.
 */
import { DEFAULT_TEST_PASSWORD } from './provider/provider.js';

export interface DriveOptions {
  /** Login name (any works on the stand-in provider). */
  login?: string;
  password?: string;
  /** Press Cancel on the login page instead of logging in. */
  deny?: boolean;
}

const MAX_HOPS = 20;

class CookieJar {
  readonly #cookies = new Map<string, string>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) this.#cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

interface HtmlForm {
  action: string;
  fields: URLSearchParams;
}

/** The first form on a page whose id or action contains `hint`, with its hidden fields. */
function findForm(html: string, hint: string, base: URL): HtmlForm | undefined {
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attributes = match[1] ?? '';
    if (!attributes.includes(hint)) continue;
    const action = /action="([^"]*)"/.exec(attributes)?.[1] ?? base.pathname;
    const fields = new URLSearchParams();
    for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input[1] ?? '')?.[1];
      const value = /value="([^"]*)"/.exec(input[1] ?? '')?.[1] ?? '';
      if (name && /type="hidden"/.test(input[1] ?? '')) fields.set(name, value);
    }
    return { action: new URL(action.replace(/&amp;/g, '&'), base).href, fields };
  }
  return undefined;
}

/**
 * Walks an authorization (or device verification) URL through the provider until it redirects to
 * a URL starting with `stopAt` (returned), or, when `stopAt` is undefined, until a final page
 * (returned as its URL after the last hop).
 */
async function drive(startUrl: string, stopAt: string | undefined, options: DriveOptions): Promise<URL> {
  const jar = new CookieJar();
  let url = new URL(startUrl);
  let init: RequestInit = { method: 'GET' };
  let loggedIn = false;
  let confirmed = false;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
      signal: AbortSignal.timeout(10_000),
    });
    jar.take(response);
    init = { method: 'GET' };
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      if (stopAt !== undefined && url.href.startsWith(stopAt)) return url;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200)
      throw new Error(`provider answered ${response.status} at ${url.pathname}: ${html.slice(0, 300)}`);
    const form = (body: URLSearchParams): RequestInit => ({
      method: 'POST',
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (url.pathname.startsWith('/interaction/') && !loggedIn) {
      const uid = url.pathname.split('/')[2];
      loggedIn = true;
      if (options.deny) {
        url = new URL(`/interaction/${uid}/deny`, url);
        init = form(new URLSearchParams({ action: 'deny' }));
      } else {
        url = new URL(`/interaction/${uid}/login`, url);
        init = form(
          new URLSearchParams({
            login: options.login ?? 'alice@example.test',
            password: options.password ?? DEFAULT_TEST_PASSWORD,
          }),
        );
      }
      continue;
    }
    // A page that submits itself with script (oidc-provider's form_post steps), then the device
    // confirmation form; a browser would submit both.
    const autoSubmit = html.includes('document.forms[0].submit()') ? findForm(html, '', url) : undefined;
    const confirm = autoSubmit ?? (confirmed ? undefined : findForm(html, 'op.deviceConfirmForm', url));
    if (confirm) {
      if (!autoSubmit) confirmed = true;
      url = new URL(confirm.action);
      init = form(confirm.fields);
      continue;
    }
    if (stopAt === undefined) return url;
    throw new Error(`login stopped at ${url.pathname} (${response.status}) without reaching the callback`);
  }
  throw new Error(`login did not finish within ${MAX_HOPS} redirects`);
}

/** Logs in through an authorization URL; returns the callback URL (with `code` and `state`, or `error`). */
export function loginOverHttp(authUrl: string, redirectUri: string, options: DriveOptions = {}): Promise<URL> {
  return drive(authUrl, redirectUri, options);
}

/** Approves (or denies) a device code through `verification_uri_complete`; returns the final page's URL. */
export function approveDeviceOverHttp(verificationUriComplete: string, options: DriveOptions = {}): Promise<URL> {
  return drive(verificationUriComplete, undefined, options);
}
