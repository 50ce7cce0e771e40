/**
 * `mesh-auth use [<name>]` and `mesh-auth status --all`: the profiles of this machine (issue 23).
 * `use` writes `defaultProfile` to the user configuration file, for processes started afterwards;
 * a running process resolved its profile when it was built and never changes it.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PROFILES_DIRECTORY } from '../auth/stores/create-token-store.js';
import { defaultTokenDirectory } from '../auth/stores/file-store.js';
import { resolveConfig } from '../client/configuration.js';
import type { AuthStatus } from '../client/types.js';
import { loadUserConfig, writeDefaultProfile } from '../config/config-file.js';
import { badProfileName, DEFAULT_PROFILE, isProfileName } from '../config/profiles.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { cliClient, emailOf, who } from './cli-client.js';
import type { Command } from './command.js';
import { EXIT, Exit } from './run.js';

/** The configuration as a process started now, naming no profile, resolves it (the env's MESH_PROFILE included). */
function currentConfig(): ResolvedConfig {
  return resolveConfig({});
}

export const use: Command = async (_values, _signal, positionals, context) => {
  const { out } = context;
  const config = currentConfig();
  const path = config.configFile as string;
  const name = positionals[0];
  if (name === undefined) {
    const file = loadUserConfig(path);
    out.out(file.defaultProfile ?? DEFAULT_PROFILE);
    out.err(
      file.defaultProfile === undefined
        ? `No default profile is set in ${path}: processes use "default" unless --profile or MESH_PROFILE names one.`
        : `Set in ${path}: processes use it unless --profile or MESH_PROFILE names another.`,
    );
    if (config.sources.profile === 'env') out.err(`This shell sets MESH_PROFILE=${config.profile}, which wins over it here.`);
    return;
  }
  if (!isProfileName(name)) throw badProfileName(name, 'profile given to `mesh-auth use`');
  await writeDefaultProfile(path, name);
  out.err(out.ok(`Processes started from now on use profile "${name}" (written to ${path}).`));
  out.err('  Running processes keep the profile they started with; --profile and MESH_PROFILE still choose another.');
  if (config.sources.profile === 'env') {
    out.err(`  This shell sets MESH_PROFILE=${config.profile}, which wins over it: unset it to use "${name}" here.`);
  }
};

/** One row of `status --all --json`: every key present, `null` for what is not known. */
interface ProfileRow {
  profile: string;
  loggedIn: boolean;
  email: string | null;
  subject: string | null;
  expiresAt: number | null;
  store: string | null;
  apiUrl: string | null;
  /** Why not logged in (not in the shape, but useful; omitted when logged in). */
  reason?: string;
}

/** Every profile found: default, each folder under `<token dir>/profiles`, each profile of the file. */
async function profilesFound(config: ResolvedConfig): Promise<string[]> {
  const names = new Set<string>([DEFAULT_PROFILE]);
  const base = join(config.tokenDirectory ?? defaultTokenDirectory(), PROFILES_DIRECTORY);
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory() && isProfileName(entry.name)) names.add(entry.name);
  if (config.configFile !== undefined) {
    const file = loadUserConfig(config.configFile);
    for (const name of Object.keys(file.profiles)) names.add(name);
    if (file.defaultProfile !== undefined) names.add(file.defaultProfile);
  }
  if (config.profile !== DEFAULT_PROFILE) names.add(config.profile);
  const named = [...names].filter((name) => name !== DEFAULT_PROFILE).sort();
  return [DEFAULT_PROFILE, ...named];
}

export const statusAll: Command = async (values, signal, _positionals, context) => {
  const { out } = context;
  const current = currentConfig();
  const rows: ProfileRow[] = [];
  const people = new Map<string, string>(); // the person as `status` words it, for the human form
  for (const profile of await profilesFound(current)) {
    // Each profile through a client of its own: its own settings, store and backend.
    let row: ProfileRow;
    try {
      const mesh = cliClient({ ...context, profile });
      const status: AuthStatus = await mesh.authStatus({ signal });
      const backendEmail = status.loggedIn && status.email === undefined ? await emailOf(mesh, signal) : undefined;
      row = {
        profile,
        loggedIn: status.loggedIn,
        email: (status.loggedIn ? (status.email ?? backendEmail) : undefined) ?? null,
        subject: status.subject ?? null,
        expiresAt: status.expiresAt ?? null,
        store: status.store,
        apiUrl: mesh.config.apiUrl,
        ...(status.loggedIn ? {} : { reason: status.reason ?? 'no tokens' }),
      };
      people.set(profile, who(status, backendEmail));
    } catch (error) {
      row = {
        profile,
        loggedIn: false,
        email: null,
        subject: null,
        expiresAt: null,
        store: null,
        apiUrl: null,
        reason: (error as Error).message,
      };
    }
    rows.push(row);
  }
  if (values.json) out.out(JSON.stringify(rows));
  else {
    const chosen = context.profile ?? current.profile;
    for (const row of rows) {
      const mark = row.profile === chosen ? ' (current)' : '';
      const until = row.expiresAt ? `, until ${new Date(row.expiresAt * 1000).toISOString()}` : '';
      const name = people.get(row.profile);
      out.err(
        row.loggedIn
          ? out.ok(`${row.profile}${mark}: logged in as ${name}${until}`)
          : out.fail(`${row.profile}${mark}: not logged in (${row.reason})`),
      );
      if (row.store !== null) out.err(`    Tokens: ${row.store}`);
      if (row.apiUrl !== null) out.err(`    API: ${row.apiUrl}`);
    }
  }
  if (!rows.some((row) => row.loggedIn)) throw new Exit(EXIT.failure);
};
