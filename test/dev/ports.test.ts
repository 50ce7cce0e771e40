// freePort() hands out ports that nothing else on the machine is handed: not the kernel (for an
// outgoing connection's source port or a `listen(0)`), and not another test process's freePort().
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

/**
 * Claims `count` ports in a separate process, which keeps them (a claim lasts as long as its
 * process) until `release` ends its stdin.
 */
async function portsFromAnotherProcess(count: number): Promise<{ ports: number[]; release: () => Promise<void> }> {
  const script = [
    "import { freePort } from './dev/ports.ts';",
    'const ports = [];',
    `for (let i = 0; i < ${count}; i++) ports.push(await freePort());`,
    'console.log(JSON.stringify(ports));',
    'process.stdin.resume();',
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  let stdout = '';
  const ports = await new Promise<number[]>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.endsWith('\n')) done(JSON.parse(stdout) as number[]);
    });
    void exited.then(() => fail(new Error(`the claiming process ended without its ports: ${stdout}`)));
  });
  return {
    ports,
    release: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

describe('freePort', () => {
  it('picks a port below the kernel’s own range, which a listener can bind on both loopback addresses', async () => {
    const port = await freePort();
    expect(port).toBeLessThan(ephemeralStart);
    for (const host of ['127.0.0.1', '::1']) {
      const server = createServer();
      await new Promise<void>((listening, failed) => {
        server.once('error', failed);
        server.listen({ port, host, exclusive: true }, listening);
      });
      await new Promise((closed) => server.close(closed));
    }
  });

  it('never hands the same port to two processes, or twice to one', async () => {
    const [here, first, second] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, () => freePort())),
      portsFromAnotherProcess(100),
      portsFromAnotherProcess(100),
    ]);
    try {
      // All three processes are alive and hold their claims here.
      const all = [...here, ...first.ports, ...second.ports];
      expect(all).toHaveLength(300);
      expect(new Set(all).size).toBe(300);
    } finally {
      await Promise.all([first.release(), second.release()]);
    }
  });
});
