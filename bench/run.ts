/**
 * `npm run bench`: every benchmark section in one run, side by side with its baseline, then
 * bench/results/latest.json and bench/results/latest.md. Exits 1 when a budget is missed.
 *
 *   npm run bench                      all sections
 *   npm run bench -- --quick           fewer samples (a smoke run; budgets still checked)
 *   npm run bench -- bundles synth     only the named sections
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// This machine may run Node 20; the SDK's notice that its 2027 releases need Node 22 is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { bundlesSection } from './bundles';
import { devSection } from './dev';
import { gatewaySection } from './gateway';
import { hotReloadSection } from './hot-reload';
import { middlewareSection } from './middleware';
import { packageBundlesSection } from './package-bundles';
import type { SectionResult } from './report';
import { renderSection } from './report';
import { runtimeSection } from './runtime';
import { synthSection } from './synth';

const RESULTS = path.join(__dirname, 'results');

const SECTIONS: Record<string, (quick: boolean) => Promise<SectionResult>> = {
  bundles: (quick) => bundlesSection({ samples: quick ? 5 : 21 }),
  middleware: (quick) => middlewareSection({ rounds: quick ? 3 : 5 }),
  synth: (quick) => synthSection({ samples: quick ? 1 : 3 }),
  runtime: (quick) => runtimeSection({ quick }),
  gateway: (quick) => gatewaySection({ quick }),
  'package-bundles': () => packageBundlesSection(),
  dev: (quick) => devSection({ samples: quick ? 1 : 3 }),
  'hot-reload': (quick) => hotReloadSection({ edits: quick ? 5 : 20 }),
};

export function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: __dirname,
      encoding: 'utf8',
    }).trim();
  } catch {
    // Not a git checkout (e.g. an unpacked package): the figures still stand, without a commit.
  }
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    commit,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const chosen = args.filter((a) => !a.startsWith('--'));
  const unknown = chosen.filter((name) => !(name in SECTIONS));
  if (unknown.length) {
    console.error(
      `Unknown section(s): ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}`,
    );
    process.exit(2);
  }
  const names = chosen.length ? chosen : Object.keys(SECTIONS);
  const started = new Date();
  const host = machine();
  console.log(`Benchmark ${quick ? '(quick) ' : ''}on ${host.cpu}, ${host.memory}, Node ${host.node}\n`);

  const sections: SectionResult[] = [];
  for (const name of names) {
    const t0 = Date.now();
    console.log(`Running ${name}...`);
    const section = await SECTIONS[name](quick);
    console.log(`\n${renderSection(section)}\n\n(${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    sections.push(section);
  }

  const budgets = sections.flatMap((s) => s.budgets.map((b) => ({ section: s.id, ...b })));
  const failed = budgets.filter((b) => !b.ok);
  const markdown = [
    `## Benchmark results (${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ', quick run' : ''})`,
    '',
    `Machine: ${host.cpu}, ${host.memory} RAM, ${host.os}, Node ${host.node}; commit ${host.commit}.`,
    '',
    ...sections.map((s) => `${renderSection(s)}\n`),
    `**Budgets: ${budgets.length - failed.length} met, ${failed.length} missed.**`,
    '',
  ].join('\n');
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), markdown);
  fs.writeFileSync(
    path.join(RESULTS, 'latest.json'),
    `${JSON.stringify({ startedAt: started.toISOString(), quick, machine: host, budgets, sections }, null, 2)}\n`,
  );
  console.log(`Budgets: ${budgets.length - failed.length} met, ${failed.length} missed.`);
  for (const budget of failed)
    console.log(`  MISSED ${budget.section}: ${budget.name}: ${budget.actual} (budget ${budget.limit})`);
  console.log(`Written: ${path.relative(process.cwd(), path.join(RESULTS, 'latest.md'))} and latest.json`);
  process.exitCode = failed.length ? 1 : 0;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
