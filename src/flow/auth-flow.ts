/**
 * The interactive login: Auth0 brokered by the backend (backend-contract.md v2, part C). On a
 * desktop, a loopback callback with a 256-bit `state` (openid-client's helpers), PKCE S256 only
 * when the backend advertises `pkce` (the deployed one does not forward a verifier, and a dropped
 * challenge makes Auth0 refuse the code), the browser sent to the authorization URL through a
 * one-time local start link (never the URL itself: its `state` must stay off command lines), the
 * code exchanged by the backend. When headless or asked: the device flow, straight to Auth0 with the backend's
 * device application (or through the backend when it advertises `device_flow`).
 */

import type { Dispatcher } from 'undici';
import type { BackendAuth, ExchangeBody, GetAuthUrlBody } from '../auth/backend/backend-auth.js';
import type { TokenSet } from '../auth/stores/token-store.js';
import type { SkewClock } from '../auth/tokens/clock.js';
import { BROWSER_SOURCE, DEVICE_FLOW_SOURCE } from '../auth/tokens/rotation.js';
import { type TokenReply, tokenSetFromReply } from '../auth/tokens/token-set.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { requireLocalMachine } from '../config/runtime.js';
import type { HeadlessVerdict } from '../internal/headless.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import { startTrace } from '../internal/tracing.js';
import { type Auth0Settings, resolveAuth0Settings, resolveDeviceSettings } from './auth0-settings.js';
import { auth0DeviceTransport, backendDeviceTransport, type DeviceVerification, deviceLogin } from './device-login.js';
import { startLoopbackListener } from './loopback-listener.js';
import { readProcVersion, remoteOrWsl } from './remote-session.js';
import { openWithSystemBrowser } from './system-browser.js';

export type { DeviceVerification };
export { remoteOrWsl };

/** Options of `client.login()`: device or browser flow, the callback port, how long to wait, cancellation. */
export interface LoginOptions {
  /** Use the device flow even with a display. @default headless */
  device?: boolean;
  /** Open the browser. @default true unless headless, WSL or SSH */
  openBrowser?: boolean;
  /** Callback port. @default config.callbackPort */
  port?: number;
  /** How long to wait for the browser, ms. @default 5 minutes */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** How a login talks to the person (the `loginUi` option): the link or device code shown, the browser opener, a headless login's follow-up. */
export interface AuthFlowCallbacks {
  /**
   * Shown the login link (always, browser or not): a one-time `http://localhost:<port>/start/...`
   * link that leads to the authorization URL; opened a second time, it stops the login.
   * Default: lines on stderr.
   */
  onAuthUrl?: (url: string, browserOpened: boolean) => void;
  /** Shown the device code and URLs. Default: lines on stderr. */
  onVerification?: (verification: DeviceVerification) => void;
  /**
   * After a headless login: the tokens, and how to take the login elsewhere (the commands that
   * print or write the variables; never the secrets themselves). Default: the text on stderr.
   */
  onHeadlessTokens?: (tokens: TokenSet, instructions: string) => void;
  /**
   * Opens the login link in the user's browser; rejects when it could not (the link is then
   * shown as "open this URL"). Default: the `open` package, not tried on Linux without a display.
   */
  openBrowser?: (url: string) => Promise<void>;
}

export interface AuthFlowOptions extends AuthFlowCallbacks {
  config: ResolvedConfig;
  backendAuth: BackendAuth;
  /** The client's dispatcher: the device flow talks to Auth0 through it (proxies, pools). Made on first need. */
  dispatcher: () => Promise<Dispatcher>;
  clock: SkewClock;
  headless: HeadlessVerdict;
  /** Where SSH and WSL are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads `/proc/version` (WSL says "Microsoft" there); undefined when there is none. @default the file */
  procVersion?: () => string | undefined;
  logger?: InternalLogger;
}

/** A browser login's callback: when it arrived (`performance.now()`) and how long the backend's exchange took, ms. */
export interface CallbackTimings {
  arrivedAt: number;
  exchangeMs: number;
}

/** A login's tokens (not stored yet) and, for a browser login, its callback's timings. */
export interface FlowResult {
  tokens: TokenSet;
  callback: CallbackTimings | undefined;
}

export const LOGIN_TIMEOUT_MS = 5 * 60_000;
/** A custom opener that has not failed within this counts as opened (the default one answers within 1.5 s). */
const OPENER_BOUND_MS = 3000;
/**
 * How long a code is held back after the start link's first fetch when the link went to an
 * opener (start-link.ts): time for the browser to fetch it, so that a program that read the link
 * on the opener's command line and fetched it first is caught by the browser's second fetch.
 */
const START_LINK_HOLD_MS = 3000;

/**
 * After a headless login: where the variables for a server come from. Not the tokens: a
 * terminal's output ends up in scrollback, CI logs and shared screens, so secrets are printed
 * only when asked for.
 */
const HEADLESS_INSTRUCTIONS = [
  'To use this login on a server, in CI or on a platform whose disk does not persist:',
  '  npx mesh-auth print-tokens      prints the tokens as export lines (keep them secret)',
  '  npx mesh-env -o .env            writes them to a .env file only you can read',
  '  npx mesh-env --api-key <name>   writes an API key for one deployment: the form for servers',
].join('\n');

const stderr = (text: string) => process.stderr.write(`${text}\n`);

/** The default `onAuthUrl`: the link on stderr, and over SSH or WSL a word on why no browser opened. */
function showLink(link: string, browserOpened: boolean, remote: string | undefined): void {
  stderr(
    browserOpened
      ? `Opened your browser to log in to Mesh. If it did not open, visit:\n${link}`
      : `To log in to Mesh, open:\n${link}`,
  );
  if (remote)
    stderr(`(This looks like ${remote}: open the URL on this machine's display, or log in with \`npx mesh-auth --headless\`.)`);
}

export class AuthFlow {
  readonly #options: AuthFlowOptions;
  readonly #logger: InternalLogger;
  constructor(options: AuthFlowOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  get #extendedLifetime(): boolean {
    return this.#options.headless.headless && this.#options.config.extendedTokenLifetime;
  }

