/**
 * Private D-Bus session buses for the keychain tests, each the real thing: dbus-daemon, and
 * gnome-keyring providing the Secret Service on it (unlocked, or then locked). Also a bus socket
 * that accepts connections and never answers, which hangs native keychain calls.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function keychainToolsInstalled(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v dbus-daemon && command -v gnome-keyring-daemon && command -v dbus-send'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** The accounts of mesh-sdk's items in the bus's Secret Service, sorted (secret-tool prints the attributes on stderr, the items on stdout). */
export function keychainAccounts(bus: PrivateBus): string[] {
  const result = spawnSync('secret-tool', ['search', '--all', 'service', 'mesh-sdk'], { env: bus.env, encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('attribute.username'))
    .map((line) => line.split(' = ')[1] as string)
    .sort();
}

export interface PrivateBus {
  address: string;
  directory: string;
  /** The helper environment that reaches this bus and nothing else. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}: ${out}`)));
  });
}

/** Waits until gnome-keyring owns org.freedesktop.secrets on the bus (it prints nothing in --foreground). */
async function waitForSecretService(env: NodeJS.ProcessEnv): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const reply = execFileSync(
      'dbus-send',
      [
        '--session',
        '--dest=org.freedesktop.DBus',
        '--print-reply',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        'string:org.freedesktop.secrets',
      ],
      { env, encoding: 'utf8' },
    );
    if (reply.includes('boolean true')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('gnome-keyring-daemon did not provide org.freedesktop.secrets within 10 s');
}

/** A session bus with no services at all (no .service files: nothing is auto-started). */
export async function startBareBus(): Promise<PrivateBus> {
  const directory = await mkdtemp(join(tmpdir(), 'mesh-dbus-'));
  const config = join(directory, 'bus.conf');
  await writeFile(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=${join(directory, 'bus')}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
  );
  const daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const address = await waitForLine(daemon, /unix:path=[^\n]+/, 'dbus-daemon');
  const children: ChildProcess[] = [daemon];
  const bus: PrivateBus & { children: ChildProcess[] } = {
    address,
    directory,
    children,
    env: { PATH: process.env.PATH, HOME: join(directory, 'home'), DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: directory },
    async stop() {
      for (const child of children) child.kill('SIGKILL');
      await rm(directory, { recursive: true, force: true });
    },
  };
  return bus;
}

/** A bus with gnome-keyring's Secret Service, its login keyring unlocked (or locked after start). */
export async function startKeyringBus(options: { locked?: boolean } = {}): Promise<PrivateBus> {
  const bus = (await startBareBus()) as PrivateBus & { children: ChildProcess[] };
  const data = join(bus.directory, 'data');
  const env = { ...bus.env, XDG_DATA_HOME: data };
  const keyring = spawn(
    'sh',
    [
      '-c',
      `mkdir -p "$HOME" "$XDG_DATA_HOME" && printf %s test-pass | exec gnome-keyring-daemon --unlock --components=secrets --foreground`,
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  bus.children.push(keyring);
  // gnome-keyring-daemon has died on its own in CI (a GLib error: "trap int3 in libglib"), and the
  // keychain calls after that fail for that reason, not the SDK's: say so, with its last words.
  let stopping = false;
  let lastWords = '';
  keyring.stderr?.on('data', (chunk: Buffer) => {
    lastWords = `${lastWords}${chunk}`.slice(-2000);
  });
  keyring.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(
      `gnome-keyring-daemon, this test's Secret Service, died before the test stopped it (${signal ?? `exit code ${code}`}); ` +
        `keychain calls on its bus fail from here on. Its output:\n${lastWords.trim() || '(none)'}\n`,
    );
  });
  await waitForSecretService(env);
  if (options.locked) {
    execFileSync(
      'dbus-send',
      [
        '--session',
        '--dest=org.freedesktop.secrets',
        '--type=method_call',
        '--print-reply',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.Lock',
        'array:objpath:/org/freedesktop/secrets/collection/login',
      ],
      { env, stdio: 'ignore' },
    );
  }
  return {
    ...bus,
    env,
    async stop() {
      stopping = true;
      await bus.stop();
    },
  };
}

/** A unix socket that accepts D-Bus connections and never answers: native calls hang on it. */
export async function startHungBus(): Promise<PrivateBus> {
  const directory = await mkdtemp(join(tmpdir(), 'mesh-hung-bus-'));
  const path = join(directory, 'bus');
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket); // hold it open, read nothing, say nothing
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const address = `unix:path=${path}`;
  return {
    address,
    directory,
    env: { PATH: process.env.PATH, HOME: join(directory, 'home'), DBUS_SESSION_BUS_ADDRESS: address },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}
