/**
 * The local Mesh stack: the stand-in Auth0 provider plus the reference backend, on loopback.
 * Tests call `startStack()` (free ports) and `close()` when done; `npm run dev:stack` runs it.
 */
import { randomBytes } from 'node:crypto';
import type { BackendSettings } from './backend/context.js';
import { type RunningBackend, startBackend } from './backend/server.js';
import {
  DEFAULT_TEST_PASSWORD,
  type ProviderOptions,
  type ProviderSettings,
  type RunningProvider,
  startProvider,
} from './provider/provider.js';

export const LOCAL_CLIENT_ID = 'mesh-backend-local';
/** The provider's public native application for the device flow (`GET /auth/config?flow=device`). */
export const LOCAL_DEVICE_CLIENT_ID = 'mesh-device-local';
export const LOCAL_AUDIENCE = 'https://api.mesh.local';

export interface StackOptions {
  /** Loopback callback ports to register besides 8000 (Auth0 matches redirect URIs exactly). */
  callbackPorts?: number[];
  provider?: Partial<ProviderSettings> & Pick<ProviderOptions, 'spareSigningKey'>;
  /** Backend switches; `capabilities` here wins over env DEV_BACKEND_CAPABILITIES. */
  backend?: Partial<BackendSettings>;
  initialCredits?: number;
  providerPort?: number;
  backendPort?: number;
}

export interface Stack {
  provider: RunningProvider;
  backend: RunningBackend;
  /** The backend's base URL: the SDK's `MESH_API_URL`. */
  apiUrl: string;
  /** The SDK's Auth0 settings for this stack (domain is the provider's origin). */
  auth0: { domain: string; clientId: string; audience: string };
  /** The native application's client id, for the device flow straight at the provider. */
  deviceClientId: string;
  testUser: { login: string; password: string };
  /** Environment variables pointing mesh-sdk at this stack. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export function redirectUrisFor(ports: number[]): string[] {
  return ports.flatMap((port) => ['localhost', '127.0.0.1', '[::1]'].map((host) => `http://${host}:${port}/callback`));
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clientSecret = randomBytes(24).toString('base64url');
  const ports = [8000, ...(options.callbackPorts ?? [])];
  const provider = await startProvider({
    ...options.provider,
    audience: LOCAL_AUDIENCE,
    client: { id: LOCAL_CLIENT_ID, secret: clientSecret, redirectUris: redirectUrisFor(ports) },
    deviceClient: { id: LOCAL_DEVICE_CLIENT_ID },
    port: options.providerPort,
  });
  const backend = await startBackend({
    authority: {
      origin: provider.origin,
      issuer: provider.issuer,
      clientId: LOCAL_CLIENT_ID,
      clientSecret,
      deviceClientId: LOCAL_DEVICE_CLIENT_ID,
      audience: LOCAL_AUDIENCE,
    },
    settings: options.backend,
    initialCredits: options.initialCredits,
    port: options.backendPort,
  }).catch(async (error: unknown) => {
    await provider.close();
    throw error;
  });
  backend.providerCounters = () => provider.counters;
  const auth0 = { domain: provider.origin, clientId: LOCAL_CLIENT_ID, audience: LOCAL_AUDIENCE };
  return {
    provider,
    backend,
    apiUrl: backend.url,
    auth0,
    deviceClientId: LOCAL_DEVICE_CLIENT_ID,
    testUser: { login: 'alice@example.test', password: provider.settings.password ?? DEFAULT_TEST_PASSWORD },
    env: {
      MESH_API_URL: backend.url,
      AUTH0_DOMAIN: auth0.domain,
      AUTH0_CLIENT_ID: auth0.clientId,
      AUTH0_AUDIENCE: auth0.audience,
    },
    close: async () => {
      await Promise.all([backend.close(), provider.close()]);
    },
  };
}
