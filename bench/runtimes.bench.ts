/**
 * Runtimes side by side (issue 25): cold start to the first reply, and warm calls per second, of
 * the packed mesh-sdk under Node.js, Bun, Deno and workerd in one run, against the local stack
 * (dev/stack.ts, served from this process; the measured client is always another process). The
 * user scripts are bench/runtimes/*.mjs, copied into a temp project where the packed package is
 * installed (test/runtimes/harness.ts); the Worker is bundled by wrangler (test/runtimes/workerd.ts).
 *
 * Cold start, a fresh process per sample; RUNTIMES_ROUNDS rounds (default 10), in each round every
 * subject once, runtimes taking turns (the order reversed every other round), so that the
 * machine's drift falls on all of them alike:
 *  - Node.js, Bun, Deno: spawn to exit of first-call.mjs (import 'mesh-sdk', `new MeshClient({
 *    apiKey, env: { MESH_API_URL } })`, one `listKeys()` or one `chat()`, exit by itself), beside
 *    the runtime doing nothing (`node -e 0`, `bun -e 0`, `deno eval 0`).
 *  - workerd: spawn of `workerd serve` with the bundled Worker (worker.mjs) until the reply to its
 *    first request (`GET /first?call=listKeys|chat`, which makes the call) has been read; the
 *    request is retried every 2 ms until workerd listens. Beside it, the same with a Worker that
 *    answers at once with no SDK (idle-worker.mjs). workerd's shutdown is not counted.
 * Warm: after RUNTIMES_WARMUP calls (default 200, 16 in flight), RUNTIMES_CALLS `listKeys()`
 * (default 1000) one after another (c=1), then as many with 16 in flight (c=16), timed inside one
 * process (for the Worker, inside one request's handler: workerd's clock advances across I/O,
 * which each call is); RUNTIMES_WARM_ROUNDS rounds (default 5), runtimes in turn.
 *
 * dist/ is rebuilt (`npm run build`) only when it is missing or older than the newest file in src/.
 * Run: npm run bench:runtimes. Prints figures; asserts nothing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cp, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../dev/ports.js';
import { type Stack, startStack } from '../dev/stack.js';
import { createApiKey } from '../test/helpers/api-key.js';
import {
  type ConsumerProject,
  consumerProject,
  LOCAL_RUNTIMES,
  type LocalRuntime,
  lastJson,
  ROOT,
  requireRuntime,
  runCommand,
  scriptCommand,
} from '../test/runtimes/harness.js';
import { bundleWorker, capnpConfig, startWorker, WORKERD } from '../test/runtimes/workerd.js';
import { median, range } from './stats.js';

const ROUNDS = Number(process.env.RUNTIMES_ROUNDS ?? 10);
const WARM_ROUNDS = Number(process.env.RUNTIMES_WARM_ROUNDS ?? 5);
const CALLS = Number(process.env.RUNTIMES_CALLS ?? 1000);
const WARMUP = Number(process.env.RUNTIMES_WARMUP ?? 200);
const POLL_MS = 2;

type Runtime = LocalRuntime | 'workerd';
const RUNTIMES: Runtime[] = [...LOCAL_RUNTIMES, 'workerd'];
type Column = 'idle' | 'listKeys' | 'chat';
const COLUMNS: Column[] = ['idle', 'listKeys', 'chat'];
const IDLE_ARGS: Record<LocalRuntime, string[]> = { node: ['-e', '0'], bun: ['-e', '0'], deno: ['eval', '0'] };

/** ms from spawn to exit, and to the reply (workerd: both are the reply; its shutdown is not counted). */
interface Sample {
  exit: number;
  reply: number;
}

interface Warm {
  calls: number;
  c1: number;
  c16: number;
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

/** Rebuilds dist/ when it is missing or older than the newest file in src/; says which. */
function ensureBuilt(): string {
  const built = ['index.js', 'worker.js'].map((file) => join(ROOT, 'dist', file));
  const source = join(ROOT, 'src');
  const newestSource = Math.max(
    ...readdirSync(source, { recursive: true, encoding: 'utf8' }).map((file) => statSync(join(source, file)).mtimeMs),
  );
  if (built.every((file) => existsSync(file) && statSync(file).mtimeMs >= newestSource)) {
    return 'dist/ is newer than src/: not rebuilt';
  }
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return 'dist/ was missing or older than src/: rebuilt with npm run build';
}

function version(runtime: Runtime): string {
  if (runtime === 'node') return `Node.js ${process.versions.node}`;
  const binary = runtime === 'workerd' ? WORKERD : requireRuntime(runtime);
  const printed = execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? '';
  return { bun: `Bun ${printed}`, deno: printed.replace(/^deno (\S+).*/, 'Deno $1'), workerd: printed }[runtime];
}

const children = new Set<ChildProcess>();

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    child.kill('SIGTERM');
  });
}

