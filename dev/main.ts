/**
 * `npm run dev:stack`: starts the stand-in Auth0 provider and the reference backend on loopback,
 * prints how to point mesh-sdk at them, and stops cleanly on Ctrl-C.
 *
 * Ports: DEV_PROVIDER_PORT (default 4000) and DEV_BACKEND_PORT (default 4001); 0 picks free ones.
 * DEV_BACKEND_CAPABILITIES=all (or a comma list) makes the backend advertise contract part B.
 */
import { startStack } from './stack.js';

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${name}=${raw} is not a port number (0-65535).\n`);
    process.exit(2);
  }
  return port;
}

const stack = await startStack({
  providerPort: portFrom('DEV_PROVIDER_PORT', 4000),
  backendPort: portFrom('DEV_BACKEND_PORT', 4001),
}).catch((error: NodeJS.ErrnoException) => {
  const hint = error.code === 'EADDRINUSE' ? ' (port in use: set DEV_PROVIDER_PORT / DEV_BACKEND_PORT, or 0 for free ports)' : '';
  process.stderr.write(`Could not start the local stack: ${error.message}${hint}\n`);
  process.exit(1);
});

const lines = [
  'Local Mesh stack is running.',
  `  Mesh backend:        ${stack.apiUrl}`,
  `  OpenID provider:     ${stack.provider.issuer}  (stands in for Auth0)`,
  `  Test login:          any user name, e.g. ${stack.testUser.login}; password ${stack.testUser.password}`,
  `  Device-flow client:  ${stack.deviceClientId}`,
  `  Capabilities:        ${stack.backend.settings.capabilities.join(', ') || 'none (the deployed dialect, contract v2 part A)'}`,
  '                       (DEV_BACKEND_CAPABILITIES=all or a comma list advertises contract part B extensions)',
  '',
  'Point mesh-sdk at it:',
  ...Object.entries(stack.env).map(([name, value]) => `  export ${name}=${value}`),
  '',
  'Press Ctrl-C to stop.',
];
process.stdout.write(`${lines.join('\n')}\n`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the local stack...\n`);
  await stack.close();
  process.stdout.write('Stopped.\n');
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
