// The placeholders the TypeScript snippets in README.md and docs/ may use without declaring them.
// test/docs/code-blocks.test.ts compiles every ```ts block of those pages against the built
// package's types with this file alongside, and runs the blocks marked `<!-- runnable -->`
// against the local stack. A snippet that needs a name not declared here declares it itself.

/** An access token you hold (from your own login, a header, a test). */
declare const someToken: string;
/** The id of an API key, as `generateApiKey()` and `listApiKeys()` return it. */
declare const id: string;
