// Every `code` an error can carry is a documented constant of ErrorCode: (a) the constants
// themselves and the docs' table, both ways; (b) the source, scanned for every code it raises,
// so that a code built at run time (`'login_' + x`) fails here; (c) the real login paths, driven
// into OAuth errors by the local provider and a real loopback listener, carry an ErrorCode
// member as `code` and the server's own word in `serverCode`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approveDeviceOverHttp } from '../../dev/login-driver.js';
import { freePort } from '../../dev/ports.js';
import type { ProviderSettings } from '../../dev/provider/provider.js';
import { DEFAULT_HINTS } from '../../src/errors/hints.js';
import { DEFAULT_SCOPE } from '../../src/flow/auth0-settings.js';
import { auth0DeviceTransport, type DeviceTransport, deviceLogin } from '../../src/flow/device-login.js';
import { type LoopbackListener, startLoopbackListener } from '../../src/flow/loopback-listener.js';
import * as sdk from '../../src/index.js';
import { ErrorCode, LoginError, MeshError } from '../../src/index.js';
import { useStack } from '../helpers/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CODES = new Set<string>(Object.values(ErrorCode));
const KEYS = new Set<string>(Object.keys(ErrorCode));
const isMember = (code: unknown): boolean => typeof code === 'string' && CODES.has(code);

// ---------------------------------------------------------------------------------------------
// (a) the constants, their doc comments, and the table in docs/troubleshooting.md

/** `KEY -> doc comment` of each member of `ErrorCode`, read from src/errors/codes.ts. */
function codeComments(): Map<string, string> {
  const path = join(ROOT, 'src/errors/codes.ts');
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const comments = new Map<string, string>();
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && node.name.getText(file) === 'ErrorCode') {
      let init = node.initializer;
      while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init))) init = init.expression;
      if (!init || !ts.isObjectLiteralExpression(init)) throw new Error('ErrorCode is not an object literal');
      for (const property of init.properties) {
        const docs = ts.getJSDocCommentsAndTags(property).map((doc) => doc.getText(file));
        comments.set(property.name?.getText(file) ?? '?', docs.join('\n'));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return comments;
}

/** The rows of the "Error codes" table: code -> cells (code, class, meaning, what to do). */
function documentedRows(): Map<string, string[]> {
  const page = readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8');
  const section = page.split(/^## Error codes$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error('docs/troubleshooting.md has no "## Error codes" section');
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code) rows.set(code, cells.slice(1, 5));
  }
  return rows;
}

/** The rows of the "Error codes" table: code -> class column. */
function documentedCodes(): Map<string, string> {
  return new Map([...documentedRows()].map(([code, cells]) => [code, cells[1] ?? '']));
}

describe('hints', () => {
  it('every code has a default hint, and the table\'s "what to do" is that hint word for word', () => {
    const rows = documentedRows();
    for (const code of CODES) {
      const hint = DEFAULT_HINTS[code as ErrorCode];
      expect(hint, code).toMatch(/\S.{10,}/);
      expect(rows.get(code)?.[3]?.replaceAll('`', ''), code).toBe(hint.replaceAll('`', ''));
    }
  });

  it('every exported error class, raised without a hint, still says what to do', () => {
    const classes = Object.values(sdk).filter(
      (value): value is typeof MeshError =>
        value === MeshError || (typeof value === 'function' && value.prototype instanceof MeshError),
    );
    expect(classes.length).toBeGreaterThan(15);
    for (const ErrorClass of classes) {
      const error = new (ErrorClass as new (message: string, details: object) => MeshError)('something failed', {});
      expect(error.hint, ErrorClass.name).toBe(DEFAULT_HINTS[error.code]);
    }
    // A raiser's own advice wins over the code's.
    expect(new MeshError('x', { code: 'timeout', hint: 'Raise timeout to 90 s.' }).hint).toBe('Raise timeout to 90 s.');
  });
});

