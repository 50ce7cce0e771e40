// Prints "N passed, N failed[, N skipped]" from vitest's JSON reports (one per Node version);
// with several reports, a line per report first, the total last. Fails when nothing ran.
// Skipped and todo tests are listed by name. Under CI each one fails the run unless it is on the
// allow-list in scripts/allowed-skips.mjs (platform-only cases): a skip there is a test that
// silently stopped guarding anything, e.g. because a tool CI was meant to install is missing.
import { readFileSync } from 'node:fs';
import { basename, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
// TEST_SUMMARY_ALLOWED_SKIPS: another allow-list module, for this script's own tests.
const allowListFile = process.env.TEST_SUMMARY_ALLOWED_SKIPS ?? resolve(import.meta.dirname, 'allowed-skips.mjs');
const { allowedSkips } = await import(pathToFileURL(allowListFile).href);
for (const entry of allowedSkips) {
  if (!entry.file || !entry.test || !Array.isArray(entry.platforms) || !entry.why) {
    console.error(`Allow-list entry without file, test, platforms and why in ${allowListFile}: ${JSON.stringify(entry)}`);
    process.exit(1);
  }
}
const ci = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());
const NOT_RUN = new Set(['skipped', 'pending', 'todo']);

// The first line of a failure message, cut to a readable length (the full text is in the log above,
// which a CI excerpt may not show: the soaks put every figure that was off, and their first errors,
// on that line, hence room for 1000 characters).
function firstLine(messages) {
  const line = String((messages ?? []).find(Boolean) ?? 'failed (no message)').split('\n')[0];
  return line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : ['.tmp/vitest.json'];
const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
const skipLines = [];
const failLines = [];
const allowedSeen = new Set();
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
  let disallowed = 0;
  for (const result of report.testResults ?? []) {
    const testFile = relative(root, result.name ?? '')
      .split(sep)
      .join('/');
    const failedTests = (result.assertionResults ?? []).filter((test) => test.status === 'failed');
    for (const test of failedTests)
      failLines.push(`  ${basename(file, '.json')}: ${testFile} > ${test.fullName}: ${firstLine(test.failureMessages)}`);
    if (result.status === 'failed' && failedTests.length === 0)
      failLines.push(`  ${basename(file, '.json')}: ${testFile}: ${firstLine([result.message])}`);
    for (const test of result.assertionResults ?? []) {
      if (!NOT_RUN.has(test.status)) continue;
      const allowed = allowedSkips.find(
        (entry) => entry.file === testFile && entry.test === test.fullName && entry.platforms.includes(process.platform),
      );
      if (allowed) allowedSeen.add(allowed);
      else if (ci) disallowed += 1;
      const verdict = allowed ? `allowed: ${allowed.why}` : ci ? 'NOT ALLOWED in CI' : 'skipped';
      skipLines.push(`  ${basename(file, '.json')}: ${testFile} > ${test.fullName} [${test.status}; ${verdict}]`);
    }
  }
  const counts = {
    passed: report.numPassedTests ?? 0,
    failed: (report.numFailedTests ?? 0) + brokenFiles + disallowed,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  };
  for (const key of Object.keys(total)) total[key] += counts[key];
  const skippedNote = counts.skipped ? `, ${counts.skipped} skipped` : '';
  const disallowedNote = disallowed ? ` (${disallowed} of them skips not allowed in CI)` : '';
  lines.push(`${basename(file, '.json')}: ${counts.passed} passed, ${counts.failed} failed${disallowedNote}${skippedNote}`);
}
// Failed tests by name, so the end of a CI log says what failed without the whole log.
if (failLines.length > 0) {
  console.log('Failed:');
  for (const line of failLines) console.log(line);
}
if (skipLines.length > 0) {
  console.log(`Tests that did not run${ci ? ' (CI: each fails the run unless on scripts/allowed-skips.mjs)' : ''}:`);
  for (const line of skipLines) console.log(line);
}
for (const entry of allowedSkips) {
  if (entry.platforms.includes(process.platform) && !allowedSeen.has(entry)) {
    console.log(`Note: allowed skip not seen (does it run now? then drop it from the list): ${entry.file} > ${entry.test}`);
  }
}
if (files.length > 1) for (const line of lines) console.log(line);
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 || total.passed === 0 ? 1 : 0);
