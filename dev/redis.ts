/**
 * A real Redis for tests and the fleet soak: Debian's `redis-server` on a free loopback port with
 * its own temp data dir, persistence selectable (`appendonly` on or off), and the faults the tests
 * need: a clean stop, a restart on the same port (with or without its data), a SIGKILL.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface RedisServerOptions {
  /** Append-only file on (`--appendonly yes`): the data survives a restart. @default false */
  persistence?: boolean;
  /** `requirepass`: the URL then carries the password. */
  password?: string;
}

export interface RedisServer {
  /** redis://[:password@]127.0.0.1:<port>/0 */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stops the server (SIGTERM, waits for exit) and removes its data dir. */
  stop(): Promise<void>;
  /** Stops it (SIGTERM: an AOF server keeps its data) and starts it again on the same port. */
  restart(): Promise<void>;
  /** SIGKILLs it (no shutdown at all); `start()` brings it back. */
  kill(): Promise<void>;
  /** Starts it again after `kill()` or `halt()`. */
  start(): Promise<void>;
  /** Stops it (SIGTERM) without removing its data dir: Redis "down" until `start()`. */
  halt(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered (a hung or very slow Redis) until `resume()`. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
}

/** Where `redis-server` is, or a clear error: the Redis tests never skip (CI installs it). */
export function redisServerBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('redis-server is not installed: the Redis token store tests need it (apt-get install redis-server).');
  }
}

/** Answers once the server replies +PONG to PING (not LOADING), or rejects after `ms`. */
async function waitForPong(port: number, password: string | undefined, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pingOnce(port, password)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function pingOnce(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('+PONG')) done(true);
      else if (reply.includes('-')) done(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a redis-server for one test file. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const dataDir = await mkdtemp(join(tmpdir(), 'mesh-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    '--save',
    '',
    '--appendonly',
    options.persistence ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    '--logfile',
    '',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  let child: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    log = '';
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout?.on('data', (chunk) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    started.stderr?.on('data', (chunk) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    child = started;
    try {
      await waitForPong(port, options.password, 10_000);
    } catch (error) {
      started.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${log}`);
    }
  };
  const halt = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    running.kill('SIGTERM');
    await exited(running);
  };

  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}/0`,
    port,
    dataDir,
    start,
    halt,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async restart() {
      await halt();
      await start();
    },
    async kill() {
      if (!child) return;
      const running = child;
      child = undefined;
      running.kill('SIGKILL');
      await exited(running);
    },
    async stop() {
      await halt();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