describe('ErrorCode', () => {
  it('has unique snake_case values under UPPER_SNAKE keys', () => {
    const values = Object.values(ErrorCode);
    expect(new Set(values).size).toBe(values.length);
    for (const [key, value] of Object.entries(ErrorCode)) {
      expect(value).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(key).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
    }
  });

  it('keeps the strings users match on', () => {
    expect(ErrorCode).toMatchObject({
      CALLBACK_PORT_IN_USE: 'callback_port_in_use',
      LOGIN_TIMEOUT: 'login_timeout',
      LOGIN_ACCESS_DENIED: 'login_access_denied',
      LOGIN_EXPIRED: 'login_expired',
      LOGIN_DEVICE_CONFIG_UNAVAILABLE: 'login_device_config_unavailable',
      LOGIN_FAILED: 'login_failed',
    });
  });

  it('documents each member in its doc comment: what it means and which class raises it', () => {
    const comments = codeComments();
    expect([...comments.keys()].sort()).toEqual([...KEYS].sort());
    for (const [key, doc] of comments) {
      const comment = doc.replace(/[/*\s]+/g, ' ').trim();
      expect(comment, key).toMatch(/Raised by `[A-Za-z]+Error`/);
      expect(comment.length, key).toBeGreaterThan(80); // a meaning and what to do, not a label
    }
  });

  it('is listed whole in docs/troubleshooting.md, which lists nothing else, with a real class for each', () => {
    const rows = documentedCodes();
    expect([...rows.keys()].sort()).toEqual([...CODES].sort());
    for (const [code, classes] of rows) {
      const names = [...classes.matchAll(/`([A-Za-z]+)`/g)].map((match) => match[1] as string);
      expect(names.length, code).toBeGreaterThan(0);
      for (const name of names) {
        const exported = (sdk as Record<string, unknown>)[name];
        expect(
          exported === MeshError || (typeof exported === 'function' && exported.prototype instanceof MeshError),
          `${code}: ${name}`,
        ).toBe(true);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (b) the source: every ErrorCode.X use and every code written as a literal

/** Calls whose `code` is not ours: zod's issue codes, Node's warning codes. */
const FOREIGN_CODE_CALLS = /^(ctx\.addIssue|process\.emitWarning)$/;

/** Problems with the codes raised in one source text; empty when every code is an ErrorCode member. */
function codeProblems(fileName: string, text: string): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const problems: string[] = [];
  const where = (node: ts.Node) => `${fileName}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}`;

  /** Inside the details of `new SomethingError(...)` (MeshError and every subclass, ours or a user's). */
  const inErrorDetails = (literal: ts.ObjectLiteralExpression): boolean => {
    let node: ts.Node = literal;
    while (
      ts.isObjectLiteralExpression(node.parent) ||
      ts.isSpreadAssignment(node.parent) ||
      ts.isParenthesizedExpression(node.parent)
    ) {
      node = node.parent;
    }
    const parent = node.parent;
    return ts.isNewExpression(parent) && /Error$/.test(parent.expression.getText(file));
  };
  const inForeignCall = (literal: ts.ObjectLiteralExpression): boolean =>
    ts.isCallExpression(literal.parent) && FOREIGN_CODE_CALLS.test(literal.parent.expression.getText(file));

  /** A code expression: an ErrorCode.X, a literal member, or a choice between them. */
  const checkCode = (expression: ts.Expression, strict: boolean) => {
    if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isSatisfiesExpression(expression)) {
      checkCode(expression.expression, strict);
    } else if (ts.isConditionalExpression(expression)) {
      checkCode(expression.whenTrue, strict);
      checkCode(expression.whenFalse, strict);
    } else if (
      ts.isBinaryExpression(expression) &&
      [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(expression.operatorToken.kind)
    ) {
      checkCode(expression.left, strict);
      checkCode(expression.right, strict);
    } else if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) {
      if (!CODES.has(expression.text)) problems.push(`${where(expression)}: code '${expression.text}' is not an ErrorCode value`);
    } else if (ts.isTemplateExpression(expression) || ts.isBinaryExpression(expression)) {
      problems.push(`${where(expression)}: a code built at run time (${expression.getText(file)})`);
    } else if (ts.isPropertyAccessExpression(expression) && expression.expression.getText(file) === 'ErrorCode') {
      // checked where every ErrorCode.X is
    } else if (strict) {
      problems.push(`${where(expression)}: an error's code must be written as ErrorCode.X (${expression.getText(file)})`);
    }
  };

  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node) && node.expression.getText(file) === 'ErrorCode' && !KEYS.has(node.name.text)) {
      problems.push(`${where(node)}: ErrorCode.${node.name.text} does not exist`);
    }
    if (ts.isElementAccessExpression(node) && node.expression.getText(file) === 'ErrorCode') {
      problems.push(`${where(node)}: ErrorCode[...] picks a code at run time`);
    }
    if (ts.isPropertyAssignment(node) && node.name.getText(file).replace(/['"]/g, '') === 'code') {
      const literal = node.parent as ts.ObjectLiteralExpression;
      if (!inForeignCall(literal)) {
        const strict = inErrorDetails(literal);
        // Elsewhere (zod schemas, errno checks) only what looks like a code we raise is checked.
        const looksRaised =
          ts.isStringLiteralLike(node.initializer) ||
          ts.isTemplateExpression(node.initializer) ||
          ts.isBinaryExpression(node.initializer);
        if (strict || looksRaised) checkCode(node.initializer, strict);
      }
    }
    if (
      ts.isShorthandPropertyAssignment(node) &&
      node.name.text === 'code' &&
      inErrorDetails(node.parent as ts.ObjectLiteralExpression)
    ) {
      problems.push(`${where(node)}: an error's code must be written as ErrorCode.X ({ code })`);
    }
    if (ts.isPropertyDeclaration(node) && node.name.getText(file) === 'defaultCode' && node.initializer) {
      checkCode(node.initializer, true);
    }
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left) &&
      node.left.name.text === 'code'
    ) {
      checkCode(node.right, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

const sourceFiles = () =>
  (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join('src', name));

describe('the source raises only ErrorCode members', () => {
  it('every ErrorCode.X exists and every code written in src/ is a member', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(20);
    const problems = files.flatMap((name) => codeProblems(name, readFileSync(join(ROOT, name), 'utf8')));
    expect(problems).toEqual([]);
    // The scan did see the codes the login raises (else it proves nothing).
    const flow = files.filter((name) => name.includes('flow')).map((name) => readFileSync(join(ROOT, name), 'utf8'));
    expect(flow.join('\n')).toMatch(/ErrorCode\.CALLBACK_PORT_IN_USE/);
  });

  it.each([
    ['a code built by concatenation', "throw new LoginError('x', { code: 'login_' + error });"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text for the scan, not a template
    ['a code built by a template', 'throw new LoginError(`x`, { code: `login_${error}` });'],
    ['a code from a helper', "throw new LoginError('x', { code: loginCodeFor(error), hint: 'h' });"],
    ['a literal that is not a member', "throw new MeshError('x', { ...base, code: 'http_404' });"],
    ['an unknown constant', "throw new LoginError('x', { code: ErrorCode.LOGIN_INVALID_SCOPE });"],
    ['a subclass default built at run time', "class E extends MeshError { static override defaultCode = 'x_' + y; }"],
    ['a choice with a bad branch', "new ServerError('x', { code: ok ? ErrorCode.SERVER_ERROR : 'oops' });"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text for the scan, not a template
    ['a code assigned later', 'details.code = `login_${word}`;'],
  ])('the scan catches %s', (_name, text) => {
    expect(codeProblems('probe.ts', text)).toHaveLength(1);
  });

  it('the scan lets through codes that are not ours and codes written as constants', () => {
    const text = [
      "ctx.addIssue({ code: 'custom', message: 'bad url' });",
      "process.emitWarning('old', { type: 'DeprecationWarning', code: 'MESH_DEP_X' });",
      'const schema = z.object({ code: z.union([z.string(), z.number()]).optional() });',
      "if (error.code === 'ENOENT') return;",
      "new LoginError('x', { code: ErrorCode.LOGIN_TIMEOUT });",
      "new MeshError('x', { code: 'request_failed' });",
      'class E extends MeshError { static override defaultCode: ErrorCode = ErrorCode.TIMEOUT; }',
    ].join('\n');
    expect(codeProblems('probe.ts', text)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) the real login paths, driven into OAuth errors

async function failure(promise: Promise<unknown>): Promise<LoginError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LoginError);
  return error as LoginError;
}

describe('the browser login callback (the real loopback listener, over HTTP)', () => {
  const STATE = 'state-0123456789abcdefghijklmnopqrstuvwxyz';
  let listener: LoopbackListener | undefined;
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
  });

  it.each([
    ['access_denied', 'The+user+said+no', ErrorCode.LOGIN_ACCESS_DENIED, 'The user said no'],
    ['invalid_scope', 'Scope+%22admin%22+is+not+allowed', ErrorCode.LOGIN_FAILED, 'Scope "admin" is not allowed'],
    ['server_error', undefined, ErrorCode.LOGIN_FAILED, undefined],
    ['not%20a%09word\u00e9', undefined, ErrorCode.LOGIN_FAILED, undefined],
  ])('error=%s: our code is a member, serverCode the server word', async (error, description, code, message) => {
    const port = await freePort();
    listener = await startLoopbackListener({ port, state: STATE, timeoutMs: 10_000 });
    const query = `error=${error}&state=${STATE}${description ? `&error_description=${description}` : ''}`;
    const reply = await fetch(`http://127.0.0.1:${port}/callback?${query}`, { redirect: 'manual' });
    expect(reply.status).toBe(302);
    const refused = await failure(listener.code);
    expect(refused.code).toBe(code);
    expect(isMember(refused.code)).toBe(true);
    expect(refused.serverCode).toBe(error.includes('%') ? 'unknown' : error);
    expect(refused.serverMessage).toBe(message);
    expect(refused.toJSON()).toMatchObject({ code, serverCode: refused.serverCode });
    // The browser gets its page, so the listener closes at once.
    listener.finish({ ok: false, reason: refused.message });
    expect((await fetch(`http://127.0.0.1:${port}/done`)).status).toBe(200);
  });
});

describe('the device login against the local provider (Auth0 layout)', () => {
  const stack = useStack();
  let providerDefaults: ProviderSettings;
  const dispatcher = new Agent();
  beforeAll(() => {
    providerDefaults = { ...stack.provider.settings };
  });
  afterAll(async () => {
    await dispatcher.close();
  });
  afterEach(() => {
    Object.assign(stack.provider.settings, providerDefaults);
  });

  const transport = (clientId = stack.deviceClientId): DeviceTransport =>
    auth0DeviceTransport(
      { domain: stack.env.AUTH0_DOMAIN as string, clientId, audience: stack.env.AUTH0_AUDIENCE as string, scope: DEFAULT_SCOPE },
      dispatcher,
    );

  it('access_denied from the server: login_access_denied, serverCode access_denied', async () => {
    stack.provider.settings.deviceInterval = 1;
    const denied = await failure(
      deviceLogin({
        transport: transport(),
        onVerification: (v) => void approveDeviceOverHttp(v.verificationUriComplete as string, { deny: true }),
      }),
    );
    expect(denied).toMatchObject({ code: ErrorCode.LOGIN_ACCESS_DENIED, serverCode: 'access_denied' });
  });

  it('expired_token from the server (our clock held still, so only the server can say it): login_expired', async () => {
    stack.provider.settings.deviceInterval = 1;
    stack.provider.settings.deviceCodeTtl = 2;
    const frozen = Date.now();
    const expired = await failure(deviceLogin({ transport: transport(), onVerification: () => {}, now: () => frozen }));
    expect(expired).toMatchObject({ code: ErrorCode.LOGIN_EXPIRED, serverCode: 'expired_token' });
  }, 15_000);

  it('an error no code names (invalid_grant for a device code the server never issued): login_failed, serverCode invalid_grant', async () => {
    stack.provider.settings.deviceInterval = 1;
    const real = transport();
    const forged: DeviceTransport = {
      start: (signal) => real.start(signal),
      poll: (_code, signal) => real.poll('not-a-device-code', signal),
    };
    const failed = await failure(deviceLogin({ transport: forged, onVerification: () => {} }));
    expect(failed.code).toBe(ErrorCode.LOGIN_FAILED);
    expect(failed.serverCode).toBe('invalid_grant');
    expect(failed.message).not.toMatch(/not-a-device-code/);
  });

  it('a start the server refuses (an unknown application): login_failed with its status, serverCode invalid_client', async () => {
    const refused = await failure(deviceLogin({ transport: transport('no-such-client'), onVerification: () => {} }));
    expect(refused.code).toBe(ErrorCode.LOGIN_FAILED);
    expect(refused.serverCode).toBe('invalid_client');
    expect(refused.status).toBeGreaterThanOrEqual(400);
  });
});
