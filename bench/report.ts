/** What one benchmark section reports: a table for people, budgets for the exit code, raw data for JSON. */
export interface Budget {
  /** What is checked, e.g. "heaviest bundle". */
  readonly name: string;
  /** The limit in words, e.g. "≤ 400 KB". */
  readonly limit: string;
  /** The measured value in words, e.g. "312 KB (orders post-orders)". */
  readonly actual: string;
  readonly ok: boolean;
}

export interface SectionResult {
  /** Stable key in bench/results/latest.json, e.g. "bundles". */
  readonly id: string;
  /** Heading of the section's markdown table. */
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
  readonly budgets: readonly Budget[];
  /** How the figures were measured, one sentence each (printed under the table). */
  readonly notes?: readonly string[];
  /** Raw samples and figures, written to the JSON file. */
  readonly data: unknown;
}

/** Renders one section as a markdown table, its notes and its budget lines. */
export function renderSection(section: SectionResult): string {
  const lines = [`### ${section.title}`, ''];
  lines.push(`| ${section.headers.join(' | ')} |`);
  lines.push(`| ${section.headers.map(() => '---').join(' | ')} |`);
  for (const row of section.rows) lines.push(`| ${row.join(' | ')} |`);
  if (section.notes?.length) lines.push('', ...section.notes.map((note) => `- ${note}`));
  if (section.budgets.length) {
    lines.push('');
    for (const budget of section.budgets) {
      lines.push(
        `- ${budget.ok ? 'PASS' : 'FAIL'} ${budget.name}: ${budget.actual} (budget ${budget.limit})`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Runs one section on its own (`npx tsx bench/<section>.ts`): prints its table and sets the exit code from
 * its budgets, as `npm run bench` does for all of them.
 */
export function runAlone(section: Promise<SectionResult>): void {
  section.then(
    (result) => {
      console.log(renderSection(result));
      process.exitCode = result.budgets.every((budget) => budget.ok) ? 0 : 1;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    },
  );
}

/** `BENCH_SAMPLES` from the environment, for trying a section alone with fewer samples. */
export function samplesFromEnvironment(): number | undefined {
  return process.env.BENCH_SAMPLES ? Number(process.env.BENCH_SAMPLES) : undefined;
}

/**
 * What Lambda puts in every function's environment, for bundles run in a fresh process: a region, credentials
 * (placeholders; nothing is called), the function name, and the execution-environment markers that switch
 * Powertools Tracer on (`AWS_EXECUTION_ENV`) and the X-Ray SDK into its Lambda mode (`LAMBDA_TASK_ROOT`), as
 * in every ServiceFunction (active tracing); and no SDK upgrade notice, which Lambda's Node.js 24 would not
 * print but this machine's older Node would.
 */
export function lambdaLikeEnvironment(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: '/var/task',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
