// The names the docs use exist in the code, and the names a user meets in the code are in the
// docs: exports (`mesh-sdk`'s export list and the members of its types), environment variables,
// the CLIs' commands and flags, and the headless signals. Each check lists what drifted.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config/settings.js';
import { HEADLESS_SIGNALS } from '../../src/internal/environment.js';
import { blocks, inlineCode, type Page, pages, ROOT } from './markdown.js';

const run = promisify(execFile);
const PAGES = pages();
const guides = (page: Page) => !/^docs\/(architecture|local-stack|backend-contract)\.md$/.test(page.path);

/** Every code text of the pages: inline spans and fenced blocks. */
function codeTexts(page: Page): string[] {
  return [...inlineCode(page), ...blocks(page).map((block) => block.code)];
}

// ---------------------------------------------------------------------------------------------
// Exports

/** The package's exports and, for each exported class or interface, its members. */
function publicNames(): { exports: Set<string>; members: Set<string> } {
  const entry = join(ROOT, 'src', 'index.ts');
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry) as ts.SourceFile) as ts.Symbol;
  const symbols = checker.getExportsOfModule(module);
  const members = new Set<string>();
  for (const symbol of symbols) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (target.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
      for (const member of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(target))) members.add(member.name);
    }
  }
  return { exports: new Set(symbols.map((symbol) => symbol.name)), members };
}

/**
 * Names the guides use in code that are not mesh-sdk's: the platform's, undici's, HTTP's, and the
 * Python SDK's (docs/from-python.md maps those to ours).
 */
const FOREIGN_NAMES = new Set([
  // Deno's permission error (docs/runtimes.md)
  'NotCapable',
  // JavaScript, Node.js, undici, HTTP
  'require',
  'import',
  'Date',
  'AbortSignal',
  'DeprecationWarning',
  'EnvHttpProxyAgent',
  'Agent',
  'Dispatcher',
  'request',
  'Host',
  // The Python SDK
  'get_default_model',
  'get_default_model_with_override',
  'None',
  'False',
  'MeshZKPClient',
  'AutoRefreshMeshClient',
  'OpenAI',
  'Anthropic',
  'Google',
  'Provider',
  'PostInstallCommand',
]);

