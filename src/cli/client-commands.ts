/**
 * The `mesh-auth` commands that need a whole MeshClient (its HTTP client, the backend's auth
 * endpoints, the login flow): login, logout, status and import-python. Loaded by the dispatcher
 * (mesh-auth.ts) only when one of them runs.
 */
import { access } from 'node:fs/promises';
import { pythonHeadlessTokenPaths } from '../auth/stores/python-token-file.js';
import { clientWith, type MeshClient } from '../client/mesh-client.js';
import type { MeshClientOptions } from '../client/options.js';
import type { AuthStatus } from '../client/types.js';
import { cliTransport } from './cli-transport.js';
import type { Command, CommandContext } from './command.js';
import type { Output } from './output.js';
import { EXIT, Exit, UsageError } from './run.js';

/**
 * The CLI's client: never a login unasked (`interactive: false`), the login shown through the CLI's
 * UI, its requests on the CLI's transport (cli-transport.ts).
 */
export function cliClient(context: CommandContext, options: MeshClientOptions = {}): MeshClient {
  return clientWith({ interactive: false, loginUi: context.ui.callbacks, ...options }, { transport: cliTransport() });
}

function describeStatus(out: Output, status: AuthStatus, email: string | undefined): string[] {
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

export const logout: Command = async (_values, _signal, _positionals, context) => {
  const { out } = context;
  const places = await cliClient(context).logout();
  out.err(out.ok(places.length ? `Logged out: removed the tokens from ${places.join(' and ')}.` : 'Nothing to log out of.'));
};

export const login: Command = async (values, signal, positionals, context) => {
  const { out, ui } = context;
  // The Python SDK's `mesh-auth --clear` (auth_cli.py 1.5.4): clear the tokens and exit, whatever else is given.
  if (values.clear) return logout(values, signal, positionals, context);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new UsageError(`--port needs a port number from 1 to 65535, not "${values.port}".`);
  }
  // The flags force the device flow; without them the headless verdict decides, as for login().
  const forceDevice = Boolean(values.headless || values.device);
  const mesh = cliClient(context, { ...(port ? { callbackPort: port } : {}), ...(forceDevice ? { headless: true } : {}) });
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
};

export const status: Command = async (values, signal, _positionals, context) => {
  const { out } = context;
  const mesh = cliClient(context);
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
    for (const line of describeStatus(out, status, email)) out.err(line);
  }
  if (!status.loggedIn) throw new Exit(EXIT.failure);
};

export const importPython: Command = async (values, signal, positionals, context) => {
  const { out } = context;
  const mesh = cliClient(context);
  const path = positionals[0] ?? mesh.config.pythonTokenFile ?? (await firstExisting(pythonHeadlessTokenPaths()));
  if (path === undefined) {
    throw new UsageError('No Python SDK token file found (./.mesh_token.json, /tmp/.mesh_token.json): name it.', context.usage);
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
