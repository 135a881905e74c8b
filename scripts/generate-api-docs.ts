/**
 * `npm run docs`: regenerates docs/API.md, the API reference of the package's public entry points, from their
 * TSDoc with TypeDoc and typedoc-plugin-markdown (formatting options in typedoc.json).
 *
 * TypeDoc renders one Markdown page per entry point; this script joins them into one file in the order of
 * {@link API_ENTRY_POINTS}, turns every link between pages into a link inside the file, and keeps the output free
 * of anything that changes between machines or commits (no dates, absolute paths or source links).
 *
 * `tsx scripts/generate-api-docs.ts [--out <file>]` writes to docs/API.md unless `--out` names another file
 * (test/docs/api-docs.test.ts generates into a temporary folder and compares).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** One public entry point of the package, as a consumer imports it. */
export interface ApiEntryPoint {
  /** The specifier a consumer imports (`cdk-microservices/kit`); also the section's heading. */
  readonly importPath: string;
  /** Its source file, relative to the repository root. */
  readonly source: string;
  /** One or two sentences under the heading: what the entry point is for and where it runs. */
  readonly summary: string;
}

/**
 * The entry points docs/API.md documents, in the order they appear. Each must exist: a missing source file is an
 * error, never skipped. Keep it in step with package.json's `exports`.
 */
export const API_ENTRY_POINTS: readonly ApiEntryPoint[] = [
  {
    importPath: 'cdk-microservices',
    source: 'lib/index.ts',
    summary:
      'The CDK constructs (CommonJS, for CDK apps): `Platform`, `PlatformReference`, `Microservice`, ' +
      '`ServiceFunction`, `EventSubscription`, `TransactionalOutbox`, the service registry and the security checks.',
  },
  {
    importPath: 'cdk-microservices/kit',
    source: 'functions/shared/index.ts',
    summary:
      'The runtime kit for handlers (ESM for Lambda bundles, CommonJS for Jest and ts-node): HTTP routes, event ' +
      'consumers, outbox transactions, the service client with retries and a circuit breaker, the Powertools ' +
      'singletons, tracing, and the errors mapped to HTTP answers. Each area is also an entry point of its own ' +
      '(`cdk-microservices/kit/http`, `/kit/events`, `/kit/errors`, ...) that loads only that area.',
  },
  {
    importPath: 'cdk-microservices/contracts',
    source: 'functions/contracts/index.ts',
    summary:
      'Event contracts (ESM and CommonJS): `defineContract`, the envelope every event travels in, and the ' +
      "reference system's contracts (`OrderPlaced`, `StockReserved`, ...). CDK apps pass contract objects to " +
      '`publishes` and `subscriptions`; handlers parse with them.',
  },
  {
    importPath: 'cdk-microservices/local',
    source: 'local/index.ts',
    summary:
      'The local runtime, programmatic (CommonJS): run a synthesized app offline from code, e.g. in an ' +
      'integration test. The `cdk-microservices` CLI (`dev`, `describe`, `token`, `check`) is built on it.',
  },
];

/** Repository root (this file lives in scripts/). */
const ROOT = path.resolve(__dirname, '..');

/** The committed reference. */
export const API_DOCS_FILE = path.join(ROOT, 'docs', 'API.md');

/**
 * Generates the API reference of `entries` and returns it as one Markdown document.
 *
 * @throws when an entry point's source file does not exist, or TypeDoc reports an error
 */
export async function renderApiDocs(entries: readonly ApiEntryPoint[] = API_ENTRY_POINTS): Promise<string> {
  const missing = entries.filter((e) => !fs.existsSync(path.join(ROOT, e.source)));
  if (missing.length > 0) {
    throw new Error(
      `generate-api-docs: entry point source missing: ${missing.map((e) => `${e.importPath} → ${e.source}`).join(', ')}`,
    );
  }
  const pages = await renderPages(entries);
  return joinPages(entries, pages);
}

