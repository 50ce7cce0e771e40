/**
 * The client every `mesh-auth` command that needs one builds (its profile from `--profile`), and
 * how a command names the person logged in. Shared by client-commands.ts and profile-commands.ts.
 */
import { clientWith, type MeshClient } from '../client/mesh-client.js';
import type { MeshClientOptions } from '../client/options.js';
import type { AuthStatus } from '../client/types.js';
import { cliTransport } from './cli-transport.js';
import type { CommandContext } from './command.js';

/**
 * The CLI's client: never a login unasked (`interactive: false`), the login shown through the CLI's
 * UI, its requests on the CLI's transport (cli-transport.ts), the profile `--profile` named.
 */
export function cliClient(context: CommandContext, options: MeshClientOptions = {}): MeshClient {
  const profile = context.profile === undefined ? {} : { profile: context.profile };
  return clientWith({ interactive: false, loginUi: context.ui.callbacks, ...profile, ...options }, { transport: cliTransport() });
}

/** `mesh-auth login --profile work` and the like: the flag to repeat in a hint, for a named profile. */
export function profileFlag(profile: string): string {
  return profile === 'default' ? '' : ` --profile ${profile}`;
}

/**
 * Who is logged in, as a person: the stored ID token's e-mail address, else the backend's
 * profile's, else the subject, saying that the account has none.
 */
export function who(status: AuthStatus, backendEmail: string | undefined): string {
  const email = status.email ?? backendEmail;
  if (email !== undefined) return email;
  return `${status.subject ?? 'an unnamed account'} (no e-mail address on this account)`;
}

/** The backend's e-mail address for the user (asked only when the stored ID token names none). */
export async function emailOf(mesh: MeshClient, signal: AbortSignal): Promise<string | undefined> {
  return mesh.profile({ signal }).then(
    (profile) => profile.email,
    () => undefined,
  );
}
