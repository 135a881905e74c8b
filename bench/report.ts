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
