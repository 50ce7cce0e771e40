// Runs a script's `run(process.env)` under Node.js, Bun or Deno and prints its answer as the last
// line: `<runtime> run-local.mjs ./api.mjs`. A failure prints the error's name, code and message.
const [script] = process.argv.slice(2);
const { run } = await import(new URL(script, import.meta.url).href);
try {
  console.log(JSON.stringify({ ok: true, seen: await run(process.env) }));
} catch (error) {
  console.log(
    JSON.stringify({ ok: false, error: { name: error.name, code: error.code, message: error.message, stack: error.stack } }),
  );
  process.exitCode = 1;
}
