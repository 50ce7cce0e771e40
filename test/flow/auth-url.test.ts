// The browser login always shows its login link, whether the browser opened, failed to open, or
// was not tried (SSH, WSL): to `onAuthUrl` when given, else on stderr (read from a real child
// process). The link is the listener's one-time start link, never the authorization URL: its
// state must stay off the opener's command line. The provider's login is driven over HTTP from
// the link shown, so the link shown is proven to be the working one. Browser-free; the Chromium
// runs: browser-login.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loginOverHttp } from '../../dev/login-driver.js';
import { freePort } from '../../dev/ports.js';
import { scratchDir } from '../helpers/scratch.js';
import { useStack } from '../helpers/stack.js';
import { flowFor, PLAIN_LINUX, WSL2_LINUX } from './flow-for.js';
import { type RecordingOpener, recordingOpener } from './recording-opener.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = resolve(import.meta.dirname, 'login-child.ts');
/** Well under the 30 s a leftover listener timer held the process for; generous for a loaded machine. */
const EXIT_BOUND_MS = 10_000;

/** The start link of the listener on `port`: no query, so no state. */
const startLink = (port: number) => new RegExp(`^http://localhost:${port}/start/[A-Za-z0-9_-]{43}$`);

interface Case {
  name: string;
  env: Record<string, string>;
  procVersion: string;
  opener: 'ok' | 'fail' | 'system';
  /** For the system opener (xdg-open with a stand-in browser): a display or not, and how the browser exits. */
  system?: { display: boolean; exit?: number; delaySeconds?: number };
  /** Whether the browser is tried at all. */
  tried: boolean;
  /** What the flow reports: the browser opened. */
  opened: boolean;
  /** The SSH/WSL note under the URL. */
  note?: RegExp;
}

