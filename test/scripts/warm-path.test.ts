// scripts/warm-path.ts on the real tree: a warm chat() and listKeys() each run through at most 7
// files of src/ (V8 coverage between a first and a second call), and a tighter bound fails.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function warmPath(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/warm-path.ts', ...args], { cwd: ROOT }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the warm path', () => {
  it('a warm chat() and listKeys() each run through at most 7 files of src/, the client and the HTTP layer among them', async () => {
    const { code, stdout, stderr } = await warmPath('--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, Record<string, string[]>>;
    for (const name of ['chat', 'listKeys']) {
      const files = Object.keys(report[name] ?? {});
      expect(files.length, `${name}: ${files.join(', ')}`).toBeLessThanOrEqual(7);
      expect(files).toEqual(expect.arrayContaining(['src/client/mesh-client.ts', 'src/http/http-client.ts']));
    }
  }, 60_000);

  it('fails when a warm call runs through more files than allowed', async () => {
    const { code, stderr } = await warmPath('--max', '3');
    expect(code).toBe(1);
    expect(stderr).toMatch(/warm chat\(\) runs through \d+ files of src\/, more than 3/);
  }, 60_000);
});
