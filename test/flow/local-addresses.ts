/**
 * For "the login listens on loopback only": this machine's other addresses to knock on, and (on
 * Linux) the addresses the kernel says a port is listening on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Addresses of this machine other than 127.0.0.1 and ::1: every non-internal IPv4 and IPv6 one
 * (link-local ones with their zone), and on Linux 127.0.0.2. Every 127/8 address is this machine
 * there, so a listener on every interface (0.0.0.0, or :: dual-stack) answers on it while one bound
 * to 127.0.0.1 refuses; that keeps the probe possible in a container with no network at all.
 */
export function otherLocalAddresses(): string[] {
  const found: string[] = [];
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      found.push(entry.family === 'IPv6' && entry.scopeid ? `${entry.address}%${name}` : entry.address);
    }
  }
  if (process.platform === 'linux') found.push('127.0.0.2');
  return found;
}

/** Connects to host:port and says what happened: 'connected' or the error code (ECONNREFUSED, ...). */
export function knock(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/**
 * The other addresses (above) that really reach this machine: those a control listening on every
 * interface (:: dual-stack, so IPv4 too) accepts on. A refusal from the login's listener means
 * something only on these. On Linux never empty (127.0.0.2).
 */
export async function reachableOtherAddresses(): Promise<{ reachable: string[]; tried: string[] }> {
  const control = createServer((socket) => socket.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    control.once('error', reject);
    control.listen({ port: 0, host: '::', ipv6Only: false }, () => resolve((control.address() as { port: number }).port));
  });
  try {
    const tried = otherLocalAddresses();
    const reachable: string[] = [];
    for (const address of tried) if ((await knock(address, port)) === 'connected') reachable.push(address);
    return { reachable, tried };
  } finally {
    await new Promise((resolve) => control.close(resolve));
  }
}

/** Whether the kernel lists TCP sockets in /proc/net (Linux). */
export const procNetAvailable = existsSync('/proc/net/tcp');

// /proc/net/tcp{,6}: "sl local_address rem_address st ...", the address as the kernel stores it
// (32-bit words in host order, so byte-reversed on little-endian machines), the port in hex, 0A = LISTEN.
const LISTEN = '0A';
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function wordBytes(hex: string): number[] {
  const bytes = (hex.match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16));
  return littleEndian ? bytes.reverse() : bytes;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) return wordBytes(hex).join('.');
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap(wordBytes);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1); // the URL parser compresses it
}

/** The local addresses the kernel has a TCP socket listening on at `port`, IPv4 and IPv6, sorted. */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue; // IPv6 disabled in this kernel
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [address, portHex] = local.split(':');
      if (address && Number.parseInt(portHex ?? '', 16) === port) found.push(decodeAddress(address));
    }
  }
  return found.sort();
}

/** Whether this machine has the IPv6 loopback (the listener binds ::1 only when it exists). */
export function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((entries) =>
    (entries ?? []).some((entry) => entry.internal && entry.family === 'IPv6' && entry.address === '::1'),
  );
}
