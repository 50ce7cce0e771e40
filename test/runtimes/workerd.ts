/**
 * An edge Worker as its author builds and runs it: bundled by wrangler (`wrangler deploy
 * --dry-run`, the usual way: esbuild with the workerd/worker/browser conditions and the
 * nodejs_compat flag), then served by workerd itself on loopback with the Worker's bindings, and
 * allowed to reach the local stack. wrangler and workerd come from the npm registry
 * (devDependency `wrangler`); wrangler needs Node.js 22, which `npx node@22` brings.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../dev/ports.js';
import { ROOT } from './harness.js';

const run = promisify(execFile);
/** The day the Workers' behaviour is pinned to (workerd supports dates up to its own release). */
export const COMPATIBILITY_DATE = '2026-11-01';
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
/** workerd's binary (from wrangler's dependencies). */
export const WORKERD = join(ROOT, 'node_modules', '.bin', 'workerd');

/** Node.js 22's binary (wrangler refuses older), from the npm registry through npx. */
async function node22(): Promise<string> {
  const { stdout } = await run('npx', ['-y', 'node@22', '-e', 'process.stdout.write(process.execPath)'], { cwd: ROOT });
  return stdout;
}

/** A Worker's compatibility flags: with Node.js's APIs (`nodejs_compat`, what most Workers set) or without. */
export type CompatibilityFlags = [] | ['nodejs_compat'];

/**
 * Bundles `main` (a module in `project`) with wrangler into `<project>/out-<flags>/<main's name>`;
 * returns that path. The flags change the bundle (with nodejs_compat, wrangler leaves the node:
 * modules to workerd), so each set of flags has its own.
 */
export async function bundleWorker(
  project: string,
  main: string,
  flags: CompatibilityFlags = ['nodejs_compat'],
): Promise<string> {
  for (const tool of [WRANGLER, WORKERD]) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: run npm ci (wrangler is a devDependency).`);
  }
  await writeFile(
    join(project, 'wrangler.toml'),
    [
      'name = "mesh-sdk-runtime-test"',
      `main = "${main}"`,
      `compatibility_date = "${COMPATIBILITY_DATE}"`,
      `compatibility_flags = ${JSON.stringify(flags)}`,
    ].join('\n'),
  );
  const outdir = `out-${flags.join('-') || 'plain'}`;
  await run(await node22(), [WRANGLER, 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: project, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    maxBuffer: 16 * 1024 * 1024,
  });
  // One module (wrangler keeps the entry's name and extension), beside its source map.
  const [bundle] = (await readdir(join(project, outdir))).filter((file) => /\.m?js$/.test(file));
  if (bundle === undefined) throw new Error(`wrangler wrote no bundle into ${join(project, outdir)}`);
  return join(project, outdir, bundle);
}

export interface RunningWorker {
  url: string;
  output: () => string;
  close(): Promise<void>;
}

/**
 * workerd's configuration: the bundle, its text bindings, and an outbound network that includes
 * loopback. Exported for bench/runtimes.bench.ts, which spawns workerd itself to time its start.
 */
export function capnpConfig(bundle: string, port: number, bindings: Record<string, string>, flags: CompatibilityFlags): string {
  const texts = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(',\n      ');
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed ${JSON.stringify(bundle)})],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  compatibilityFlags = ${JSON.stringify(flags)},
  bindings = [
      ${texts}
  ],
);
`;
}

/** Serves a bundle with workerd on a free loopback port; resolves once it answers. */
export async function startWorker(
  project: string,
  bundle: string,
  bindings: Record<string, string>,
  flags: CompatibilityFlags = ['nodejs_compat'],
): Promise<RunningWorker> {
  const port = await freePort();
  const config = join(project, `workerd-${port}.capnp`);
  // workerd reads an embedded file relative to the configuration's folder.
  await writeFile(config, capnpConfig(relative(project, bundle), port, bindings, flags));
  const child: ChildProcess = spawn(WORKERD, ['serve', config, '--verbose'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${output}`);
    const answered = await fetch(`${url}/`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) throw new Error(`workerd did not answer within 20 s:\n${output}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  return {
    url,
    output: () => output,
    close: () =>
      new Promise((resolvePromise) => {
        if (child.exitCode !== null) return resolvePromise();
        child.once('exit', () => resolvePromise());
        child.kill('SIGTERM');
      }),
  };
}
