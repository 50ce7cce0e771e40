/**
 * The `mesh-auth` commands that need a whole MeshClient (its HTTP client, the backend's auth
 * endpoints, the login flow): login, logout, status and import-python. Loaded by the dispatcher
 * (mesh-auth.ts) only when one of them runs.
 */
import { access } from 'node:fs/promises';
import { pythonHeadlessTokenPaths } from '../auth/stores/python-token-file.js';
import { idTokenEmail } from '../client/auth-status.js';
import type { AuthStatus } from '../client/types.js';
import { sleep } from '../http/waiting.js';
import { cliClient, emailOf, profileFlag, who } from './cli-client.js';
import type { Command } from './command.js';
import type { Output } from './output.js';
import { EXIT, Exit, UsageError } from './run.js';

/** ` (profile work)` after a name, for a named profile; nothing for the default one, as before profiles. */
function ofProfile(profile: string): string {
  return profile === 'default' ? '' : ` (profile ${profile})`;
}

function describeStatus(out: Output, status: AuthStatus, email: string | undefined): string[] {
  if (!status.loggedIn)
    return [
      out.fail(`Not logged in: ${status.reason ?? 'no tokens'}.`),
      `  Profile: ${status.profile}`,
      `  Tokens: ${status.store}`,
      `  Run \`npx mesh-auth${profileFlag(status.profile)}\` to log in.`,
    ];
  return [
    out.ok(`Logged in as ${who(status, email)}`),
    `  Profile: ${status.profile}`,
    ...(status.expiresAt ? [`  Access token expires: ${new Date(status.expiresAt * 1000).toISOString()}`] : []),
    `  Tokens: ${status.store}`,
    `  Checked by: the ${status.validation?.source ?? 'local'} validator${status.validation?.reason ? ` (${status.validation.reason})` : ''}`,
  ];
}

export const logout: Command = async (_values, _signal, _positionals, context) => {
  const { out } = context;
  const mesh = cliClient(context);
  const places = await mesh.logout();
  const of = mesh.config.profile === 'default' ? '' : ` of profile ${mesh.config.profile}`;
  out.err(out.ok(places.length ? `Logged out${of}: removed the tokens from ${places.join(' and ')}.` : 'Nothing to log out of.'));
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
      const as = who(status, status.email ?? (await emailOf(mesh, signal)));
      out.err(out.ok(`Already logged in as ${as}${ofProfile(status.profile)}. Use --force to log in again.`));
      return;
    }
  }
  const profile = await mesh
    .login({ ...(forceDevice ? { device: true } : {}), ...(values['no-browser'] ? { openBrowser: false } : {}), signal })
    .finally(() => ui.stop());
  const stored = await mesh.tokenSet({ signal }).catch(() => undefined);
  const as = idTokenEmail(stored?.id_token) ?? profile.email ?? `${profile.id} (no e-mail address on this account)`;
  out.err(out.ok(`Logged in as ${as}${ofProfile(mesh.config.profile)}. Tokens: ${mesh.describeTokenStore()}`));
};

export const status: Command = async (values, signal, positionals, context) => {
  if (values.all) return (await import('./profile-commands.js')).statusAll(values, signal, positionals, context);
  const { out } = context;
  const mesh = cliClient(context);
  const status = await mesh.authStatus({ signal });
  const email = status.loggedIn && status.email === undefined ? await emailOf(mesh, signal) : undefined;
  if (values.json) {
    out.out(
      JSON.stringify({
        profile: status.profile,
        credential: status.credential,
        loggedIn: status.loggedIn,
        email: status.loggedIn ? (status.email ?? email) : undefined,
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
  // The profile read for the address is kept with the tokens, so the next status asks the backend
  // one thing, not two: give that write a moment, never long (it waits for the refresh lock, which
  // another process may hold, and it is only a saving; a write cut short is atomic).
  if (email !== undefined) await Promise.race([mesh.close(), sleep(SETTLE_MS)]);
  if (!status.loggedIn) throw new Exit(EXIT.failure);
};

/** How long `status` waits for the profile to be kept with the tokens before it exits anyway. */
const SETTLE_MS = 500;

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