// ---------------------------------------------------------------------------------------------------------------
// TypeDoc (ESM only: loaded with a dynamic import; typed here by what this script uses, because the repository's
// node10 module resolution does not read typedoc's `exports` types)

interface Reflection {
  name: string;
  readonly kind: number;
  readonly children?: Reflection[];
  readonly inheritedFrom?: { readonly reflection?: unknown };
  readonly signatures?: Reflection[];
  readonly parent?: Reflection;
}
interface ProjectReflection extends Reflection {
  removeReflection(reflection: Reflection): void;
}
interface RenderedPage {
  readonly url: string;
  readonly model: Reflection;
  readonly contents?: string;
}
interface TypeDocApplication {
  readonly options: {
    getCompilerOptions(): object;
    setCompilerOptions(fileNames: readonly string[], options: object, references: undefined): void;
  };
  readonly renderer: { on(event: string, listener: (page: RenderedPage) => void): void };
  readonly logger: { readonly hasErrors: () => boolean; readonly hasWarnings: () => boolean };
  convert(): Promise<ProjectReflection | undefined>;
  generateOutputs(project: ProjectReflection): Promise<void>;
}
interface TypeDocModule {
  readonly Application: {
    bootstrapWithPlugins(options: object, readers: readonly object[]): Promise<TypeDocApplication>;
  };
  readonly TypeDocReader: new () => object;
  readonly TSConfigReader: new () => object;
  readonly PageEvent: { readonly END: string };
  readonly ReflectionKind: { readonly Module: number; readonly Project: number };
}

/**
 * TypeDoc's module URL. A bare `import('typedoc')` would resolve to ./typedoc.json through tsconfig's `baseUrl`
 * (tsx honours it), so the package is found through its package.json.
 */
function typedocUrl(): string {
  const manifest = require.resolve('typedoc/package.json');
  const main = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { exports: { '.': { default: string } } })
    .exports['.'].default;
  return pathToFileURL(path.join(path.dirname(manifest), main)).href;
}

interface Page {
  /** Index into the entry list, or -1 for TypeDoc's index page of a multi-entry project. */
  readonly entry: number;
  /** The page's URL relative to TypeDoc's output folder. */
  readonly url: string;
  readonly contents: string;
}

