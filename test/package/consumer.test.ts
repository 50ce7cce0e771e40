// Packs mesh-sdk as npm would publish it, installs the tarball into a fresh project, and uses it
// from ESM `import` and CommonJS `require`, with the types checked by tsc as a consumer's would be.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAccountFor } from '../../src/auth/stores/create-token-store.js';
import { FileStore } from '../../src/auth/stores/file-store.js';
import { KeychainStore } from '../../src/auth/stores/keychain-store.js';
import { createApiKey } from '../helpers/api-key.js';
import { keychainToolsInstalled, type PrivateBus, startKeyringBus } from '../helpers/dbus.js';
import { useStack } from '../helpers/stack.js';
import { storedTokens } from '../helpers/token-manager.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let project: string;
/** What `npm pack --json` said of the tarball: sizes in bytes. */
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: Array<{ path: string; size: number; mode: number }>;
}
let packed: Packed;
const stack = useStack();
/** The consumer's environment: the local stack, and an API key so no login is needed. */
let consumerEnv: NodeJS.ProcessEnv;

const ESM_CONSUMER = `
import { MeshClient, ConfigError, ErrorCode, type MeshClientOptions } from 'mesh-sdk';
const options: MeshClientOptions = { apiUrl: 'http://127.0.0.1:4001', env: {} };
const client = new MeshClient(options);
const port: number = client.config.callbackPort;
try { new MeshClient({ env: { AUTH0_CALLBACK_PORT: 'abc' } }); } catch (error) {
  if (error instanceof ConfigError && error.code === ErrorCode.CONFIG_INVALID) console.log('esm', client.config.apiUrl, port);
}
`;

const CJS_CONSUMER = `
import mesh = require('mesh-sdk');
const client = new mesh.MeshClient({ env: {} });
const error: mesh.MeshError = new mesh.NotFoundError('x');
console.log('cjs', client.config.apiUrl, error.code);
`;