  /** Runs the login and returns the token set (not stored: the caller stores it). */
  async login(options: LoginOptions = {}): Promise<FlowResult> {
    requireLocalMachine('The login', 'a browser or a terminal to show a code, and a loopback port for the callback');
    const useDevice = options.device ?? this.#options.headless.headless;
    // The `mesh-sdk:login` trace and span (internal/tracing.ts): the store named by its kind only.
    const { tokenStore } = this.#options.config;
    const store = typeof tokenStore === 'string' ? tokenStore : 'custom';
    const trace = startTrace('login', { operation: 'login', loginMethod: useDevice ? 'device' : 'browser', store });
    try {
      const result = await this.#login(options, useDevice);
      trace?.end();
      return result;
    } catch (error) {
      trace?.fail(error);
      throw error;
    }
  }

  async #login(options: LoginOptions, useDevice: boolean): Promise<FlowResult> {
    const { reply, callback } = useDevice
      ? { reply: await this.#device(options), callback: undefined }
      : await this.#loopback(options);
    const tokens = tokenSetFromReply(reply, this.#options.clock.nowSeconds());
    // The Python SDK's mark: these tokens refresh as the device application (client_type "device").
    // A browser login is marked too (Python reads anything but `device_flow` as web): a set without
    // a mark is then one the Python SDK rewrote, which a refused refresh tries as the other app.
    tokens.auth_source = useDevice ? DEVICE_FLOW_SOURCE : BROWSER_SOURCE;
    if (this.#options.headless.headless) {
      const show = this.#options.onHeadlessTokens ?? ((_t, text) => stderr(text));
      show(tokens, HEADLESS_INSTRUCTIONS);
    }
    return { tokens, callback };
  }

  async #device(options: LoginOptions): Promise<TokenReply> {
    const onVerification =
      this.#options.onVerification ??
      ((v: DeviceVerification) => {
        stderr(`To log in to Mesh, open ${v.verificationUri} and enter the code ${v.userCode}`);
        if (v.verificationUriComplete) stderr(`(or open ${v.verificationUriComplete})`);
      });
    const { backendAuth, config, dispatcher } = this.#options;
    const { signal } = options;
    const viaBackend = (await backendAuth.capabilities(signal)).has('device_flow');
    this.#logger.debug(`Device login ${viaBackend ? 'through the backend (device_flow advertised)' : 'straight to Auth0'}.`);
    const transport = viaBackend
      ? backendDeviceTransport(backendAuth)
      : auth0DeviceTransport(await resolveDeviceSettings(config, backendAuth, signal), await dispatcher());
    return deviceLogin({ transport, onVerification, signal });
  }

