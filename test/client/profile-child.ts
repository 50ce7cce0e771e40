/**
 * A process of its own for the profile tests: a MeshClient whose profile comes from MESH_PROFILE
 * (everything from the environment), asking for its token set every few ms for MESH_CHILD_MS, and
 * printing the profile, every distinct subject and how many distinct access tokens it saw (never a token).
 */
import { MeshClient } from '../../src/client/mesh-client.js';
import { decodeJwt } from '../../src/internal/jwt.js';

const client = new MeshClient({ interactive: false });
// The profile is chosen: a test may now change the configuration file under this process.
process.stderr.write('configured\n');
const until = Date.now() + Number(process.env.MESH_CHILD_MS ?? 3000);
const subjects = new Set<string>();
const tokens = new Set<string>();
const errors: string[] = [];
while (Date.now() < until) {
  try {
    const { access_token } = await client.tokenSet();
    tokens.add(access_token);
    subjects.add(String(decodeJwt(access_token).payload.sub));
  } catch (error) {
    errors.push((error as Error).message);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const status = await client.authStatus();
await client.close();
process.stdout.write(
  `${JSON.stringify({ profile: client.config.profile, subjects: [...subjects], tokens: tokens.size, errors, status: { loggedIn: status.loggedIn, subject: status.subject, profile: status.profile } })}\n`,
);
