// docs/API.md is generated from the TSDoc of the package's entry points (npm run docs). These tests regenerate it
// into a temporary folder, in a separate process as `npm run docs` runs it (TypeDoc is ESM only), and fail when
// the committed file differs.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { API_DOCS_FILE, API_ENTRY_POINTS, renderApiDocs } from '../../scripts/generate-api-docs';

const ROOT = path.resolve(__dirname, '..', '..');

/** Where two texts first differ: the line number and the next few lines of each, for a failure message. */
function firstDifference(committed: string, generated: string, lines = 6): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (text: string[], sign: string) =>
    text.length > i
      ? text.slice(i, i + lines).map((line) => `  ${sign} ${line}`)
      : [`  ${sign} (end of file)`];
  return [`at line ${i + 1}:`, ...show(a, '- committed'), ...show(b, '+ generated')].join('\n');
}

describe('docs/API.md', () => {
  let generated: string;

  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-docs-test-'));
    try {
      const out = path.join(dir, 'API.md');
      execFileSync(
        path.join(ROOT, 'node_modules', '.bin', 'tsx'),
        ['scripts/generate-api-docs.ts', '--out', out],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      generated = fs.readFileSync(out, 'utf8');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('is up to date with the TSDoc of the entry points (run `npm run docs` when this fails)', () => {
    const committed = fs.existsSync(API_DOCS_FILE) ? fs.readFileSync(API_DOCS_FILE, 'utf8') : '';
    if (committed !== generated) {
      throw new Error(
        'docs/API.md is stale: the TSDoc of the public entry points changed. Run `npm run docs` and commit ' +
          `docs/API.md.\nFirst difference ${firstDifference(committed, generated)}`,
      );
    }
    expect(committed).toBe(generated);
  });

  it('has a section per entry point, in the order of API_ENTRY_POINTS', () => {
    const sections = [...generated.matchAll(/^# `([^`]+)`$/gm)].map((m) => m[1]);
    expect(sections).toEqual(API_ENTRY_POINTS.map((e) => e.importPath));
  });

  it('holds nothing that changes between machines or commits: no paths, source links or dates', () => {
    expect(generated).not.toContain(ROOT);
    expect(generated).not.toContain(os.tmpdir());
    expect(generated).not.toMatch(/github\.com\/[^)\s]+\/blob\//);
    expect(generated).not.toContain(new Date().toISOString().slice(0, 10));
  });

  it('links only to anchors the document has', () => {
    const anchors = new Set(
      [...generated.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]).concat(headingSlugs(generated)),
    );
    const broken = [...generated.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]).filter((a) => !anchors.has(a));
    expect(broken).toEqual([]);
  });
});

describe('generate-api-docs', () => {
  it('fails when an entry point source is missing, naming it', async () => {
    await expect(
      renderApiDocs([
        ...API_ENTRY_POINTS,
        { importPath: 'cdk-microservices/nothing', source: 'lib/no-such-entry.ts', summary: 'Missing.' },
      ]),
    ).rejects.toThrow(/entry point source missing: cdk-microservices\/nothing → lib\/no-such-entry\.ts/);
  });
});

/** GitHub's heading anchors, as github-slugger computes them (duplicates get -1, -2, ...). */
function headingSlugs(markdown: string): string[] {
  const seen = new Map<string, number>();
  const slugs: string[] = [];
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = fence ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .replace(/<[^>]+>/g, '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\\(.)/g, '$1')
      .replace(/[`*]/g, '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    let slug = base;
    let n = seen.get(base) ?? 0;
    while (seen.has(slug)) slug = `${base}-${++n}`;
    seen.set(base, n);
    seen.set(slug, 0);
    slugs.push(slug);
  }
  return slugs;
}
