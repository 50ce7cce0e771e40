// The import graph of src/, checked against the layers: no import circle between files, and no
// import from a lower layer up to a higher one. `import type` counts: a type import is coupling too.
//
//   node scripts/import-graph.mjs [--root DIR] [--dir SUB] [--json]
//
// --root: the project folder holding SUB (default: this repository). --dir: the folder to read
// (default `src`); the layers apply to `src` only, any other folder (e.g. `dev`) is checked for
// circles alone. Prints the graph folder by folder, then the findings; exits 1 when there is any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** Bottom to top. A file may import its own folder and the folders before it in this list. */
export const LAYERS = ['internal', 'errors', 'config', 'http', 'auth', 'flow', 'client', 'diagnostics', 'cli', 'server', 'edge'];
/** Outside the order: anything may import version.ts (below everything); the entries (index.ts, worker.ts) and the API they share (api.ts) may import anything (above). */
const BOTTOM_FILES = ['version.ts'];
const TOP_FILES = ['index.ts', 'worker.ts', 'api.ts'];

function parseArgs(argv) {
  const args = { root: resolve(import.meta.dirname, '..'), dir: 'src', json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--root' || arg === '--dir') {
      const value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
      args[arg.slice(2)] = arg === '--root' ? resolve(value) : value;
    } else usage(`unknown argument ${arg}`);
  }
  return args;
}

function usage(problem) {
  console.error(`import-graph: ${problem}\nusage: node scripts/import-graph.mjs [--root DIR] [--dir SUB] [--json]`);
  process.exit(2);
}

function sourceFiles(directory) {
  const found = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (/\.(c|m)?tsx?$/.test(entry.name) && !/\.d\.(c|m)?ts$/.test(entry.name)) found.push(path);
  }
  return found;
}

/** `./x.js` as NodeNext writes it, resolved to the TypeScript file on disk; undefined if none. */
function resolveSpecifier(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(c|m)?jsx?$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, join(base, 'index.ts')];
  return candidates.find((path) => /\.(c|m)?tsx?$/.test(path) && isFile(path));
}

function isFile(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What each import statement names, keyed by the position of its module specifier. */
function namesBySpecifier(fileName, text) {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false);
  const names = new Map();
  const put = (literal, list) => names.set(literal.getStart(source), list);
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const list = [];
      const type = (only) => (clause?.isTypeOnly || only ? 'type ' : '');
      if (clause?.name) list.push(`${type(false)}${clause.name.text}`);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) list.push(`${type(false)}* as ${bindings.name.text}`);
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) list.push(`${type(element.isTypeOnly)}${element.name.text}`);
      }
      put(node.moduleSpecifier, clause ? list : ['(side effect)']);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const clause = node.exportClause;
      const type = (only) => (node.isTypeOnly || only ? 'type ' : '');
      let list = [`${type(false)}*`];
      if (clause && ts.isNamespaceExport(clause)) list = [`${type(false)}* as ${clause.name.text}`];
      if (clause && ts.isNamedExports(clause)) list = clause.elements.map((e) => `${type(e.isTypeOnly)}${e.name.text}`);
      put(
        node.moduleSpecifier,
        list.map((name) => `export ${name}`),
      );
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
      put(node.arguments[0], ['import()']);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      put(node.argument.literal, [`type import()${node.qualifier ? `.${node.qualifier.getText(source)}` : ''}`]);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      put(node.moduleReference.expression, [`${node.name.text} = require()`]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** The layer of a file (its top folder under src) and its rank; undefined when it has no place. */
function placeOf(file) {
  const parts = file.split('/');
  if (parts.length === 1) {
    if (BOTTOM_FILES.includes(file)) return { layer: file, rank: -1 };
    if (TOP_FILES.includes(file)) return { layer: file, rank: LAYERS.length };
    return undefined;
  }
  const rank = LAYERS.indexOf(parts[0]);
  return rank === -1 ? undefined : { layer: parts[0], rank };
}

/** Strongly connected components (Tarjan) with more than one file, or a file importing itself. */
function circles(files, edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let counter = 0;
  const connect = (file) => {
    index.set(file, counter);
    low.set(file, counter);
    counter++;
    stack.push(file);
    onStack.add(file);
    for (const { to } of edges.get(file)) {
      if (!index.has(to)) {
        connect(to);
        low.set(file, Math.min(low.get(file), low.get(to)));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file), index.get(to)));
    }
    if (low.get(file) !== index.get(file)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    const selfLoop = edges.get(file).some(({ to }) => to === file);
    if (component.length > 1 || selfLoop) found.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) connect(file);
  return found.map((members) => ({ files: members, path: shortestLoop(members, edges) }));
}

