/**
 * `mesh-env`: write a `.env` (mode 0600) with the token variables, or with a per-deployment API
 * key (`--api-key [NAME]`, the recommended form for servers). A thin shell over MeshClient.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ROTATION_WARNING, renderApiKeyEnvFile, renderTokenEnvFile } from '../auth/stores/env-render.js';
import { MeshClient } from '../client/mesh-client.js';
import { ReauthenticationRequiredError } from '../errors/mesh-error.js';
import { gitExposure } from '../internal/git-exposure.js';
import { isInteractive } from '../internal/headless.js';
import { writeSecretFile } from '../internal/secret-file.js';
import { SDK_VERSION } from '../version.js';
import { expandAbbreviations } from './args.js';
import { loginUi } from './login-ui.js';
import { createOutput } from './output.js';
import { EXIT, Exit, runCli, UsageError } from './run.js';

const USAGE = `Usage: mesh-env [--profile <name>] [-o <path>] [-f] [--api-key [<name>]]

Writes Mesh credentials to a .env file (mode 600), logging in first if needed.

  --profile <name>      The profile whose login (and settings) to use: default MESH_PROFILE,
                        else "mesh-auth use", else "default" (see docs/profiles.md)
  -o, --output <path>   Where to write (default: .env)
  -f, --force           Overwrite without asking, and write into a git work tree that does
                        not ignore the file (refused without it)
  --api-key [<name>]    Write a new Mesh API key (MESH_API_KEY) for one deployment instead of
                        tokens: the recommended form for servers and fleets
  -h, --help, --version`;

const out = createOutput();

async function confirmOverwrite(path: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${path} exists. Overwrite it? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}

void runCli(USAGE, async (signal) => {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  const OPTIONS = {
    output: { type: 'string', short: 'o', default: '.env' },
    force: { type: 'boolean', short: 'f' },
    'api-key': { type: 'boolean' },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  } as const;
  try {
    const args = expandAbbreviations(process.argv.slice(2), Object.keys(OPTIONS));
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return out.out(USAGE);
  if (values.version) return out.out(SDK_VERSION);
  if (positionals.length > (values['api-key'] ? 1 : 0)) throw new UsageError(`Unexpected argument "${positionals.at(-1)}".`);
  const path = resolve(values.output);
  // Refused before any login or key is made: a commit could publish the file (docs/security.md).
  const exposed = (await gitExposure(path)) === 'tracked';
  if (exposed && !values.force) {
    out.err(
      out.fail(
        `${path} is inside a git work tree and not ignored: a commit could publish it. Add it to .gitignore, or pass -f to write it anyway.`,
      ),
    );
    throw new Exit(EXIT.failure);
  }

  if (existsSync(path) && !values.force) {
    if (!process.stdin.isTTY) {
      out.err(out.fail(`${path} exists; not overwriting it without -f (no terminal to ask).`));
      throw new Exit(EXIT.failure);
    }
    if (!(await confirmOverwrite(path))) {
      out.err(`Left ${path} unchanged.`);
      throw new Exit(EXIT.failure);
    }
  }

  const ui = loginUi(out);
  const profile = values.profile === undefined ? {} : { profile: values.profile };
  const mesh = new MeshClient({ interactive: false, loginUi: ui.callbacks, ...profile });
  if (!(await mesh.authStatus({ signal })).loggedIn) {
    if (!isInteractive({ env: process.env, stdin: process.stdin, stderr: process.stderr })) {
      throw new ReauthenticationRequiredError('mesh-env needs a login, and nobody can answer one here (no terminal, or CI).', {
        hint: `Run \`npx mesh-auth${values.profile ? ` --profile ${values.profile}` : ''}\` first, then \`npx mesh-env\` again.`,
      });
    }
    await mesh.login({ signal }).finally(() => ui.stop());
  }

  let content: string;
  if (values['api-key']) {
    const name = positionals[0] ?? `mesh-env ${hostname()} ${new Date().toISOString().slice(0, 10)}`;
    content = renderApiKeyEnvFile(await mesh.generateApiKey(name, { signal }), mesh.config.apiUrl);
  } else {
    content = renderTokenEnvFile(await mesh.tokenSet({ signal }), mesh.config.apiUrl);
  }
  await writeSecretFile(path, content);
  out.err(out.ok(`Wrote ${path} (mode 600).`));
  if (!values['api-key']) out.err(ROTATION_WARNING);
  if (exposed) {
    out.err(out.fail(`${path} is inside a git work tree and not ignored: add it to .gitignore before committing anything.`));
  }
});
