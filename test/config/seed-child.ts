/**
 * A process of a fleet starting up with MESH_TOKEN_STORE=redis://... and MESH_TOKEN_FROM_ENV=true:
 * builds its store through the configuration and the storage policy, as a client does, waits for
 * the start signal (a file at MESH_SEED_GO, so that every process races at once), loads once and
 * prints the refresh token it got as JSON.
 */
import { existsSync } from 'node:fs';
import { createTokenStore } from '../../src/auth/stores/create-token-store.js';
import { resolveConfig } from '../../src/config/resolve.js';

const config = resolveConfig({ env: process.env });
const { store } = createTokenStore(config, { env: process.env });
const go = process.env.MESH_SEED_GO as string;
while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 5));
const tokens = await store.load();
process.stdout.write(`${JSON.stringify({ refresh: tokens?.refresh_token ?? null })}\n`);
