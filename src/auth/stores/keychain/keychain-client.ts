/**
 * Talks to the keychain helper process: one child for the life of the process (spawned on first
 * use, never keeping the program alive), every call bounded in time. A call that overstays kills
 * the child and marks the keychain unavailable, so a hung D-Bus never hangs the program.
 *
 * "Never keeping the program alive": between calls the child, its IPC channel AND its stderr pipe
 * are unref'd (`child.unref()` alone leaves the pipes holding the event loop, so a script on a
 * desktop never exited). During a call the channel is ref'd again, so an answer is awaited; the
 * call's own timer bounds that wait.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { currentRuntime } from '../../../config/runtime.js';
import { KeychainError } from '../../../errors/mesh-error.js';
import { KEYCHAIN_CHILD_SOURCE } from './keychain-child.js';

export type KeychainOperation = 'get' | 'set' | 'delete';

/** The three calls a keychain store needs; implemented over the helper process. */
export interface KeychainBackend {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export interface KeychainClientOptions {
  service: string;
  /** Bound on each call (including starting the helper), ms. @default 3000 */
  timeoutMs?: number;
  /** Environment of the helper (D-Bus address, ...). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** The native binding the helper loads. @default findKeychainBinding() */
  binding?: KeychainBinding;
}

/**
 * A module the helper process `require`s: `napi` has @napi-rs/keyring's `Entry` class, `keytar`
 * keytar's `getPassword`/`setPassword`/`deletePassword(service, account)` functions.
 */
export interface KeychainBinding {
  path: string;
  kind: 'napi' | 'keytar';
}

/** Finds the native binding: @napi-rs/keyring, else keytar when that is the one installed. */
export function findKeychainBinding(): KeychainBinding | undefined {
  const require = createRequire(import.meta.url);
  for (const [name, kind] of [
    ['@napi-rs/keyring', 'napi'],
    ['keytar', 'keytar'],
  ] as const) {
    try {
      return { path: require.resolve(name), kind };
    } catch {}
  }
  return undefined;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class KeychainClient implements KeychainBackend {
  readonly #options: Required<Omit<KeychainClientOptions, 'binding'>> & { binding?: KeychainBinding };
  #child: ChildProcess | undefined;
  #ready: Promise<void> | undefined;
  #broken: KeychainError | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(options: KeychainClientOptions) {
    // Not a spread: an explicit `timeoutMs: undefined` must not erase the default.
    this.#options = {
      service: options.service,
      timeoutMs: options.timeoutMs ?? 3000,
      env: options.env ?? process.env,
      binding: options.binding,
    };
  }

  get(account: string): Promise<string | null> {
    return this.#call('get', account) as Promise<string | null>;
  }

  async set(account: string, value: string): Promise<void> {
    await this.#call('set', account, value);
  }

  async delete(account: string): Promise<boolean> {
    return Boolean(await this.#call('delete', account));
  }

  /** Stops the helper (tests; the helper never keeps a program alive anyway). */
  close(): void {
    this.#child?.kill();
    this.#child = undefined;
  }

  #fail(error: KeychainError): KeychainError {
    this.#broken = error;
    this.close();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
    return error;
  }

  #start(): Promise<void> {
    const binding = this.#options.binding ?? findKeychainBinding();
    if (!binding) {
      return Promise.reject(
        this.#fail(
          new KeychainError('No keychain binding is installed (@napi-rs/keyring).', {
            hint: 'Install @napi-rs/keyring, or set MESH_TOKEN_STORE=file.',
          }),
        ),
      );
    }
    const child = spawn(process.execPath, ['-e', KEYCHAIN_CHILD_SOURCE], {
      env: {
        ...this.#options.env,
        MESH_KEYRING_MODULE: binding.path,
        MESH_KEYRING_KIND: binding.kind,
        MESH_KEYRING_SERVICE: this.#options.service,
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.#child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    // The stderr pipe is only read for error messages: it must never hold the event loop (the
    // 'exit' handler below still runs while the program is alive for other reasons).
    (child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
    child.on('message', (message: { id?: number; ok?: boolean; result?: unknown; message?: string }) => {
      if (message.id === undefined) return;
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      this.#idle();
      if (message.ok) pending.resolve(message.result);
      else
        pending.reject(
          new KeychainError(`The keychain refused: ${message.message}`, { hint: likelyCause(message.message ?? '') }),
        );
    });
    child.on('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#fail(
        new KeychainError(
          `The keychain helper stopped (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').at(-1) ?? ''}`,
          {
            hint: likelyCause(stderr),
          },
        ),
      );
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(this.#fail(new KeychainError('The keychain helper did not start in time.', { hint: likelyCause('') }))),
        this.#options.timeoutMs,
      );
      child.once('message', () => {
        clearTimeout(timer);
        this.#idle();
        resolve();
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(
          this.#fail(
            new KeychainError(`Could not start the keychain helper: ${error.message}`, { cause: error, hint: startHint(error) }),
          ),
        );
      });
    });
  }

  /** Lets the program exit while no keychain call is pending. */
  #idle(): void {
    if (this.#pending.size > 0) return;
    this.#child?.unref();
    (this.#child?.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  async #call(op: KeychainOperation, account: string, value?: string): Promise<unknown> {
    if (this.#broken) throw this.#broken;
    this.#ready ??= this.#start();
    await this.#ready;
    const child = this.#child;
    if (!child || this.#broken) throw this.#broken ?? new KeychainError('The keychain helper is not running.');
    child.ref();
    (child.channel as { ref?: () => void } | undefined)?.ref?.();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          this.#fail(
            new KeychainError(`The keychain did not answer within ${this.#options.timeoutMs} ms.`, {
              hint: 'The Secret Service (D-Bus) seems hung. Tokens go to ~/.mesh/token.json instead; set MESH_TOKEN_STORE=file to skip the keychain.',
            }),
          ),
        );
      }, this.#options.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      child.send({ id, op, account, value });
    });
  }
}

/**
 * What to do when the helper could not be started. Deno refuses to start a process without run
 * permission (`NotCapable`, "Requires run access"): the keychain then needs `--allow-run`; the
 * native module loads in the helper, so `--allow-ffi` is not needed.
 */
function startHint(error: Error): string | undefined {
  if (currentRuntime() === 'Deno' && (error.name === 'NotCapable' || /requires run access/i.test(error.message))) {
    return 'Deno reaches the OS keychain through a helper process: run with --allow-run (or -A), or set MESH_TOKEN_STORE=file.';
  }
  return undefined;
}

/** The likely cause of a keychain failure, in words a user can act on. */
export function likelyCause(message: string): string {
  if (/autolaunch|DBUS_SESSION_BUS_ADDRESS|Failed to connect to socket|No such file/i.test(message)) {
    return 'No D-Bus session is reachable (common over SSH, in containers and CI). Tokens go to ~/.mesh/token.json; set MESH_TOKEN_STORE=file to say so.';
  }
  if (/org\.freedesktop\.secrets|ServiceUnknown/i.test(message)) {
    return 'No Secret Service is running (install and start gnome-keyring or KeePassXC). Tokens go to ~/.mesh/token.json meanwhile.';
  }
  if (/locked|prompt|dismissed/i.test(message))
    return 'The keyring is locked. Unlock it (log in to the desktop), or set MESH_TOKEN_STORE=file.';
  return 'The OS keychain is unavailable. Tokens go to ~/.mesh/token.json; set MESH_TOKEN_STORE=file to skip the keychain.';
}