// A type error a consumer must see: proves the declarations are really used, not 'any'.
const WRONG_TYPES = `
import { MeshClient } from 'mesh-sdk';
new MeshClient({ callbackPort: 'eight thousand' });
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    noEmit: true,
    types: [],
    skipLibCheck: false,
  },
};

beforeAll(async () => {
  const apiKey = await createApiKey(stack, 'consumer@example.test', 'consumer');
  consumerEnv = { PATH: process.env.PATH, HOME: tmpdir(), ...stack.env, MESH_API_KEY: apiKey };
  project = await mkdtemp(join(tmpdir(), 'mesh-sdk-consumer-'));
  // dist/ is built by the global setup; pack without lifecycle scripts so that stdout is npm's JSON alone.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  [packed] = JSON.parse(stdout) as [Packed];
  // One line in every run, so that a jump in the package's weight is seen (npm's kB: 1000 bytes).
  const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
  console.log(`tarball: ${kB(packed.size)} packed, ${kB(packed.unpackedSize)} unpacked, ${packed.entryCount} files`);
  const paths = packed.files.map((f) => f.path);
  expect(paths.every((path) => /^(dist\/|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$)/.test(path))).toBe(true);
  expect(paths).toContain('CHANGELOG.md'); // the migration notes travel with the package
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  const typesNode = JSON.parse(await readFile(join(root, 'node_modules', '@types', 'node', 'package.json'), 'utf8'))
    .version as string;
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, packed.filename), `@types/node@${typesNode}`],
    {
      cwd: project,
    },
  );
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
}, 180_000);

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Type-checks the consumer project; on failure, the error carries tsc's own report. */
async function typecheck(): Promise<void> {
  await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((error: { stdout?: string }) => {
    throw new Error(`tsc failed in the consumer project:\n${error.stdout ?? error}`);
  });
}

// Several tests here run tsc over the consumer's project (12 s in CI, over 30 s when the machine
// is twice as loaded): a bound for a hang, not a timing goal.
describe('the published package', { timeout: 90_000 }, () => {
  it('ships no source maps; each bin is a small launcher and one CommonJS program, which has no import()', async () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(paths.some((path) => /^dist\/chunk-[\w-]+\.js$/.test(path))).toBe(true);
    for (const bin of ['mesh-auth', 'mesh-env']) {
      const launcher = packed.files.find((f) => f.path === `dist/cli/${bin}.cjs`);
      expect(launcher, bin).toBeDefined();
      expect(launcher?.mode, `${bin} is executable`).toBe(0o755);
      // Measured: 3.9 kB (the launcher and the code cache). It must not pull the program in.
      expect(launcher?.size, bin).toBeLessThan(10_000);
      const program = packed.files.find((f) => f.path === `dist/cli/${bin}-program.cjs`);
      expect(program, `${bin}'s program`).toBeDefined();
      // Measured: mesh-auth's 306 kB, mesh-env's 270 kB (the library code each command needs, whitespace taken out).
      expect(program?.size, `${bin}'s program`).toBeLessThan(450_000);
      // Code V8 runs from its cache cannot run import() on Node.js 20 (the launcher's vm.Script).
      const source = await readFile(join(root, 'dist', 'cli', `${bin}-program.cjs`), 'utf8');
      expect(source.match(/\bimport\(/g), `${bin}'s program`).toBeNull();
    }
  });

  it('works from ESM import, with types', async () => {
    await writeFile(join(project, 'esm.mts'), ESM_CONSUMER);
    await typecheck();
    // Run the same code as JavaScript (Node 20 cannot run TypeScript itself).
    const javascript = ESM_CONSUMER.replace(', type MeshClientOptions', '')
      .replace(': MeshClientOptions', '')
      .replace(': number', '');
    await writeFile(join(project, 'esm.mjs'), javascript);
    const { stdout } = await run(process.execPath, ['esm.mjs'], { cwd: project });
    expect(stdout.trim()).toBe('esm http://127.0.0.1:4001 8000');
  });

  it('works from CommonJS require, with types', async () => {
    await writeFile(join(project, 'cjs.cts'), CJS_CONSUMER);
    await typecheck();
    await writeFile(
      join(project, 'cjs.cjs'),
      "const mesh = require('mesh-sdk');\nconst client = new mesh.MeshClient({ env: {} });\nconsole.log('cjs', client.config.apiUrl, new mesh.NotFoundError('x').code);\n",
    );
    const { stdout } = await run(process.execPath, ['cjs.cjs'], { cwd: project });
    expect(stdout.trim()).toBe('cjs https://mesh-abh5.onrender.com not_found');
  });

  it('mesh-sdk/server: imported and required with types; importing mesh-sdk loads no file of it', async () => {
    await writeFile(
      join(project, 'server.mts'),
      "import { createVerifier, VerificationError } from 'mesh-sdk/server';\nconst verifier = createVerifier({ issuer: 'https://tenant.example/', audience: 'api', jwksUri: 'https://tenant.example/jwks' });\nconst error: VerificationError | undefined = await verifier.verify('').then(() => undefined, (e: VerificationError) => e);\nconsole.log('esm', error?.code, error?.status);\n",
    );
    await typecheck();
    const esm = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const { createVerifier } = await import('mesh-sdk/server'); const e = await createVerifier({ issuer: 'https://tenant.example/', audience: 'api', jwksUri: 'https://tenant.example/jwks' }).verify('').catch((e) => e); console.log('esm', e.code, e.status);",
      ],
      { cwd: project },
    );
    expect(esm.stdout.trim()).toBe('esm token_missing 401');
    const cjs = await run(process.execPath, ['-e', "console.log('cjs', typeof require('mesh-sdk/server').meshAuth.express)"], {
      cwd: project,
    });
    expect(cjs.stdout.trim()).toBe('cjs function');
    // The client's import, ESM and CommonJS: nothing of the server's build is loaded.
    const loaded = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { createRequire } from 'node:module'; await import('mesh-sdk'); const require = createRequire(process.cwd() + '/'); require('mesh-sdk'); console.log(JSON.stringify(Object.keys(require.cache)));",
      ],
      { cwd: project },
    );
    const files = JSON.parse(loaded.stdout) as string[];
    expect(files.some((file) => file.endsWith('index.cjs'))).toBe(true); // the cache does see the client
    expect(files.filter((file) => /[\\/]mesh-sdk[\\/]dist[\\/]server/.test(file))).toEqual([]);
    const chunks = (await readdir(join(project, 'node_modules', 'mesh-sdk', 'dist'))).filter((file) => file.endsWith('.js'));
    for (const chunk of chunks.filter((file) => file !== 'server.js')) {
      expect(await readFile(join(project, 'node_modules', 'mesh-sdk', 'dist', chunk), 'utf8'), chunk).not.toMatch(/server\.js/);
    }
  });

  it('shows a type error to a consumer who passes a wrong option', async () => {
    await writeFile(join(project, 'wrong.mts'), WRONG_TYPES);
    const failure = await run(process.execPath, [tsc, '-p', project], { cwd: project }).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    await rm(join(project, 'wrong.mts'));
    expect(failure).toMatch(/wrong\.mts.*callbackPort|Type 'string' is not assignable to type 'number'/s);
  });

  it('chats from an ESM consumer (import) and a CommonJS consumer (require)', async () => {
    await writeFile(
      join(project, 'chat.mjs'),
      "import { chat } from 'mesh-sdk';\nconsole.log((await chat('What is 5 + 7?')).content);\n",
    );
    await writeFile(
      join(project, 'chat.cjs'),
      "const { chat } = require('mesh-sdk');\nchat('What is 6 * 7?').then((reply) => console.log(reply.content));\n",
    );
    const esm = await run(process.execPath, ['chat.mjs'], { cwd: project, env: consumerEnv });
    const cjs = await run(process.execPath, ['chat.cjs'], { cwd: project, env: consumerEnv });
    expect(esm.stdout.trim()).toBe('5 + 7 = 12');
    expect(cjs.stdout.trim()).toBe('6 * 7 = 42');
  });

  it('creates the default client on first use, not at import', async () => {
    const script =
      "const m = await import('mesh-sdk'); console.log('imported'); await m.listKeys().catch((e) => console.log(e.code));";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: project,
      env: { ...consumerEnv, AUTH0_CALLBACK_PORT: 'abc' },
    });
    expect(stdout.trim().split('\n')).toEqual(['imported', 'config_invalid']);
  });

  it('ships the bins: npx mesh-auth and npx mesh-env work from the consuming project', async () => {
    const auth = await run('npx', ['--no-install', 'mesh-auth', '--version'], { cwd: project, env: consumerEnv });
    const env = await run('npx', ['--no-install', 'mesh-env', '--help'], { cwd: project, env: consumerEnv });
    expect(auth.stdout.trim()).toBe('0.1.0');
    expect(env.stdout).toMatch(/^Usage: mesh-env/);
  });

  it('neither depends on nor loads redis: an optional peer, imported only when the Redis store is used', async () => {
    const manifest = JSON.parse(await readFile(join(project, 'node_modules', 'mesh-sdk', 'package.json'), 'utf8')) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    expect(manifest.dependencies?.redis).toBeUndefined();
    expect(manifest.optionalDependencies?.redis).toBeUndefined();
    expect(manifest.peerDependencies?.redis).toBeDefined();
    expect(manifest.peerDependenciesMeta?.redis).toEqual({ optional: true });
    // npm installed nothing of it for the consumer, so any import of it at load would fail here.
    const { stdout: tree } = await run('npm', ['ls', '--all', '--parseable'], { cwd: project });
    expect(tree).not.toMatch(/node_modules[\\/](redis|@redis)\b/);
    // The bundle reaches it through a dynamic import only (and bundles none of node-redis). The ESM
    // build is index.js, the bins and the chunks they share; the CommonJS build is index.cjs alone.
    const dist = join(project, 'node_modules', 'mesh-sdk', 'dist');
    const builds = {
      esm: (await readdir(dist, { recursive: true })).filter((file) => file.endsWith('.js')),
      cjs: ['index.cjs'],
    };
    for (const [format, files] of Object.entries(builds)) {
      const code = await Promise.all(files.map((file) => readFile(join(dist, file), 'utf8')));
      expect(code.join('\n'), format).toMatch(/import\(["']redis["']\)/);
      for (const [i, file] of files.entries())
        expect(code[i], file).not.toMatch(/from ["']redis["']|require\(["']redis["']\)|@redis\/client/);
    }
    // Importing the package and building the store load nothing; the first use says what to install.
    const script = [
      "const m = await import('mesh-sdk');",
      "const store = m.redisTokenStore({ url: 'redis://:pw@127.0.0.1:1/0' });",
      "console.log('imported', store.describe().startsWith('redis redis://:***@127.0.0.1:1/0 key mesh-sdk:tokens:'));",
      'await store.load().catch((e) => console.log(e.code, e.message));',
    ].join('\n');
    const esm = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env: consumerEnv });
    expect(esm.stdout.trim().split('\n')).toEqual([
      'imported true',
      'config_invalid MESH_TOKEN_STORE=redis://:***@127.0.0.1:1/0 needs the `redis` package: npm install redis',
    ]);
    const cjs = await run(
      process.execPath,
      [
        '-e',
        "require('mesh-sdk'); console.log(Object.keys(require.cache).filter((p) => /[\\\\/]@?redis[\\\\/]/.test(p)).length)",
      ],
      { cwd: project, env: consumerEnv },
    );
    expect(cjs.stdout.trim()).toBe('0');
  });

  it('declares engines.node >= 20.19 and ships no dev stack', async () => {
    const manifest = JSON.parse(await readFile(join(project, 'node_modules', 'mesh-sdk', 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(manifest.engines.node).toBe('>=20.19');
    const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: project });
    expect(stdout).not.toMatch(/oidc-provider|vitest|tsup|tsx|biome/);
  });

  it('runs no install script of its own, and installing it asks a consumer to approve none', async () => {
    const packageDir = join(project, 'node_modules', 'mesh-sdk');
    const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(manifest.scripts?.[hook], hook).toBeUndefined();
    // A binding.gyp would make npm run `node-gyp rebuild` as an implicit install script.
    await expect(readFile(join(packageDir, 'binding.gyp'))).rejects.toThrow(/ENOENT/);
    const { stdout } = await run('npm', ['install-scripts', 'ls'], { cwd: project });
    expect(stdout).toMatch(/No packages with unreviewed install scripts/);
  });
});

// Issue 12, defect 1, as a user meets it: a script using the published package on a desktop (the
// keychain helper runs) or headless, with no close(), exits by itself once its work is done.
describe.skipIf(!keychainToolsInstalled() && !process.env.CI)('a user script from the tarball exits by itself', () => {
  let bus: PrivateBus;
  beforeAll(async () => {
    bus = await startKeyringBus();
  });
  afterAll(() => bus?.stop());

  const SCRIPT =
    "import { chat } from 'mesh-sdk';\nconsole.log((await chat('What is 5 + 7?')).content);\nconsole.log('done', Date.now());\n";

  /** Runs the script; answers its output and the ms between its last line and the process's exit. */
  function runScript(env: NodeJS.ProcessEnv): Promise<{ stdout: string; lingerMs: number }> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, ['desktop.mjs'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let doneAt: number | undefined;
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (doneAt === undefined && /^done /m.test(stdout)) doneAt = Date.now();
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(killer);
        if (doneAt === undefined) reject(new Error(`the script did not finish its call: ${stderr}`));
        else resolvePromise({ stdout, lingerMs: Date.now() - doneAt });
      });
    });
  }

  for (const desktop of [true, false]) {
    it(desktop
      ? 'on a desktop, tokens in the OS keychain (MESH_HEADLESS=false)'
      : 'headless, tokens in ~/.mesh/token.json', async () => {
      await writeFile(join(project, 'desktop.mjs'), SCRIPT);
      const home = await mkdtemp(join(tmpdir(), 'mesh-consumer-home-'));
      try {
        const tokens = await storedTokens(stack, `exit-${desktop}@example.test`);
        if (desktop) {
          await new KeychainStore({ account: keychainAccountFor(stack.apiUrl), env: bus.env }).save(tokens);
        } else {
          await new FileStore({ directory: join(home, '.mesh') }).save(tokens);
        }
        const { MESH_API_KEY: _none, ...withoutKey } = consumerEnv;
        const env = desktop
          ? { ...withoutKey, ...bus.env, HOME: home, MESH_HEADLESS: 'false', DISPLAY: ':0', CI: '' }
          : { ...withoutKey, HOME: home, MESH_HEADLESS: 'true' };
        const { stdout, lingerMs } = await runScript(env);
        expect(stdout.split('\n')[0]).toBe('5 + 7 = 12');
        expect(lingerMs, `the process lingered ${lingerMs} ms after its last line`).toBeLessThan(2000);
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