const stopwatch = { now: () => performance.now() };
let project: ConsumerProject | undefined;
let stack: Stack | undefined;
const started = stopwatch.now();
console.log(`runtimes bench: ${cpus().length} cores, load average ${load()} at the start`);
console.log(ensureBuilt());

try {
  project = await consumerProject('bench-runtimes');
  const dir = project.dir;
  await cp(join(import.meta.dirname, 'runtimes'), dir, { recursive: true });
  for (const file of ['index.js', 'worker.js']) {
    // Another build running beside us (rm -rf dist) would leave a package without its entries.
    if (!existsSync(join(dir, 'node_modules', 'mesh-sdk', 'dist', file)))
      throw new Error(`the packed mesh-sdk has no dist/${file}: was dist/ being rebuilt meanwhile?`);
  }
  const bundle = await bundleWorker(dir, 'worker.mjs');
  stack = await startStack({ initialCredits: 1_000_000 });
  stack.backend.settings.rateLimitPerMinute = 100_000_000;
  const bindings = {
    MESH_API_KEY: await createApiKey(stack, 'bench-runtimes@example.test', 'runtimes bench'),
    MESH_API_URL: stack.apiUrl,
  };
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...bindings };
  const labels = Object.fromEntries(RUNTIMES.map((runtime) => [runtime, version(runtime)])) as Record<Runtime, string>;

  /**
   * One whole local process: ms from spawn to exit, and to the `replied` line first-call.mjs prints
   * after its call (for `-e 0`, the exit).
   */
  const timeLocal = (runtime: LocalRuntime, column: Column): Promise<Sample> => {
    const [file, ...args] =
      column === 'idle' ? [requireRuntime(runtime), ...IDLE_ARGS[runtime]] : scriptCommand(runtime, 'first-call.mjs', [column]);
    return new Promise((done, fail) => {
      const start = stopwatch.now();
      const child = spawn(file as string, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let reply: number | undefined;
      let output = '';
      child.stdout.on('data', (chunk) => {
        reply ??= stopwatch.now() - start;
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      child.on('close', (code) => {
        const exit = stopwatch.now() - start;
        children.delete(child);
        if (code !== 0 || (column !== 'idle' && !output.startsWith('replied')))
          fail(new Error(`${[file, ...args].join(' ')} exited ${code}:\n${output}`));
        else done({ exit, reply: reply ?? exit });
      });
    });
  };

  /** workerd from spawn until the reply to its first request is read, in ms; then stopped (not counted). */
  const timeWorkerd = async (column: Column): Promise<Sample> => {
    const port = await freePort();
    const config = join(dir, 'bench.capnp');
    const module = column === 'idle' ? 'idle-worker.mjs' : relative(dir, bundle);
    await writeFile(config, capnpConfig(module, port, bindings, ['nodejs_compat']));
    const url = `http://127.0.0.1:${port}${column === 'idle' ? '/' : `/first?call=${column}`}`;
    const start = stopwatch.now();
    const child = spawn(WORKERD, ['serve', config], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let output = '';
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${output}`);
        const reply = await fetch(url).then(
          async (response) => ({ status: response.status, text: await response.text() }),
          () => undefined,
        );
        if (reply !== undefined) {
          const ms = stopwatch.now() - start;
          if (reply.status !== 200) throw new Error(`the Worker answered ${reply.status}: ${reply.text}\n${output}`);
          return { exit: ms, reply: ms };
        }
        if (stopwatch.now() - start > 20_000) throw new Error(`workerd did not answer within 20 s:\n${output}`);
        await sleep(POLL_MS);
      }
    } finally {
      await stop(child);
      children.delete(child);
    }
  };

  const sample = (runtime: Runtime, column: Column) => (runtime === 'workerd' ? timeWorkerd(column) : timeLocal(runtime, column));

  const warmLocal = async (runtime: LocalRuntime): Promise<Warm> => {
    const command = scriptCommand(runtime, 'warm.mjs', [String(CALLS), String(WARMUP)]);
    const result = await runCommand(command, { cwd: dir, env, timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`${command.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return lastJson<Warm>(result);
  };
  const warmWorkerd = async (): Promise<Warm> => {
    const worker = await startWorker(dir, bundle, bindings);
    try {
      const response = await fetch(`${worker.url}/warm?calls=${CALLS}&warmup=${WARMUP}`);
      const body = (await response.json()) as Warm & { ok: boolean; error?: unknown };
      if (!body.ok) throw new Error(`the Worker failed: ${JSON.stringify(body.error)}\n${worker.output()}`);
      return body;
    } finally {
      await worker.close();
    }
  };
  const warm = (runtime: Runtime) => (runtime === 'workerd' ? warmWorkerd() : warmLocal(runtime));

  // Every subject once, unmeasured (the disk cache; Deno's first look at node_modules), and checked.
  const subjects = COLUMNS.flatMap((column) => RUNTIMES.map((runtime) => ({ runtime, column })));
  for (const { runtime, column } of subjects) await sample(runtime, column);

  const cold = new Map(subjects.map(({ runtime, column }) => [`${runtime} ${column}`, [] as Sample[]]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...subjects].reverse() : subjects;
    for (const { runtime, column } of order) cold.get(`${runtime} ${column}`)?.push(await sample(runtime, column));
  }
  const times = (runtime: Runtime, column: Column, key: keyof Sample = 'exit') =>
    (cold.get(`${runtime} ${column}`) as Sample[]).map((sample) => sample[key]);

  const warmRuns = new Map(RUNTIMES.map((runtime) => [runtime, [] as Warm[]]));
  for (let round = 0; round < WARM_ROUNDS; round++) {
    const order = round % 2 ? [...RUNTIMES].reverse() : RUNTIMES;
    for (const runtime of order) warmRuns.get(runtime)?.push(await warm(runtime));
  }

  const head = (cells: string[]) => console.log(`  ${'runtime'.padEnd(20)}${cells.map((cell) => cell.padEnd(27)).join('')}`);
  const row = (runtime: Runtime, cells: string[]) =>
    console.log(`  ${labels[runtime].padEnd(20)}${cells.map((cell) => cell.padEnd(27)).join('')}`);
  const cell = (runtime: Runtime, column: Column, key: keyof Sample) => {
    const own = times(runtime, column, key);
    const ratio = median(own) / median(times('node', column, key));
    return `${median(own).toFixed(1)} (${range(own, 0)}) ${ratio.toFixed(2)}x`;
  };
  /** The median over rounds of (one figure - another of the same round). */
  const pairedMedian = (first: number[], second: number[]) =>
    median(first.map((ms, round) => ms - (second[round] as number))).toFixed(1);

  console.log(`
Cold start, wall ms: median (min-max) of ${ROUNDS} rounds, runtimes in turn; Nx: that median over Node.js's median
in the same column. SDK's share: the median over rounds of (the call's figure - doing nothing's).
  Node.js, Bun, Deno: a fresh process from spawn to exit. "doing nothing" is node -e 0, bun -e 0, deno eval 0; the
    calls run first-call.mjs: import 'mesh-sdk', new MeshClient({ apiKey, env: { MESH_API_URL } }), one call, exit
    by itself.
  workerd: \`workerd serve\` from spawn until the reply to its first HTTP request is read (the request retried every
    ${POLL_MS} ms until workerd listens; its shutdown is not counted). "doing nothing" is a Worker answering at once
    with no SDK; the calls are the bundled Worker, whose first request makes a new MeshClient and one call.`);
  head(['doing nothing', 'listKeys()', 'chat()', "SDK's share: listKeys / chat"]);
  for (const runtime of RUNTIMES) {
    const share = (column: Column) => pairedMedian(times(runtime, column), times(runtime, 'idle'));
    row(runtime, [...COLUMNS.map((column) => cell(runtime, column, 'exit')), `+${share('listKeys')} / +${share('chat')} ms`]);
  }
  console.log(`
The same processes, wall ms from spawn to the reply: the line first-call.mjs prints after its call (workerd: as
above), and what the process does after it until it exits (median over rounds of exit - reply).`);
  head(['listKeys()', 'chat()', 'reply to exit: listKeys / chat']);
  for (const runtime of RUNTIMES) {
    const tail = (column: Column) => pairedMedian(times(runtime, column, 'exit'), times(runtime, column, 'reply'));
    row(runtime, [
      cell(runtime, 'listKeys', 'reply'),
      cell(runtime, 'chat', 'reply'),
      runtime === 'workerd' ? 'not counted' : `+${tail('listKeys')} / +${tail('chat')} ms`,
    ]);
  }

  const rates = (runtime: Runtime, key: 'c1' | 'c16') =>
    (warmRuns.get(runtime) as Warm[]).map((run) => run.calls / (run[key] / 1000));
  console.log(`
Warm listKeys() calls per second: median (min-max) of ${WARM_ROUNDS} rounds, runtimes in turn; Nx: over Node.js's median.
  One process per round (the Worker: one request, the loop timed inside its handler; workerd's clock
  advances across I/O, which each call is): ${WARMUP} calls to warm up (16 in flight), then ${CALLS} calls
  one after another (c=1), then ${CALLS} with 16 in flight (c=16). One client; the stack serves from the bench's process.`);
  head(['c=1', 'c=16']);
  for (const runtime of RUNTIMES) {
    row(
      runtime,
      (['c1', 'c16'] as const).map((key) => {
        const own = rates(runtime, key);
        return `${median(own).toFixed(0)} (${range(own, 0)}) ${(median(own) / median(rates('node', key))).toFixed(2)}x`;
      }),
    );
  }
  console.log(
    `\n${((stopwatch.now() - started) / 1000).toFixed(0)} s in all (packing, bundling and the stack included); load average ${load()} at the end`,
  );
} finally {
  await Promise.all([...children].map(stop));
  await stack?.close();
  await project?.remove();
}
