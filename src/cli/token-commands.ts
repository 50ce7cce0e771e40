/**
 * `mesh-auth token` and `print-tokens`: the current token set, refreshed first when due, never a
 * login. A valid stored token is printed without loading the HTTP stack (token-session.ts); the
 * rest is what the CLI's MeshClient does.
 */
import { envInstructions } from '../auth/stores/env-render.js';
import type { TokenSet } from '../auth/stores/token-store.js';
import type { MeshClientOptions } from '../client/options.js';
import type { Command, CommandContext } from './command.js';
import { tokenManagerWithoutHttp } from './token-session.js';

/** What `cliClient(context).tokenSet({ signal })` answers (cli-client.ts), without its HTTP stack when it can. */
async function currentTokenSet(context: CommandContext, signal: AbortSignal): Promise<TokenSet> {
  // The options cliClient() gives MeshClient.
  const options: MeshClientOptions = {
    interactive: false,
    loginUi: context.ui.callbacks,
    ...(context.profile === undefined ? {} : { profile: context.profile }),
  };
  const manager = tokenManagerWithoutHttp(options);
  if (manager) return manager.getTokenSet({ signal, allowLogin: false });
  const { cliClient } = await import('./cli-client.js');
  return cliClient(context).tokenSet({ signal });
}

export const token: Command = async (_values, signal, _positionals, context) => {
  context.out.out((await currentTokenSet(context, signal)).access_token);
};

export const printTokens: Command = async (_values, signal, _positionals, context) => {
  context.out.out(envInstructions(await currentTokenSet(context, signal)));
};
