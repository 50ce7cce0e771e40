// SSH and WSL detection (the browser is not opened there, the URL is shown with a note), from the
// environment and /proc/version given explicitly, from an Environment, and from this process. The
// probe itself: test/internal/environment.test.ts. What the login then does: auth-url.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readProcVersion, remoteOrWsl } from '../../src/flow/remote-session.js';
import { currentEnvironment, probeEnvironment } from '../../src/internal/environment.js';
import { PLAIN_LINUX, WSL2_LINUX } from './flow-for.js';

const WSL1_LINUX =
  'Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #1237-Microsoft Sat Sep 11 14:32:00 PST 2021';
const plain = (): string => PLAIN_LINUX;

type Case = [name: string, env: Record<string, string>, procVersion: () => string | undefined, expected: string | undefined];

describe('remoteOrWsl', () => {
  it.each<Case>([
    ['SSH_CONNECTION', { SSH_CONNECTION: '10.0.0.1 50000 10.0.0.2 22' }, plain, 'an SSH session'],
    ['SSH_TTY', { SSH_TTY: '/dev/pts/3' }, plain, 'an SSH session'],
    ['WSL_DISTRO_NAME', { WSL_DISTRO_NAME: 'Ubuntu-22.04' }, plain, 'WSL'],
    ['/proc/version of WSL 2 ("microsoft")', {}, () => WSL2_LINUX, 'WSL'],
    ['/proc/version of WSL 1 ("Microsoft")', {}, () => WSL1_LINUX, 'WSL'],
    [
      'SSH into WSL: SSH wins (the browser would open on the other side)',
      { SSH_TTY: '/dev/pts/0' },
      () => WSL2_LINUX,
      'an SSH session',
    ],
    ['none of them: a desktop', {}, plain, undefined],
    ['none, and set-but-empty variables', { SSH_CONNECTION: '', SSH_TTY: '', WSL_DISTRO_NAME: '' }, plain, undefined],
    ['none, and no /proc/version (macOS, Windows)', {}, () => undefined, undefined],
    [
      'none, and a reader that throws',
      {},
      () => {
        throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      },
      undefined,
    ],
  ])('%s', (_name, env, procVersion, expected) => {
    expect(remoteOrWsl(env, procVersion)).toBe(expected);
  });

  it('reads /proc/version by default (the real file, when this machine has one)', () => {
    expect(readProcVersion()).toBe(existsSync('/proc/version') ? readFileSync('/proc/version', 'utf8') : undefined);
    const here = /microsoft/i.test(readProcVersion() ?? '') ? 'WSL' : undefined;
    expect(remoteOrWsl({})).toBe(here);
  });

  it('reads an Environment, and this process when given nothing', () => {
    const wslKernel = probeEnvironment({ env: {}, readText: (path) => (path === '/proc/version' ? WSL2_LINUX : undefined) });
    expect(remoteOrWsl(wslKernel)).toBe('WSL');
    expect(remoteOrWsl(probeEnvironment({ env: { SSH_CONNECTION: '10.0.0.1 50000 10.0.0.2 22' } }))).toBe('an SSH session');
    expect(remoteOrWsl()).toBe(remoteOrWsl(currentEnvironment()));
  });
});
