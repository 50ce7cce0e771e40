/**
 * Prints, as one JSON line on stdout, what this process finds about itself with no inputs given:
 * the memoized environment and the verdicts read from it. environment.test.ts starts it with
 * chosen variables, with pipes or inside a pseudo-terminal (`script`).
 */

import { remoteOrWsl } from '../../src/flow/remote-session.js';
import { currentEnvironment } from '../../src/internal/environment.js';
import { detectHeadless, isInteractive } from '../../src/internal/headless.js';

const environment = currentEnvironment();
process.stdout.write(
  `${JSON.stringify({
    environment,
    same: currentEnvironment() === environment,
    interactive: isInteractive(),
    headless: detectHeadless(undefined),
    remote: remoteOrWsl() ?? null,
  })}\n`,
);
