/**
 * `mesh-auth`: log in, log out, status, token, print-tokens, doctor, import-python, use. A thin shell over
 * MeshClient: parsing, printing and exit codes only. This file parses and dispatches; each command
 * is in a module loaded when it runs (client-commands.ts, token-commands.ts, doctor-command.ts).
 */
import { parseArgs } from 'node:util';
import { SDK_VERSION } from '../version.js';
import { expandAbbreviations, splitCommand } from './args.js';
import type { Command } from './command.js';
import { loginUi } from './login-ui.js';
import { createOutput } from './output.js';
import { runCli, UsageError } from './run.js';

const USAGE = `Usage: mesh-auth [command] [options]

Commands:
  login          Log in to Mesh (the default command)
  logout         Forget the stored tokens
  status         Who is logged in, until when, and where the tokens are
  token          Print a valid access token (refreshed first), nothing else
  print-tokens   Print the tokens as environment variables for a server or CI
  doctor         Check configuration, connectivity, the keychain and the token
  import-python  Copy the login in a Python SDK token file (.mesh_token.json) into mesh-sdk's store
  use            Choose the profile processes started from now on use (no name: show it)

Options: --help, --version, and for every command --profile <name> (before or after the command
word): that profile's login and settings (default: MESH_PROFILE, else "mesh-auth use", else
"default"; see docs/profiles.md). Run "mesh-auth <command> --help" for a command's options.
The Python SDK's spellings work too: "mesh-auth --clear" logs out, "mesh-auth --headless --force" logs in;
long options may be abbreviated ("--head").`;

const COMMANDS: Record<
  string,
  { usage: string; options: NonNullable<Parameters<typeof parseArgs>[0]>['options']; positionals?: number }
> = {
  login: {
    usage: `Usage: mesh-auth login [--profile <name>] [--port <port>] [--headless] [--no-browser] [--force] [--clear]

  --profile <name> Log in to this profile (its own tokens; default: MESH_PROFILE, else "mesh-auth use")
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
    usage:
      'Usage: mesh-auth logout [--profile <name>]\n\nRemoves the stored tokens of one profile (default: the current one) from every place\nit keeps them; other profiles keep theirs.',
    options: {},
  },
  status: {
    usage: `Usage: mesh-auth status [--profile <name>] [--all] [--json]

Who is logged in to the profile, until when, where its tokens are. Exits 1 when not logged in.

  --all    Every profile found (default, each folder under ~/.mesh/profiles, each profile of
           ~/.mesh/config.json), each asked of its own backend; exits 1 when none is logged in
  --json   One object; with --all an array of
           { profile, loggedIn, email, subject, expiresAt, store, apiUrl }`,
    options: { json: { type: 'boolean' }, all: { type: 'boolean' } },
  },
  token: {
    usage:
      'Usage: mesh-auth token [--profile <name>]\n\nPrints a valid access token of the profile (refreshing it first) and nothing else.',
    options: {},
  },
  'print-tokens': {
    usage:
      'Usage: mesh-auth print-tokens [--profile <name>]\n\nPrints the export lines and the dashboard form for MESH_TOKEN_FROM_ENV.',
    options: {},
  },
  doctor: {
    usage: 'Usage: mesh-auth doctor [--profile <name>] [--json]\n\nChecks one profile. Exits 1 when a check fails.',
    options: { json: { type: 'boolean' } },
  },
  use: {
    usage: `Usage: mesh-auth use [<name>]

Sets the profile that processes started from now on use when neither --profile nor MESH_PROFILE
names one: writes "defaultProfile" to ~/.mesh/config.json (or MESH_CONFIG_FILE), mode 600.
A process already running keeps the profile it started with. "mesh-auth use default" goes back
to the default profile. Without a name, prints the current default and where it comes from.`,
    options: {},
    positionals: 1,
  },
  'import-python': {
    usage: `Usage: mesh-auth import-python [path] [--profile <name>] [--remove] [--force]

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

/**
 * Each command's module, loaded only when that command runs: `status` and `login` need the whole
 * client (undici among it), `doctor` its probes, while `token` with a valid stored token needs
 * neither (issue 22: start-up within 1.5x of a bare `node -e 0`).
 */
const commands: Record<string, () => Promise<Command>> = {
  login: async () => (await import('./client-commands.js')).login,
  logout: async () => (await import('./client-commands.js')).logout,
  status: async () => (await import('./client-commands.js')).status,
  token: async () => (await import('./token-commands.js')).token,
  'print-tokens': async () => (await import('./token-commands.js')).printTokens,
  doctor: async () => (await import('./doctor-command.js')).doctor,
  'import-python': async () => (await import('./client-commands.js')).importPython,
  use: async () => (await import('./profile-commands.js')).use,
};

void runCli(USAGE, async (signal) => {
  const argv = process.argv.slice(2);
  if (argv[0] === '--version' || argv[0] === '-v') return out.out(SDK_VERSION);
  if (argv[0] === '--help' || argv[0] === '-h') return out.out(USAGE);
  // `--profile <name>` may come before the command word too (`mesh-auth --profile work status`).
  const { name, args: rest } = splitCommand(argv, 'login');
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`Unknown command "${name}".`);
  const longNames = [...Object.keys(spec.options ?? {}), 'profile', 'help'];
  const args = expandAbbreviations(rest, longNames, spec.usage);
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { ...spec.options, profile: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: (spec.positionals ?? 0) > 0,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, spec.usage);
  }
  if (positionals.length > (spec.positionals ?? 0))
    throw new UsageError(`Unexpected argument "${positionals.at(-1)}".`, spec.usage);
  if (values.help) return out.out(spec.usage);
  const command = await (commands[name] as (typeof commands)[string])();
  const profile = typeof values.profile === 'string' ? values.profile : undefined;
  await command(values, signal, positionals, { out, ui, usage: spec.usage, profile });
});
