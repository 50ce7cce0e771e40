// The tests that may be skipped in CI, and why. Under CI, scripts/test-summary.mjs fails the run for
// every skipped or todo test that is not listed here.
//
// Only platform-only cases belong here: a test that cannot run on the platform the suite runs on
// (say a macOS Keychain test on Linux), listed with the platforms where its skip is expected. A test
// skipped because a tool is missing (Chromium, tmux, gnome-keyring, redis-server) or the machine
// lacks something (a non-loopback address) does not: CI installs the tool or provides the thing.
//
// An entry: {
//   file: path from the repository root, e.g. 'test/auth/stores/keychain-store.test.ts',
//   test: the full name: describe titles and the test title joined by single spaces,
//   platforms: process.platform values on which the skip is expected, e.g. ['linux', 'win32'],
//   why: one line for the next reader,
// }
//
// Today nothing in the suite skips by platform: the list is empty on purpose.
export const allowedSkips = [];
