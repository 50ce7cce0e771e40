import { linkSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ports are picked below the kernel's ephemeral range. A port the kernel handed out with
// `listen(0)` goes back into that range when it is closed, and any outgoing connection (over
// 127.0.0.1 or ::1) may take it as its own source port before the listener that wanted it binds:
// under a parallel suite that showed as `callback_port_in_use`. Below the range, only another
// `freePort()` could pick the same port, and a claim file per port shared by every process of this
// user rules that out.

/** The lowest port picked. */
const FIRST = 20_000;
/** Below the range, fewer ports than this: fall back to the kernel's pick. */
const ENOUGH = 1_000;
const ATTEMPTS = 200;

const claimsDirectory = join(tmpdir(), `mesh-sdk-test-ports-${process.getuid?.() ?? 'user'}`);
const claimed: string[] = [];

/**
 * A TCP port free on both loopback addresses now and not handed out again to this machine's other
 * processes (for listeners that must be registered with the provider up front). The claim lasts as
 * long as this process.
 */
export async function freePort(): Promise<number> {
  const last = ephemeralRangeStart() - 1;
  if (last - FIRST < ENOUGH) return kernelPort();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (last - FIRST + 1));
    if (!claim(port)) continue;
    if ((await bindable(port, '127.0.0.1')) && (await bindable(port, '::1'))) return port;
  }
  throw new Error(`freePort: no free port between ${FIRST} and ${last} after ${ATTEMPTS} tries.`);
}

/** Where the kernel starts handing out ports of its own (Linux says; elsewhere IANA's 49152). */
function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) ? first : 49_152;
  } catch {
    return 49_152;
  }
}

/** Claims `port` for this process unless a live process has; an ended process's claim is taken over. */
function claim(port: number): boolean {
  const file = join(claimsDirectory, String(port));
  try {
    mkdirSync(claimsDirectory, { recursive: true, mode: 0o700 });
    // Linked into place whole: a claim is never seen empty, which would read as an ended process's.
    const draft = `${file}.${process.pid}.draft`;
    writeFileSync(draft, String(process.pid), { mode: 0o600 });
    try {
      linkSync(draft, file);
    } finally {
      unlinkSync(draft);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !underLock(file, () => writeFileSync(file, String(process.pid)))) {
      return false;
    }
  }
  if (claimed.push(file) === 1) process.once('exit', releaseClaims);
  return true;
}

/**
 * Runs `change` on a claim whose process has ended, under a lock, so that two processes never both
 * take the same claim over (one's unlink would remove the other's new claim). False when the claim
 * is live or another process holds the lock.
 */
function underLock(file: string, change: () => void): boolean {
  const lock = `${file}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    return false;
  }
  try {
    if (isAlive(Number(readFileSync(file, 'utf8')))) return false;
    change();
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(lock);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseClaims(): void {
  for (const file of claimed) {
    try {
      unlinkSync(file);
    } catch {
      // already taken over or removed
    }
  }
}

/**
 * Removes the claims of processes that have ended. A test runner may kill its workers, so their
 * `exit` never runs; the test suite calls this when it ends.
 */
export function releaseEndedClaims(): void {
  let ports: string[];
  try {
    ports = readdirSync(claimsDirectory);
  } catch {
    return;
  }
  for (const name of ports) {
    if (/^\d+$/.test(name)) underLock(join(claimsDirectory, name), () => unlinkSync(join(claimsDirectory, name)));
  }
}

/** Whether a listener could bind `host:port` now; a machine without that address family counts as yes. */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT'),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The kernel's pick: free now, though it may be handed out again. */
async function kernelPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
