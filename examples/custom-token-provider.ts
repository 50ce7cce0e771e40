// A custom token provider: your own code supplies the bearer token (a vault, another OAuth library).
// mesh-sdk asks it before each call, and once more after the backend refuses a token.
import { MeshClient, type TokenProvider } from 'mesh-sdk';

const provider: TokenProvider = {
  async getAccessToken() {
    const token = process.env.EXAMPLE_ACCESS_TOKEN; // stands in for a vault lookup
    if (!token) throw new Error('Set EXAMPLE_ACCESS_TOKEN');
    return token;
  },
};

const client = new MeshClient({ tokenProvider: provider });
console.log((await client.chat('What is 9 / 3?')).content);
