// Prints "N passed, N failed[, N skipped]" from vitest's JSON reports (one per Node version);
// with several reports, a line per report first, the total last. Fails when nothing ran.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['.tmp/vitest.json'];
const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.error(`No vitest report at ${file}: that test run did not finish.`);
    total.failed += 1;
    continue;
  }
  // Failed tests, plus files that failed without a failed test (an import error, a failing hook).
  const brokenFiles = (report.testResults ?? []).filter(
    (result) => result.status === 'failed' && !(result.assertionResults ?? []).some((test) => test.status === 'failed'),
  ).length;
  const counts = {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + brokenFiles,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
  for (const key of Object.keys(total)) total[key] += counts[key];
  lines.push(`${basename(file, '.json')}: ${counts.passed} passed, ${counts.failed} failed`);
}
if (files.length > 1) for (const line of lines) console.log(line);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
