// Prints what the budget tests measured, where the screenshots and the report are, and closes the
// run with exactly "N passed, N failed" (", N skipped" when some were), which CI reads.
import { join, relative } from 'node:path';
import type { FullResult, Reporter, Suite, TestCase, TestError, TestResult } from '@playwright/test/reporter';
import { FRONTEND } from './locations';

/** A path under frontend/, as seen from where the run was started. */
const at = (path: string) => relative(process.cwd(), join(FRONTEND, path));

export default class SummaryReporter implements Reporter {
  private root?: Suite;
  private readonly measurements = new Map<TestCase, string[]>();
  private errors = 0;
  private lines: string[] = [];

  onBegin(_config: unknown, suite: Suite) {
    this.root = suite;
  }

  onTestEnd(test: TestCase, result: TestResult) {
    const found = result.annotations.filter((a) => a.type === 'measurement' && a.description).map((a) => a.description!);
    if (found.length) this.measurements.set(test, found); // the last attempt's
  }

  /** Errors outside any test (global setup, a worker that did not start): they fail the run. */
  onError(_error: TestError) {
    this.errors += 1;
  }

  onEnd(result: FullResult) {
    const tests = this.root?.allTests() ?? [];
    if (result.status === 'passed' && tests.every((t) => t.results.length === 0)) return; // --list
    const count = (...outcomes: ReturnType<TestCase['outcome']>[]) => tests.filter((t) => outcomes.includes(t.outcome())).length;
    const flaky = count('flaky');
    let failed = count('unexpected') + this.errors;
    if (result.status !== 'passed' && failed === 0) failed = 1; // e.g. interrupted or out of time
    const skipped = count('skipped');
    this.lines = [
      '',
      ...[...this.measurements.values()].flat(),
      `screenshots: ${at('screenshots')}`,
      ...(failed ? [`report: ${at('playwright-report/index.html')} (npx playwright show-report); traces and failure screenshots: ${at('test-results')}`] : []),
      ...(flaky ? [`${flaky} passed only on a retry (flaky)`] : []),
      `${count('expected') + flaky} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
    ];
  }

  // After every reporter's onEnd, so the closing line is the last one.
  async onExit() {
    for (const line of this.lines) console.log(line);
  }
}