async function renderPages(entries: readonly ApiEntryPoint[]): Promise<Page[]> {
  const td = (await import(typedocUrl())) as TypeDocModule;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'api-docs-'));
  const cwd = process.cwd();
  process.chdir(ROOT); // typedoc.json and tsconfig.json are read from the working directory
  try {
    const sources = entries.map((e) => path.join(ROOT, e.source));
    const app = await td.Application.bootstrapWithPlugins({ entryPoints: sources, out }, [
      new td.TypeDocReader(),
      new td.TSConfigReader(),
    ]);
    // Only the entry points and what they import, not every file tsconfig.json includes (tests, bench, ...).
    app.options.setCompilerOptions(sources, app.options.getCompilerOptions(), undefined);
    const project = await app.convert();
    if (!project || app.logger.hasErrors())
      throw new Error('generate-api-docs: TypeDoc reported errors (above)');
    const modules = entries.length === 1 ? [project] : moduleOf(project, entries, td.ReflectionKind.Module);
    modules.forEach((m, i) => (m.name = entries[i].importPath));
    dropExternalInheritance(project, project);

    const pages: Page[] = [];
    app.renderer.on(td.PageEvent.END, (page) => {
      pages.push({ entry: modules.indexOf(page.model), url: page.url, contents: page.contents ?? '' });
    });
    await app.generateOutputs(project);
    if (app.logger.hasErrors()) throw new Error('generate-api-docs: TypeDoc reported errors (above)');
    return pages;
  } finally {
    process.chdir(cwd);
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The module reflection of each entry point, in the entries' order (TypeDoc names a module by its path). */
function moduleOf(project: Reflection, entries: readonly ApiEntryPoint[], moduleKind: number): Reflection[] {
  const modules = (project.children ?? []).filter((c) => c.kind === moduleKind);
  const base = commonDir(entries.map((e) => path.dirname(e.source)));
  return entries.map((e) => {
    const rel = path.relative(base, e.source).replace(/\.tsx?$/, '');
    const name = rel.replace(/(^|\/)index$/, '') || 'index';
    const found = modules.find((m) => m.name === name);
    if (!found) {
      throw new Error(
        `generate-api-docs: no TypeDoc module "${name}" for ${e.source} (modules: ${modules.map((m) => m.name).join(', ')})`,
      );
    }
    return found;
  });
}

function commonDir(dirs: readonly string[]): string {
  const split = dirs.map((d) => d.split('/').filter((s) => s !== '.'));
  const common: string[] = [];
  for (let i = 0; split.every((s) => i < s.length && s[i] === split[0][i]); i++) common.push(split[0][i]);
  return common.join('/');
}

/**
 * Members inherited from outside the package (Error's `stack`, Construct's `node`, ...) are left out: they are
 * documented where they are defined and would repeat in every class.
 */
function dropExternalInheritance(project: ProjectReflection, parent: Reflection): void {
  for (const child of [...(parent.children ?? [])]) {
    if (child.inheritedFrom && !child.inheritedFrom.reflection) project.removeReflection(child);
    else dropExternalInheritance(project, child);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Joining the pages into one document

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces to hyphens, -1, -2 on repeats. */
class Slugger {
  private readonly seen = new Map<string, number>();

  slug(heading: string): string {
    const base = plainText(heading)
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    let slug = base;
    let n = this.seen.get(base) ?? 0;
    while (this.seen.has(slug)) slug = `${base}-${++n}`;
    this.seen.set(base, n);
    this.seen.set(slug, 0);
    return slug;
  }
}

/** The text GitHub renders for a heading's Markdown. */
function plainText(markdown: string): string {
  return markdown
    .replace(/<[^>]+>/g, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\\(.)/g, '$1')
    .replace(/[`*]/g, '')
    .trim();
}

const HEADING = /^(#{1,6}) (.*)$/;
const EXPLICIT_ANCHOR = /<a id="([^"]+)"><\/a>/g;

/** Every heading line outside code blocks: [line index, level, text]. */
function headings(lines: readonly string[]): Array<[number, number, string]> {
  const found: Array<[number, number, string]> = [];
  let fence = false;
  lines.forEach((line, i) => {
    if (line.startsWith('```')) fence = !fence;
    const m = fence ? null : HEADING.exec(line);
    if (m) found.push([i, m[1].length, m[2]]);
  });
  return found;
}

function joinPages(entries: readonly ApiEntryPoint[], pages: readonly Page[]): string {
  const byEntry = entries.map((e, i) => {
    const page = pages.find((p) => p.entry === i);
    if (!page) throw new Error(`generate-api-docs: TypeDoc rendered no page for ${e.importPath}`);
    return page;
  });
  const unexpected = pages.filter((p) => p.entry < 0 && !/^(README|index)\.md$/.test(p.url));
  if (unexpected.length > 0) {
    throw new Error(
      `generate-api-docs: pages outside the entry points: ${unexpected.map((p) => p.url).join(', ')}`,
    );
  }

  const head = [
    '# API reference',
    '',
    '<!-- Generated by `npm run docs` (scripts/generate-api-docs.ts) from the TSDoc of the entry points below. Do not edit: a test fails when this file is stale. -->',
    '',
    'Every entry point of the `cdk-microservices` package, as a consumer imports it. The guide',
    '([GUIDE.md](GUIDE.md)) shows how they fit together; the changelog ([../CHANGELOG.md](../CHANGELOG.md)) says',
    'what counts as a breaking change.',
    '',
  ];
  const global = new Slugger();
  head.forEach((line) => HEADING.test(line) && global.slug(HEADING.exec(line)![2]));

  // Each page's body: its title replaced by the entry point's heading (level 1, like the page's title, so the
  // page's own levels, down to 6, stay valid).
  const bodies = byEntry.map((page, i) => {
    const lines = page.contents.replace(/\r\n/g, '\n').split('\n');
    const titleAt = headings(lines).find(([, level]) => level === 1)?.[0] ?? -1;
    const body = lines.slice(titleAt + 1);
    while (body.length > 0 && body[0].trim() === '') body.shift();
    while (body.length > 0 && body[body.length - 1].trim() === '') body.pop();
    return [`# \`${entries[i].importPath}\``, '', entries[i].summary, '', ...body];
  });
  const toc = entries.map(
    (e, i) => `- [\`${e.importPath}\`](#${tocAnchor(bodies[i][0])}): ${firstSentence(e.summary)}`,
  );
  head.push(...toc);

  // Anchor maps: the slug a heading had on its own page → the slug it has in the joined document; then the
  // explicit anchors (`<a id="property-x"></a>` of table rows) → a name no heading or earlier anchor has.
  const anchorMaps = byEntry.map((page, i) => {
    const local = new Slugger();
    const original = page.contents.replace(/\r\n/g, '\n').split('\n');
    const localSlugs = headings(original).map(([, , text]) => local.slug(text));
    const joinedSlugs = headings(bodies[i]).map(([, , text]) => global.slug(text));
    // The page title (dropped) maps to the entry point's heading, the rest pair up in order.
    const map = new Map<string, string>();
    map.set(localSlugs[0], joinedSlugs[0]);
    localSlugs.slice(1).forEach((slug, k) => map.set(slug, joinedSlugs[k + 1]));
    return { url: page.url, map, ids: new Map<string, string>(), top: joinedSlugs[0] };
  });
  const used = new Set(anchorMaps.flatMap((p) => [...p.map.values()]));
  bodies.forEach((body, i) => {
    for (const [, id] of body.join('\n').matchAll(EXPLICIT_ANCHOR)) {
      let unique = id;
      for (let n = 1; used.has(unique); n++) unique = `${id}-${n}`;
      used.add(unique);
      anchorMaps[i].ids.set(id, unique);
    }
  });

  const rewritten = bodies.map((body, i) => {
    const from = path.posix.dirname(byEntry[i].url);
    let fence = false;
    return body
      .map((line) => {
        if (line.startsWith('```')) fence = !fence;
        if (fence) return line;
        const anchored = line.replace(
          EXPLICIT_ANCHOR,
          (_, id: string) => `<a id="${anchorMaps[i].ids.get(id)}"></a>`,
        );
        return anchored.replace(/\]\(([^)\s]*)\)/g, (whole, href: string) => {
          if (/^[a-z]+:/i.test(href)) return whole;
          const [file, anchor] = href.split('#');
          const target = file === '' ? byEntry[i].url : path.posix.normalize(path.posix.join(from, file));
          const page = anchorMaps.find((p) => p.url === target);
          if (!page) {
            if (/^(README|index)\.md$/.test(target)) return '](#api-reference)';
            throw new Error(
              `generate-api-docs: link to ${href} from ${byEntry[i].url} leads outside the reference`,
            );
          }
          if (!anchor) return `](#${page.top})`;
          const mapped = page.ids.get(anchor) ?? page.map.get(anchor);
          if (!mapped)
            throw new Error(`generate-api-docs: link to ${href} from ${byEntry[i].url}: no such heading`);
          return `](#${mapped})`;
        });
      })
      .join('\n');
  });
  return `${[head.join('\n'), ...rewritten].join('\n\n')}\n`;
}

function tocAnchor(heading: string): string {
  return new Slugger().slug(HEADING.exec(heading)![2]);
}

function firstSentence(text: string): string {
  const end = text.search(/[.:]\s/);
  return end < 0 ? text : `${text.slice(0, end)}.`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const at = process.argv.indexOf('--out');
  const file = at >= 0 ? path.resolve(process.argv[at + 1]) : API_DOCS_FILE;
  const started = Date.now();
  const markdown = await renderApiDocs();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, markdown);
  console.log(
    `Wrote ${path.relative(process.cwd(), file)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