  /** Opens the link; true when a browser is on its way, false when the opener failed. */
  async #openBrowser(link: string, env: Readonly<Record<string, string | undefined>>): Promise<boolean> {
    const opener = this.#options.openBrowser ?? ((url: string) => openWithSystemBrowser(url, env));
    const opening = opener(link).then(
      () => true,
      (error: Error) => {
        this.#logger.debug(`Could not open a browser: ${error.message}`);
        return false;
      },
    );
    // A custom opener that waits for the whole page (not just the launch) must not hold up the
    // login: one that has not failed within the bound has launched something.
    return Promise.race([opening, new Promise<boolean>((resolve) => setTimeout(resolve, OPENER_BOUND_MS, true).unref())]);
  }

  async #authorizationUrl(settings: Auth0Settings, body: GetAuthUrlBody, signal?: AbortSignal): Promise<string> {
    const fromBackend = await this.#options.backendAuth.authUrl(body, signal);
    if (fromBackend) return fromBackend;
    // The backend does not build it (404): the same URL, built here from the settings.
    const oauth = await import('openid-client');
    const server = { issuer: `${settings.domain}/`, authorization_endpoint: `${settings.domain}/authorize` };
    const configuration = new oauth.Configuration(server, settings.clientId);
    // http reaches here only for a loopback domain (the local stack): the config parser refuses it elsewhere.
    if (settings.domain.startsWith('http://')) oauth.allowInsecureRequests(configuration);
    const params: Record<string, string> = {
      response_type: 'code',
      redirect_uri: body.redirect_uri,
      scope: body.scope,
      state: body.state,
      audience: settings.audience,
    };
    if (body.code_challenge) {
      params.code_challenge = body.code_challenge;
      params.code_challenge_method = 'S256';
    }
    return oauth.buildAuthorizationUrl(configuration, params).href;
  }

  async #loopback(options: LoginOptions): Promise<{ reply: TokenReply; callback: CallbackTimings }> {
    const { config, backendAuth, env = process.env } = this.#options;
    const settings = await resolveAuth0Settings(config, backendAuth, options.signal);
    // openid-client is loaded by the login, not at import: most runs of a program never log in.
    const oauth = await import('openid-client');
    const state = oauth.randomState(); // 256 bits, checked in constant time by the listener
    // PKCE exactly when advertised: a challenge the deployed backend drops makes Auth0 refuse the code.
    const pkce = (await backendAuth.capabilities(options.signal)).has('pkce');
    const verifier = pkce ? oauth.randomPKCECodeVerifier() : undefined;
    const challenge = verifier ? await oauth.calculatePKCECodeChallenge(verifier) : undefined;
    const remote = remoteOrWsl(env, this.#options.procVersion ?? readProcVersion);
    const tryOpener = (options.openBrowser ?? !this.#options.headless.headless) && !remote;
    const listener = await startLoopbackListener({
      port: options.port ?? config.callbackPort,
      state,
      timeoutMs: options.timeoutMs ?? LOGIN_TIMEOUT_MS,
      // Only a link handed to an opener was on a command line other users can read.
      holdMs: tryOpener ? START_LINK_HOLD_MS : 0,
      signal: options.signal,
    });
    let closed = false;
    try {
      const body: GetAuthUrlBody = { redirect_uri: listener.redirectUri, scope: settings.scope, state };
      if (challenge) Object.assign(body, { code_challenge: challenge, code_challenge_method: 'S256' });
      // The authorization URL (with the state) goes to the listener only; everyone else gets the start link.
      const link = listener.startLink(await this.#authorizationUrl(settings, body, options.signal));
      const opened = tryOpener && (await this.#openBrowser(link, env));
      const show = this.#options.onAuthUrl ?? ((shown: string, browserOpened: boolean) => showLink(shown, browserOpened, remote));
      show(link, opened);
      const code = await listener.code;
      const arrivedAt = performance.now();
      try {
        const exchange: ExchangeBody = { code, redirect_uri: listener.redirectUri };
        if (verifier) exchange.code_verifier = verifier;
        if (this.#extendedLifetime) exchange.extended_lifetime = true;
        const reply = await backendAuth.exchange(exchange, options.signal);
        const callback = { arrivedAt, exchangeMs: performance.now() - arrivedAt };
        listener.finish({ ok: true });
        closed = true;
        // The tokens go to the caller now; the listener closes once the browser has its page (2 s at most).
        void listener.close();
        return { reply, callback };
      } catch (error) {
        listener.finish({ ok: false, reason: (error as Error).message });
        throw error;
      }
    } finally {
      // Every other path: closed before the error surfaces, so the port is free for a retry.
      if (!closed) await listener.close();
    }
  }
}
