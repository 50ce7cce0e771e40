// scripts/test-summary.mjs on hand-made vitest JSON reports: counts, and under CI a skipped test
// fails the run unless the allow-list names it for this platform.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/test-summary.mjs');
let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mesh-test-summary-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Test {
  fullName: string;
  status: 'passed' | 'failed' | 'skipped' | 'todo';
  failureMessages?: string[];
}

async function report(name: string, tests: Test[], file = 'test/flow/browser-login.test.ts'): Promise<string> {
  const count = (status: Test['status']) => tests.filter((test) => test.status === status).length;
  const path = join(directory, `${name}.json`);
  await writeFile(
    path,
    JSON.stringify({
      numPassedTests: count('passed'),
      numFailedTests: count('failed'),
      numPendingTests: count('skipped'),
      numTodoTests: count('todo'),
      testResults: [
        {
          name: join(ROOT, file),
          status: count('failed') ? 'failed' : 'passed',
          assertionResults: tests.map((test) => ({ ...test, title: test.fullName, ancestorTitles: [] })),
        },
      ],
    }),
  );
  return path;
}

function summary(files: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [SCRIPT, ...files], { env: { PATH: process.env.PATH, ...env } }, (error, stdout) => {
      resolvePromise({ code: error ? (error.code as number) : 0, stdout });
    });
  });
}

const loopback = 'login in a real browser listens on loopback only';

describe('test-summary', () => {
  it('outside CI a skip is listed and counted, and does not fail the run', async () => {
    const file = await report('local', [
      { fullName: 'a', status: 'passed' },
      { fullName: loopback, status: 'skipped' },
    ]);
    const { code, stdout } = await summary([file], {});
    expect(code).toBe(0);
    expect(stdout).toContain(`test/flow/browser-login.test.ts > ${loopback} [skipped; skipped]`);
    expect(stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed, 1 skipped');
  });

  it('under CI a skip or todo not on the allow-list fails the run, naming the test', async () => {
    const file = await report('ci', [
      { fullName: 'a', status: 'passed' },
      { fullName: loopback, status: 'skipped' },
      { fullName: 'later', status: 'todo' },
    ]);
    const { code, stdout } = await summary([file], { CI: 'true' });
    expect(code).toBe(1);
    expect(stdout).toContain(`${loopback} [skipped; NOT ALLOWED in CI]`);
    expect(stdout).toContain('later [todo; NOT ALLOWED in CI]');
    expect(stdout.trim().split('\n').at(-1)).toBe('1 passed, 2 failed, 2 skipped');
  });

  it('under CI a skip on the allow-list for this platform passes; for another platform it does not', async () => {
    const file = await report('allowed', [
      { fullName: 'a', status: 'passed' },
      { fullName: loopback, status: 'skipped' },
    ]);
    const allowList = async (platforms: string[]) => {
      const path = join(directory, `allow-${platforms.join('-')}.mjs`);
      const entry = { file: 'test/flow/browser-login.test.ts', test: loopback, platforms, why: 'a reason' };
      await writeFile(path, `export const allowedSkips = [${JSON.stringify(entry)}];\n`);
      return path;
    };
    const here = await summary([file], { CI: 'true', TEST_SUMMARY_ALLOWED_SKIPS: await allowList([process.platform]) });
    expect(here.code).toBe(0);
    expect(here.stdout).toContain('[skipped; allowed: a reason]');
    const elsewhere = await summary([file], { CI: 'true', TEST_SUMMARY_ALLOWED_SKIPS: await allowList(['aix']) });
    expect(elsewhere.code).toBe(1);
  });

  it('the real allow-list gives every entry a reason and platforms', async () => {
    const { allowedSkips } = (await import(pathToFileURL(join(ROOT, 'scripts/allowed-skips.mjs')).href)) as {
      allowedSkips: Array<{ file: string; test: string; platforms: string[]; why: string }>;
    };
    for (const entry of allowedSkips) {
      expect(entry.why.length).toBeGreaterThan(10);
      expect(entry.platforms.length).toBeGreaterThan(0);
    }
    const file = await report('clean', [{ fullName: 'a', status: 'passed' }]);
    expect((await summary([file], { CI: 'true' })).code).toBe(0);
  });

  it('several reports: a line each, then the total; a missing report fails', async () => {
    const one = await report('one', [{ fullName: 'a', status: 'passed' }]);
    const two = await report('two', [{ fullName: 'b', status: 'failed' }]);
    const { code, stdout } = await summary([one, two, join(directory, 'missing.json')], {});
    expect(code).toBe(1);
    expect(stdout).toContain('one: 1 passed, 0 failed');
    expect(stdout).toContain('two: 0 passed, 1 failed');
    expect(stdout.trim().split('\n').at(-1)).toBe('1 passed, 2 failed');
  });

  it('names each failed test with the first line of its message, so the end of the log says what failed', async () => {
    const file = await report('extensions', [
      { fullName: 'a', status: 'passed' },
      {
        fullName: 'refresh survives a kill',
        status: 'failed',
        failureMessages: ['AssertionError: expected 1 to be 2\n    at stack'],
      },
    ]);
    const { code, stdout } = await summary([file], {});
    expect(code).toBe(1);
    expect(stdout).toContain(
      'extensions: test/flow/browser-login.test.ts > refresh survives a kill: AssertionError: expected 1 to be 2',
    );
    expect(stdout).not.toContain('at stack');
    expect(stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed');
  });
});
