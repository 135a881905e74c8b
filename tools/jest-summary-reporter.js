// Jest reporter: the usual progress and summary output, then `N passed, N failed` as the very last line,
// so a run with no tests (or with test files that failed to load) shows. A test file that fails to load
// counts as one failed test: it never got to report its own tests.
const { DefaultReporter, SummaryReporter } = require('@jest/reporters');

class CountingReporter extends DefaultReporter {
  constructor(globalConfig, options) {
    super(globalConfig);
    this.summary = new SummaryReporter(globalConfig, options);
  }

  onRunStart(results, options) {
    super.onRunStart(results, options);
    this.summary.onRunStart(results, options);
  }

  async onRunComplete(contexts, results) {
    if (super.onRunComplete) await super.onRunComplete(contexts, results);
    await this.summary.onRunComplete(contexts, results);
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed\n`);
  }
}

module.exports = CountingReporter;
