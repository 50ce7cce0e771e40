/** `mesh-auth doctor`: loaded by the dispatcher (mesh-auth.ts) only when it runs. */
import { MeshClient } from '../client/mesh-client.js';
import { diagnose } from '../diagnostics/doctor.js';
import type { Command } from './command.js';
import { EXIT, Exit } from './run.js';

export const doctor: Command = async (values, signal, _positionals, { out, ui, profile }) => {
  // Not the CLI's client(): a bad setting is the doctor's first finding, not the end of it.
  const checks = await diagnose({
    options: { interactive: false, loginUi: ui.callbacks, ...(profile === undefined ? {} : { profile }) },
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
};