const SSH_NOTE =
  /^\(This looks like an SSH session: open the URL on this machine's display, or log in with `npx mesh-auth --headless`\.\)$/m;
const WSL_NOTE =
  /^\(This looks like WSL: open the URL on this machine's display, or log in with `npx mesh-auth --headless`\.\)$/m;
const CASES: Case[] = [
  { name: 'the opener succeeds', env: {}, procVersion: PLAIN_LINUX, opener: 'ok', tried: true, opened: true },
  { name: 'the opener fails', env: {}, procVersion: PLAIN_LINUX, opener: 'fail', tried: true, opened: false },
  {
    name: 'over SSH (SSH_CONNECTION)',
    env: { SSH_CONNECTION: '10.0.0.1 50000 10.0.0.2 22' },
    procVersion: PLAIN_LINUX,
    opener: 'ok',
    tried: false,
    opened: false,
    note: SSH_NOTE,
  },
  {
    name: 'over SSH (SSH_TTY)',
    env: { SSH_TTY: '/dev/pts/3' },
    procVersion: PLAIN_LINUX,
    opener: 'ok',
    tried: false,
    opened: false,
    note: SSH_NOTE,
  },
  {
    name: 'under WSL (WSL_DISTRO_NAME)',
    env: { WSL_DISTRO_NAME: 'Ubuntu' },
    procVersion: PLAIN_LINUX,
    opener: 'ok',
    tried: false,
    opened: false,
    note: WSL_NOTE,
  },
  {
    name: 'under WSL (/proc/version says microsoft)',
    env: {},
    procVersion: WSL2_LINUX,
    opener: 'ok',
    tried: false,
    opened: false,
    note: WSL_NOTE,
  },
];

// The default opener, for real: the `open` package's xdg-open, which starts $BROWSER. Linux only.
const SYSTEM_CASES: Case[] =
  process.platform !== 'linux'
    ? []
    : [
        {
          // Regression: xdg-open ran anyway (and found a text browser, or nothing) and the login said "Opened your browser".
          name: 'the system opener without a display: not even tried',
          env: {},
          procVersion: PLAIN_LINUX,
          opener: 'system',
          system: { display: false },
          tried: false,
          opened: false,
        },
        {
          // Regression: an opener still running after 200 ms counted as a browser, whatever its exit code.
          name: 'the system opener fails (xdg-open exits non-zero after a moment)',
          env: {},
          procVersion: PLAIN_LINUX,
          opener: 'system',
          system: { display: true, exit: 1, delaySeconds: 0.3 },
          tried: true,
          opened: false,
        },
        {
          name: 'the system opener succeeds (xdg-open exits 0)',
          env: {},
          procVersion: PLAIN_LINUX,
          opener: 'system',
          system: { display: true, exit: 0 },
          tried: true,
          opened: true,
        },
      ];

describe('the login link is always shown', () => {
  const ports: number[] = [];
  let home: string;
  const stack = useStack(async () => {
    for (let i = 0; i < CASES.length * 2 + SYSTEM_CASES.length; i++) ports.push(await freePort());
    return { callbackPorts: ports };
  });

  beforeAll(async () => {
    home = await scratchDir('mesh-auth-url-');
  });

  /** Logs in at the provider from the link shown, as the person would; the callback reaches the listener. Returns the final page's text. */
  async function completeLogin(url: string, port: number): Promise<string> {
    const callback = await loginOverHttp(url, `http://localhost:${port}/callback`);
    // Follows the listener's 302 to /done: the page the browser would show.
    return (await fetch(callback)).text();
  }

  describe('to onAuthUrl', () => {
    it.each(CASES)('$name', async (c) => {
      const port = ports.shift() as number;
      const shown: Array<[string, boolean]> = [];
      const openedUrls: string[] = [];
      let page: Promise<string> | undefined;
      const { flow, close } = flowFor(
        { env: { ...stack.env, ...c.env }, callbackPort: port, procVersion: c.procVersion },
        {
          openBrowser: async (url) => {
            openedUrls.push(url);
            if (c.opener === 'fail') throw new Error('xdg-open: no method available');
          },
          onAuthUrl: (url, opened) => {
            shown.push([url, opened]);
            page = completeLogin(url, port);
          },
        },
      );
      try {
        const { tokens } = await flow.login({ timeoutMs: 20_000 });
        expect(tokens.access_token).toEqual(expect.any(String));
      } finally {
        await close();
      }
      expect(shown).toHaveLength(1);
      const [url, opened] = shown[0] as [string, boolean];
      expect(url).toMatch(startLink(port));
      expect(opened).toBe(c.opened);
      expect(openedUrls).toEqual(c.tried ? [url] : []);
      expect(await page).toMatch(/Logged in to Mesh/);
    });
  });

  describe('by the default UI, on stderr', () => {
    function startChild(c: Case, port: number, opener: RecordingOpener | undefined): ChildProcess {
      return spawn(process.execPath, ['--import', 'tsx', CHILD, c.opener], {
        cwd: ROOT,
        // Only what the case means: none of this machine's own SSH_*/WSL_* variables.
        env: {
          PATH: process.env.PATH,
          HOME: home,
          ...stack.env,
          AUTH0_CALLBACK_PORT: String(port),
          MESH_CHILD_PROC_VERSION: c.procVersion,
          ...c.env,
          ...opener?.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }

    it.each([...CASES, ...SYSTEM_CASES])('$name', async (c) => {
      const port = ports.shift() as number;
      const opener = c.system ? await recordingOpener(c.system) : undefined;
      const child = startChild(c, port, opener);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk) => {
        stdout += chunk;
      });
      const exited = new Promise<number | null>((resolveExit) => child.once('close', resolveExit));
      const urlPattern = new RegExp(`^http://localhost:${port}/start/\\S+$`, 'm');
      try {
        const url = await new Promise<string>((resolveUrl, reject) => {
          const timer = setTimeout(() => reject(new Error(`no login link on stderr within 20 s; got: ${stderr}`)), 20_000);
          void exited.then((code) => {
            clearTimeout(timer);
            reject(new Error(`the login process ended (${code}) before showing a URL; stdout: ${stdout}; stderr: ${stderr}`));
          });
          child.stderr?.on('data', (chunk) => {
            stderr += chunk;
            const match = urlPattern.exec(stderr);
            if (match) {
              clearTimeout(timer);
              resolveUrl(match[0]);
            }
          });
        });
        // The link on stderr is the one that logs in.
        expect(url).toMatch(startLink(port));
        expect(await completeLogin(url, port)).toMatch(/Logged in to Mesh/);
        // Done once the browser has its page: no timer of the listener's holds the script open
        // (a 30 s one did, then the 2 s grace for a page already served). The child names any long
        // timer that fired after its login ended; the bound on its exit, well under 30 s, is for
        // anything else that would keep it running (a server left listening, a timer never cleared).
        let bound: NodeJS.Timeout | undefined;
        const ended = await Promise.race([
          exited,
          new Promise((resolveBound) => {
            bound = setTimeout(resolveBound, EXIT_BOUND_MS, 'still running');
          }),
        ]);
        clearTimeout(bound);
        expect(stdout).toMatch(/^LOGGED_IN$/m);
        expect(ended).toBe(0);
        expect(stdout).toMatch(/^WAITED_FOR none$/m);
        expect(stderr.split('\n').filter((line) => line === url)).toHaveLength(1);
        const intro = c.opened
          ? `Opened your browser to log in to Mesh. If it did not open, visit:\n${url}\n`
          : `To log in to Mesh, open:\n${url}\n`;
        expect(stderr).toContain(intro);
        if (c.note) expect(stderr).toMatch(c.note);
        else expect(stderr).not.toMatch(/This looks like/);
        if (opener) {
          // What reached xdg-open's command line: the start link only (retried once by xdg-open after a failure).
          const handed = await opener.opened();
          expect(handed.length > 0).toBe(c.tried);
          for (const seen of handed) expect(seen).toBe(url);
        } else {
          expect(stdout.includes(`OPENED ${url}\n`)).toBe(c.tried && c.opener === 'ok');
        }
      } finally {
        child.kill();
      }
    });
  });
});