/** One concrete circle through the component's first file, as a path that ends where it starts. */
function shortestLoop(members, edges) {
  const inside = new Set(members);
  const start = members[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift();
    for (const { to } of edges.get(file)) {
      if (to === start) {
        const path = [start];
        for (let at = file; at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (inside.has(to) && !previous.has(to)) {
        previous.set(to, file);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

export function analyse(root, dir = 'src') {
  const base = resolve(root, dir);
  const layered = dir === 'src';
  const absolute = sourceFiles(base).sort();
  const files = absolute.map((path) => relative(base, path).split(sep).join('/'));
  const edges = new Map(files.map((file) => [file, []]));
  const unresolved = [];
  absolute.forEach((path, i) => {
    const text = readFileSync(path, 'utf8');
    const names = namesBySpecifier(path, text);
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue; // a package: outside the graph
      const target = resolveSpecifier(path, imported.fileName);
      const inside = target && relative(base, target).split(sep).join('/');
      if (inside === undefined) unresolved.push({ from: files[i], specifier: imported.fileName });
      else if (!inside.startsWith('../')) {
        edges.get(files[i]).push({ to: inside, names: names.get(imported.pos) ?? [] });
      }
    }
  });

  const unlayered = layered ? files.filter((file) => placeOf(file) === undefined) : [];
  const upward = [];
  if (layered) {
    for (const [from, list] of edges) {
      const source = placeOf(from);
      for (const { to, names } of list) {
        const target = placeOf(to);
        if (source && target && target.rank > source.rank) {
          upward.push({ from, to, fromLayer: source.layer, toLayer: target.layer, names });
        }
      }
    }
  }

  const groupOf = (file) => (layered ? (placeOf(file)?.layer ?? '(no layer)') : file.includes('/') ? file.split('/')[0] : '.');
  const order = layered ? [...BOTTOM_FILES, ...LAYERS, ...TOP_FILES, '(no layer)'] : [];
  const groups = [...new Set(files.map(groupOf))].sort((a, b) => {
    const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  const layers = groups.map((name) => {
    const members = files.filter((file) => groupOf(file) === name);
    const imports = new Set();
    for (const file of members) for (const { to } of edges.get(file)) if (groupOf(to) !== name) imports.add(groupOf(to));
    return { name, files: members, imports: groups.filter((group) => imports.has(group)) };
  });

  const graph = Object.fromEntries(files.map((file) => [file, edges.get(file)]));
  return { root, dir, layers, graph, circles: circles(files, edges), upward, unresolved, unlayered };
}

function print(result) {
  const { dir, layers, graph } = result;
  console.log(`Import graph of ${dir}/ (${Object.keys(graph).length} files), bottom layer first:`);
  for (const layer of layers) {
    console.log(`\n${layer.name} (${layer.files.length} files) imports: ${layer.imports.join(', ') || '-'}`);
    for (const file of layer.files) {
      const others = [...new Set(graph[file].map(({ to }) => to).filter((to) => !layer.files.includes(to)))];
      console.log(`  ${file}${others.length ? ` -> ${others.join(', ')}` : ''}`);
    }
  }
  const section = (title, list, line) => {
    console.log(`\n${title}: ${list.length === 0 ? 'none' : list.length}`);
    for (const item of list) console.log(`  ${line(item)}`);
  };
  section('Circles', result.circles, (circle) => `${circle.files.length} files: ${circle.path.join(' -> ')}`);
  if (dir === 'src') {
    section(
      'Upward imports',
      result.upward,
      (up) => `${up.from} -> ${up.to} (${up.fromLayer} < ${up.toLayer}): ${up.names.join(', ') || '?'}`,
    );
    section('Files in no layer', result.unlayered, (file) => `${file} (add its folder to LAYERS)`);
  }
  section('Unresolved relative imports', result.unresolved, (miss) => `${miss.from}: '${miss.specifier}'`);
}

export function failed(result) {
  return result.circles.length + result.upward.length + result.unlayered.length + result.unresolved.length > 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const args = parseArgs(process.argv.slice(2));
  if (!isDirectory(join(args.root, args.dir))) usage(`no folder ${join(args.root, args.dir)}`);
  const result = analyse(args.root, args.dir);
  if (args.json) console.log(JSON.stringify({ ...result, order: LAYERS, ok: !failed(result) }, null, 2));
  else print(result);
  process.exitCode = failed(result) ? 1 : 0;
}

function isDirectory(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
