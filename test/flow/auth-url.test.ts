// The browser login always shows its authorization URL, whether the browser opened, failed to
// open, or was not tried (SSH, WSL): to `onAuthUrl` when given, else on stderr (read from a real
// child process). The provider's login is driven over HTTP from the URL shown, so the URL shown
// is proven to be the working one. Browser-free; the Chromium runs: browser-login.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loginOverHttp } from '../../dev/login-driver.js';
import { freePort } from '../../dev/ports.js';
import { useStack } from '../helpers/stack.js';
import { flowFor, PLAIN_LINUX, WSL2_LINUX } from './flow-for.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = resolve(import.meta.dirname, 'login-child.ts');
const EXIT_BOUND_MS = 1500;

interface Case {
  name: string;
  env: Record<string, string>;
  procVersion: string;
  opener: 'ok' | 'fail';
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

describe('the authorization URL is always shown', () => {
  const ports: number[] = [];
  let home: string;
  const stack = useStack(async () => {
    for (let i = 0; i < CASES.length * 2; i++) ports.push(await freePort());
    return { callbackPorts: ports };
  });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'mesh-auth-url-'));
  });

  /** Logs in at the provider from the URL shown, as the person would; the callback reaches the listener. Returns the final page's text. */
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
      expect(new URL(url).searchParams.get('redirect_uri')).toBe(`http://localhost:${port}/callback`);
      expect(opened).toBe(c.opened);
      expect(openedUrls).toEqual(c.tried ? [url] : []);
      expect(await page).toMatch(/Logged in to Mesh/);
    });
  });

  describe('by the default UI, on stderr', () => {
    function startChild(c: Case, port: number): ChildProcess {
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
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    }

    it.each(CASES)('$name', async (c) => {
      const port = ports.shift() as number;
      const child = startChild(c, port);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk) => {
        stdout += chunk;
      });
      const exited = new Promise<number | null>((resolveExit) => child.once('close', resolveExit));
      const urlPattern = new RegExp(`^${stack.auth0.domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/authorize\\?\\S+$`, 'm');
      try {
        const url = await new Promise<string>((resolveUrl, reject) => {
          const timer = setTimeout(() => reject(new Error(`no authorization URL on stderr within 20 s; got: ${stderr}`)), 20_000);
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
        // The URL on stderr is the one that logs in.
        expect(await completeLogin(url, port)).toMatch(/Logged in to Mesh/);
        // Done once the browser has its page: no timer of the listener's holds the script open
        // (a 30 s one did, then the 2 s grace for a page already served).
        let bound: NodeJS.Timeout | undefined;
        const ended = await Promise.race([
          exited,
          new Promise((resolveBound) => {
            bound = setTimeout(resolveBound, EXIT_BOUND_MS, 'still running');
          }),
        ]);
        clearTimeout(bound);
        expect(ended).toBe(0);
        expect(stdout).toMatch(/^LOGGED_IN$/m);
        expect(stderr.split('\n').filter((line) => line === url)).toHaveLength(1);
        const intro = c.opened
          ? `Opened your browser to log in to Mesh. If it did not open, visit:\n${url}\n`
          : `To log in to Mesh, open:\n${url}\n`;
        expect(stderr).toContain(intro);
        if (c.note) expect(stderr).toMatch(c.note);
        else expect(stderr).not.toMatch(/This looks like/);
        expect(stdout.includes(`OPENED ${url}\n`)).toBe(c.tried && c.opener === 'ok');
      } finally {
        child.kill();
      }
    });
  });
});
