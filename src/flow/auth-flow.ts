/**
 * The interactive login: Auth0 brokered by the backend (backend-contract.md v2, part C). On a
 * desktop, a loopback callback with a 256-bit `state` (openid-client's helpers), PKCE S256 only
 * when the backend advertises `pkce` (the deployed one does not forward a verifier, and a dropped
 * challenge makes Auth0 refuse the code), the browser opened for the user, the code exchanged by
 * the backend. When headless or asked: the device flow, straight to Auth0 with the backend's
 * device application (or through the backend when it advertises `device_flow`).
 */
import type { Dispatcher } from 'undici';
import type { BackendAuth, ExchangeBody, GetAuthUrlBody } from '../auth/backend-auth.js';
import type { SkewClock } from '../auth/clock.js';
import type { HeadlessVerdict } from '../auth/headless.js';
import { envInstructions } from '../auth/stores/env-render.js';
import { DEVICE_FLOW_SOURCE } from '../auth/token-manager.js';
import { type TokenReply, tokenSetFromReply } from '../auth/token-set.js';
import type { TokenSet } from '../auth/token-store.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { type InternalLogger, silentLogger } from '../internal/logger.js';
import { type Auth0Settings, resolveAuth0Settings, resolveDeviceSettings } from './auth0-settings.js';
import { auth0DeviceTransport, backendDeviceTransport, type DeviceVerification, deviceLogin } from './device-login.js';
import { startLoopbackListener } from './loopback-listener.js';
import { readProcVersion, remoteOrWsl } from './remote-session.js';

export type { DeviceVerification };
export { remoteOrWsl };

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

export interface AuthFlowCallbacks {
  /** Shown the authorization URL (always, browser or not). Default: a line on stderr. */
  onAuthUrl?: (url: string, browserOpened: boolean) => void;
  /** Shown the device code and URLs. Default: lines on stderr. */
  onVerification?: (verification: DeviceVerification) => void;
  /** After a headless login: the env-var instructions. Default: printed on stderr. */
  onHeadlessTokens?: (tokens: TokenSet, instructions: string) => void;
  /** Opens a URL in the user's browser. Default: the `open` package. */
  openBrowser?: (url: string) => Promise<void>;
}

export interface AuthFlowOptions extends AuthFlowCallbacks {
  config: ResolvedConfig;
  backendAuth: BackendAuth;
  /** The client's dispatcher: the device flow talks to Auth0 through it (proxies, pools). */
  dispatcher: Dispatcher;
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

const LOGIN_TIMEOUT_MS = 5 * 60_000;
const OPENER_BOUND_MS = 3000;

const stderr = (text: string) => process.stderr.write(`${text}\n`);

async function openWithSystemBrowser(url: string): Promise<void> {
  const { default: open } = await import('open');
  const child = await open(url);
  // `open` resolves once the opener started; a missing opener shows up as an error event.
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    setTimeout(resolve, 200);
  });
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
    const useDevice = options.device ?? this.#options.headless.headless;
    const { reply, callback } = useDevice
      ? { reply: await this.#device(options), callback: undefined }
      : await this.#loopback(options);
    const tokens = tokenSetFromReply(reply, this.#options.clock.nowSeconds());
    // The Python SDK's mark: these tokens refresh as the device application (client_type "device").
    if (useDevice) tokens.auth_source = DEVICE_FLOW_SOURCE;
    if (this.#options.headless.headless) {
      const show = this.#options.onHeadlessTokens ?? ((_t, text) => stderr(text));
      show(tokens, envInstructions(tokens));
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
      : auth0DeviceTransport(await resolveDeviceSettings(config, backendAuth, signal), dispatcher);
    return deviceLogin({ transport, onVerification, signal });
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
    const listener = await startLoopbackListener({
      port: options.port ?? config.callbackPort,
      state,
      timeoutMs: options.timeoutMs ?? LOGIN_TIMEOUT_MS,
      signal: options.signal,
    });
    let closed = false;
    try {
      const body: GetAuthUrlBody = { redirect_uri: listener.redirectUri, scope: settings.scope, state };
      if (challenge) Object.assign(body, { code_challenge: challenge, code_challenge_method: 'S256' });
      const url = await this.#authorizationUrl(settings, body, options.signal);
      const remote = remoteOrWsl(env, this.#options.procVersion ?? readProcVersion);
      let opened = false;
      if ((options.openBrowser ?? !this.#options.headless.headless) && !remote) {
        const opening = (this.#options.openBrowser ?? openWithSystemBrowser)(url).then(
          () => true,
          (error: Error) => {
            this.#logger.debug(`Could not open a browser: ${error.message}`);
            return false;
          },
        );
        // An opener that waits for the whole page (not just the launch) must not hold up the
        // listener: after a short bound, assume the browser is on its way.
        opened = await Promise.race([
          opening,
          new Promise<boolean>((resolve) => setTimeout(resolve, OPENER_BOUND_MS, true).unref()),
        ]);
      }
      const show =
        this.#options.onAuthUrl ??
        ((shown: string, browserOpened: boolean) => {
          stderr(
            browserOpened
              ? `Opened your browser to log in to Mesh. If it did not open, visit:\n${shown}`
              : `To log in to Mesh, open:\n${shown}`,
          );
          if (remote)
            stderr(
              `(This looks like ${remote}: open the URL on this machine's display, or log in with \`npx mesh-auth --headless\`.)`,
            );
        });
      show(url, opened);
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