describe('exported names', () => {
  const { exports, members } = publicNames();

  it('every name imported from mesh-sdk in the docs is exported', () => {
    const imported = PAGES.flatMap((page) =>
      codeTexts(page).flatMap((text) =>
        [...text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'mesh-sdk'/g)].flatMap((match) =>
          (match[1] as string)
            .split(',')
            .map(
              (name) =>
                name
                  .trim()
                  .replace(/^type\s+/, '')
                  .split(/\s+as\s+/)[0] as string,
            )
            .filter(Boolean)
            .map((name) => ({ page: page.path, name })),
        ),
      ),
    );
    expect(imported.length).toBeGreaterThan(5);
    expect(imported.filter(({ name }) => !exports.has(name)).map(({ page, name }) => `${page}: ${name}`)).toEqual([]);
  });

  it('every function called and every class named in the guides is public (exported, or a member of an exported type)', () => {
    const unknown: string[] = [];
    for (const page of PAGES.filter(guides)) {
      const names = new Set<string>();
      for (const span of inlineCode(page)) {
        // A call not on an object (`defaultModelFor(config, 'openai')`), or a class-like name alone (`NotFoundError`).
        for (const match of span.matchAll(/(?<![\w.$])([A-Za-z_][\w$]*)\(/g)) names.add(match[1] as string);
        const alone = /^(?:new )?((?:[A-Z][a-z]+){2,})(?:\(|$)/.exec(span);
        if (alone) names.add(alone[1] as string);
      }
      for (const name of names) {
        if (!exports.has(name) && !members.has(name) && !FOREIGN_NAMES.has(name)) unknown.push(`${page.path}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Environment variables

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mjs|sh)$/.test(name) ? [path] : [];
  });
}

/** Variables that are not ours to read: a user's own (snippets), and the Python SDK's that we do not read. */
const FOREIGN_VARIABLES = new Set([
  'REDIS_URL',
  'ANTHROPIC_API_KEY',
  'HEADLESS_MODE',
  'MODEL_ALIASES',
  'PROVIDER_MODELS',
  'THINKING_ENABLED',
  'DEFAULT_THINKING_BUDGET',
  'DEFAULT_THINKING_MAX_TOKENS',
]);
/** Read by the SDK from a variable it sets itself (the keychain's child process): not configuration. */
const INTERNAL_VARIABLES = new Set(['MESH_KEYRING_MODULE', 'MESH_KEYRING_KIND', 'MESH_KEYRING_SERVICE']);
const VARIABLE = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g;

describe('environment variables', () => {
  it('every variable the docs name is read somewhere (the SDK, the local stack, the scripts, the examples, the soaks)', () => {
    const code = [
      ...['src', 'dev', 'scripts', 'examples', 'bench', 'test/soak'].flatMap((dir) => sourceFiles(join(ROOT, dir))),
      join(ROOT, '.ci/run'),
    ]
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    const known = new Set(code.match(VARIABLE));
    const unknown = PAGES.flatMap((page) =>
      [...new Set(codeTexts(page).flatMap((text) => text.match(VARIABLE) ?? []))]
        .filter((name) => !known.has(name) && !FOREIGN_VARIABLES.has(name))
        .map((name) => `${page.path}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every variable the SDK reads is in the docs', () => {
    const read = new Set<string>([
      ...Object.values(SETTINGS).flatMap((row): readonly string[] =>
        'env' in row && row.env !== undefined ? [row.env].flat() : [],
      ),
      ...HEADLESS_SIGNALS.filter((signal) => !signal.startsWith('/')),
    ]);
    for (const path of sourceFiles(join(ROOT, 'src'))) {
      const text = readFileSync(path, 'utf8');
      for (const match of text.matchAll(
        /\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|envAt\(\w+, '([A-Z][A-Z0-9_]+)'\)/g,
      )) {
        read.add((match[1] ?? match[2] ?? match[3]) as string);
      }
    }
    const documented = PAGES.map((page) => codeTexts(page).join('\n')).join('\n');
    const missing = [...read].filter((name) => !INTERNAL_VARIABLES.has(name) && !new RegExp(`\\b${name}\\b`).test(documented));
    expect(read.size).toBeGreaterThan(30);
    expect(missing).toEqual([]);
  });

  it("docs/authentication.md's headless table lists exactly the signals the code looks at", () => {
    const page = PAGES.find((p) => p.path === 'docs/authentication.md') as Page;
    const section = page.text.split(/^## Headless detection$/m)[1]?.split(/^## /m)[0] ?? '';
    const firstColumn = section
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|')[1] ?? '');
    const listed = new Set(firstColumn.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string)));
    expect([...listed].sort()).toEqual([...HEADLESS_SIGNALS].sort());
  });
});

// ---------------------------------------------------------------------------------------------
// The CLIs

interface CliHelp {
  commands: Set<string>;
  flags: Set<string>;
}

async function help(bin: 'mesh-auth' | 'mesh-env', args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', `${bin}.ts`), ...args, '--help'], {
    cwd: ROOT,
  });
  return stdout;
}

const flagsIn = (text: string) => new Set(text.match(/(?<![\w-])--?[a-z][a-z-]*/g) ?? []);

/** The flags a help text declares: on its Usage and Options lines and the option rows (not in prose). */
function declaredFlags(text: string): Set<string> {
  const lines = text.split('\n').filter((line) => /^(Usage:|Options:|\s+-)/.test(line));
  // An option row's description (after two spaces) is prose: only its first column counts.
  return new Set(
    lines.flatMap((line) => [...flagsIn(/^\s+-/.test(line) ? (line.trimStart().split(/ {2,}/)[0] as string) : line)]),
  );
}

describe('the CLIs', () => {
  const cli = new Map<string, CliHelp>();
  beforeAll(async () => {
    const main = await help('mesh-auth', []);
    const commands = new Set([...main.matchAll(/^ {2}([a-z][a-z-]+) {2,}/gm)].map((match) => match[1] as string));
    const texts = [main, ...(await Promise.all([...commands].map((command) => help('mesh-auth', [command]))))];
    cli.set('mesh-auth', { commands, flags: new Set(texts.flatMap((text) => [...declaredFlags(text)])) });
    cli.set('mesh-env', { commands: new Set(), flags: declaredFlags(await help('mesh-env', [])) });
  });

  /** `[bin, what follows it]` for every mention of a CLI in a code line or span of the docs. */
  function invocations(): Array<{ page: string; bin: string; rest: string }> {
    return PAGES.flatMap((page) =>
      codeTexts(page)
        .flatMap((text) => text.split('\n'))
        .flatMap((line) => {
          // "npx mesh-auth status; mesh-env -f" -> ["npx ", "mesh-auth", " status; ", "mesh-env", " -f"]
          const parts = line.split(/\b(mesh-auth|mesh-env)\b(?![.\w])/);
          return parts.flatMap((part, index) =>
            index % 2 === 1 ? [{ page: page.path, bin: part, rest: parts[index + 1] ?? '' }] : [],
          );
        }),
    );
  }

  it('every flag and command the docs give a CLI is in its help (an abbreviation counts, as the CLI accepts them)', () => {
    const wrong: string[] = [];
    for (const { page, bin, rest } of invocations()) {
      const { commands, flags } = cli.get(bin) as CliHelp;
      for (const flag of flagsIn(rest)) {
        if (![...flags].some((known) => known === flag || (flag.startsWith('--') && known.startsWith(flag)))) {
          wrong.push(`${page}: ${bin} ${flag}`);
        }
      }
      const command = /^ ([a-z][a-z-]+)\b/.exec(rest)?.[1];
      if (bin === 'mesh-auth' && command && !commands.has(command)) wrong.push(`${page}: mesh-auth ${command}`);
    }
    expect(invocations().length).toBeGreaterThan(20);
    expect(wrong).toEqual([]);
  });

  it('every command and flag in the help is in the docs (a flag with a short form: either)', async () => {
    const said = invocations().map(({ bin, rest }) => `${bin}${rest}`);
    const spans = new Set(PAGES.flatMap(inlineCode));
    const texts = new Map([
      ['mesh-auth', await help('mesh-auth', ['login'])],
      ['mesh-env', await help('mesh-env', [])],
    ]);
    const missing: string[] = [];
    for (const [bin, { commands, flags }] of cli) {
      for (const command of commands) {
        if (!said.some((text) => text.startsWith(`${bin} ${command}`))) missing.push(`${bin} ${command}`);
      }
      for (const flag of flags) {
        // `-o, --output`: documenting either is enough.
        const pair = /(-\w), (--[\w-]+)/.exec((texts.get(bin) as string).split('\n').find((line) => line.includes(flag)) ?? '');
        const forms = pair ? [pair[1], pair[2]] : [flag];
        const documented = forms.some(
          (form) => spans.has(form as string) || said.some((text) => text.startsWith(bin) && flagsIn(text).has(form as string)),
        );
        if (!documented) missing.push(`${bin} ${flag}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
