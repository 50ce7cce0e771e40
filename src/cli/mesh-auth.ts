#!/usr/bin/env node
/**
 * `mesh-auth`: log in, log out, status, token, print-tokens, doctor, import-python. A thin shell over
 * MeshClient: parsing, printing and exit codes only.
 */
import { access } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { envInstructions } from '../auth/stores/env-render.js';
import { pythonHeadlessTokenPaths } from '../auth/stores/python-token-file.js';
import { MeshClient } from '../client/mesh-client.js';
import type { MeshClientOptions } from '../client/options.js';
import type { AuthStatus } from '../client/types.js';
import { diagnose } from '../diagnostics/doctor.js';
import { SDK_VERSION } from '../version.js';
import { expandAbbreviations } from './args.js';
import { loginUi } from './login-ui.js';
import { createOutput } from './output.js';
import { EXIT, Exit, runCli, UsageError } from './run.js';

const USAGE = `Usage: mesh-auth [command] [options]

Commands:
  login          Log in to Mesh (the default command)
  logout         Forget the stored tokens
  status         Who is logged in, until when, and where the tokens are
  token          Print a valid access token (refreshed first), nothing else
  print-tokens   Print the tokens as environment variables for a server or CI
  doctor         Check configuration, connectivity, the keychain and the token
  import-python  Copy the login in a Python SDK token file (.mesh_token.json) into mesh-sdk's store

Options: --help, --version. Run "mesh-auth <command> --help" for a command's options.
The Python SDK's spellings work too: "mesh-auth --clear" logs out, "mesh-auth --headless --force" logs in;
long options may be abbreviated ("--head").`;

const COMMANDS: Record<
  string,
  { usage: string; options: NonNullable<Parameters<typeof parseArgs>[0]>['options']; positionals?: number }
> = {
  login: {
    usage: `Usage: mesh-auth login [--port <port>] [--headless] [--no-browser] [--force] [--clear]

  --port <port>   Callback port on localhost (registered in Auth0; default 8000 or AUTH0_CALLBACK_PORT)
  --headless      Log in with a device code even where a browser could open; alias --device.
                  Without it, the device code is used when headless (SSH, a container, CI, no
                  display, MESH_HEADLESS=true) and the browser otherwise
  --no-browser    Print the login link instead of opening a browser
  --force         Log in even when already logged in
  --clear         Forget the stored tokens and stop, as "mesh-auth logout" (the Python SDK's spelling)`,
    options: {
      port: { type: 'string' },
      headless: { type: 'boolean' },
      device: { type: 'boolean' },
      'no-browser': { type: 'boolean' },
      force: { type: 'boolean' },
      clear: { type: 'boolean' },
    },
  },
  logout: {
    usage: 'Usage: mesh-auth logout\n\nRemoves the stored tokens from every place this configuration keeps them.',
    options: {},
  },
  status: { usage: 'Usage: mesh-auth status [--json]\n\nExits 1 when not logged in.', options: { json: { type: 'boolean' } } },
  token: { usage: 'Usage: mesh-auth token\n\nPrints a valid access token (refreshing it first) and nothing else.', options: {} },
  'print-tokens': {
    usage: 'Usage: mesh-auth print-tokens\n\nPrints the export lines and the dashboard form for MESH_TOKEN_FROM_ENV.',
    options: {},
  },
  doctor: { usage: 'Usage: mesh-auth doctor [--json]\n\nExits 1 when a check fails.', options: { json: { type: 'boolean' } } },
  'import-python': {
    usage: `Usage: mesh-auth import-python [path] [--remove] [--force]

Copies the login in the Python SDK's headless token file into mesh-sdk's own store, once.
mesh-sdk never reads such a file by itself (a cloned repository could carry one); to share one
file with a running Python program instead, set MESH_PYTHON_TOKEN_FILE=<path>.

  path       The file. Default: MESH_PYTHON_TOKEN_FILE, else ./.mesh_token.json, else /tmp/.mesh_token.json
  --remove   Delete the file afterwards (recommended: two copies of one rotating refresh token
             spend each other; the Python SDK then logs in afresh)
  --force    Replace a login mesh-sdk already holds`,
    options: { remove: { type: 'boolean' }, force: { type: 'boolean' } },
    positionals: 1,
  },
};

const out = createOutput();

const ui = loginUi(out);

function client(options: MeshClientOptions = {}): MeshClient {
  return new MeshClient({ interactive: false, loginUi: ui.callbacks, ...options });
}

function describeStatus(status: AuthStatus, email: string | undefined): string[] {
  if (!status.loggedIn)
    return [
      out.fail(`Not logged in: ${status.reason ?? 'no tokens'}.`),
      `  Tokens: ${status.store}`,
      '  Run `npx mesh-auth` to log in.',
    ];
  return [
    out.ok(`Logged in as ${email ?? status.subject ?? 'unknown user'}`),
    ...(status.expiresAt ? [`  Access token expires: ${new Date(status.expiresAt * 1000).toISOString()}`] : []),
    `  Tokens: ${status.store}`,
    `  Checked by: the ${status.validation?.source ?? 'local'} validator${status.validation?.reason ? ` (${status.validation.reason})` : ''}`,
  ];
}

async function emailOf(mesh: MeshClient, signal: AbortSignal): Promise<string | undefined> {
  return mesh.profile({ signal }).then(
    (profile) => profile.email,
    () => undefined,
  );
}

