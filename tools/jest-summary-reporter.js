// Prints `N passed, N failed` as the very last line of a test run, so a run with no tests is visible.
// A test file that fails to load counts as one failed test: it never got to report its own tests.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