async function logout(): Promise<void> {
  const places = await client().logout();
  out.err(out.ok(places.length ? `Logged out: removed the tokens from ${places.join(' and ')}.` : 'Nothing to log out of.'));
}

const commands: Record<
  string,
  (values: Record<string, unknown>, signal: AbortSignal, positionals: readonly string[]) => Promise<void>
> = {
  async login(values, signal) {
    // The Python SDK's `mesh-auth --clear` (auth_cli.py 1.5.4): clear the tokens and exit, whatever else is given.
    if (values.clear) return logout();
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new UsageError(`--port needs a port number from 1 to 65535, not "${values.port}".`);
    }
    // The flags force the device flow; without them the headless verdict decides, as for login().
    const forceDevice = Boolean(values.headless || values.device);
    const mesh = client({ ...(port ? { callbackPort: port } : {}), ...(forceDevice ? { headless: true } : {}) });
    if (!values.force) {
      const status = await mesh.authStatus({ signal });
      if (status.loggedIn) {
        out.err(out.ok(`Already logged in as ${(await emailOf(mesh, signal)) ?? status.subject}. Use --force to log in again.`));
        return;
      }
    }
    const profile = await mesh
      .login({ ...(forceDevice ? { device: true } : {}), ...(values['no-browser'] ? { openBrowser: false } : {}), signal })
      .finally(() => ui.stop());
    out.err(out.ok(`Logged in as ${profile.email}. Tokens: ${mesh.describeTokenStore()}`));
  },

  logout,

  async status(values, signal) {
    const mesh = client();
    const status = await mesh.authStatus({ signal });
    const email = status.loggedIn ? await emailOf(mesh, signal) : undefined;
    if (values.json) {
      out.out(
        JSON.stringify({
          loggedIn: status.loggedIn,
          email,
          subject: status.subject,
          expiresAt: status.expiresAt,
          store: status.store,
          validationSource: status.validation?.source,
          reason: status.reason,
        }),
      );
    } else {
      for (const line of describeStatus(status, email)) out.err(line);
    }
    if (!status.loggedIn) throw new Exit(EXIT.failure);
  },

  async token(_values, signal) {
    out.out((await client().tokenSet({ signal })).access_token);
  },

  async 'print-tokens'(_values, signal) {
    out.out(envInstructions(await client().tokenSet({ signal })));
  },

  async doctor(values, signal) {
    // Not client(): a bad setting is the doctor's first finding, not the end of it.
    const checks = await diagnose({
      options: { interactive: false, loginUi: ui.callbacks },
      makeClient: (options) => new MeshClient(options),
      signal,
    });
    if (values.json) out.out(JSON.stringify(checks, null, 2));
    else {
      for (const check of checks) {
        const line = `${check.name}: ${check.detail}`;
        out.err(check.skipped ? `- ${line}` : check.ok ? out.ok(line) : out.fail(line));
        if (!check.ok && check.recommendation) out.err(`    → ${check.recommendation}`);
      }
    }
    if (checks.some((check) => !check.ok)) throw new Exit(EXIT.failure);
  },

  async 'import-python'(values, signal, positionals) {
    const mesh = client();
    const path = positionals[0] ?? mesh.config.pythonTokenFile ?? (await firstExisting(pythonHeadlessTokenPaths()));
    if (path === undefined) {
      throw new UsageError(
        'No Python SDK token file found (./.mesh_token.json, /tmp/.mesh_token.json): name it.',
        COMMANDS['import-python']?.usage,
      );
    }
    if (!values.force && (await mesh.authStatus({ signal })).loggedIn) {
      out.err(out.fail(`mesh-sdk already holds a login (${mesh.describeTokenStore()}). Use --force to replace it.`));
      throw new Exit(EXIT.failure);
    }
    const source = await mesh.importPythonTokens(path, { remove: Boolean(values.remove) });
    const who = (await emailOf(mesh, signal)) ?? 'an account the backend did not name';
    out.err(out.ok(`Imported the login of ${who} from ${source}. Tokens: ${mesh.describeTokenStore()}`));
    if (values.remove) out.err(`  Removed ${source}.`);
    else
      out.err(
        `  ${source} still holds the same refresh token: remove it, or the first SDK to refresh leaves the other's copy spent.`,
      );
  },
};

/** The first of `paths` that exists. */
async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths)
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  return undefined;
}

await runCli(USAGE, async (signal) => {
  const argv = process.argv.slice(2);
  if (argv[0] === '--version' || argv[0] === '-v') return out.out(SDK_VERSION);
  if (argv[0] === '--help' || argv[0] === '-h') return out.out(USAGE);
  const name = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'login';
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`Unknown command "${name}".`);
  const longNames = [...Object.keys(spec.options ?? {}), 'help'];
  const args = expandAbbreviations(argv[0] === name ? argv.slice(1) : argv, longNames, spec.usage);
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: (spec.positionals ?? 0) > 0,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, spec.usage);
  }
  if (positionals.length > (spec.positionals ?? 0))
    throw new UsageError(`Unexpected argument "${positionals.at(-1)}".`, spec.usage);
  if (values.help) return out.out(spec.usage);
  await (commands[name] as (typeof commands)[string])(values, signal, positionals);
});
