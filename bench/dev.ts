/**
 * `cdk-microservices dev` on the reference system: seconds from the command to "Ready" (synth by cdk.json's app
 * command, emulator start, provisioning, enforcement, gateway), with an empty bundle cache and with a warm one.
 * Each sample runs the CLI as `npm start` does, in a fresh process, on a free port, and stops it with SIGINT.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_CACHE_VARIABLE } from '../lib/constructs/bundle-cache';
import type { SectionResult } from './report';
import { runAlone, samplesFromEnvironment } from './report';
import { fixed, median } from './stats';

const ROOT = path.join(__dirname, '..');
const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const CLI = path.join(ROOT, 'local', 'cli', 'index.ts');
const COLD_BUDGET = 10;
const WARM_BUDGET = 5;

/** Options of {@link devSection}. */
export interface DevOptions {
  /** Cold and warm samples (each cold sample starts a new, empty bundle cache). @default 3 */
  readonly samples?: number;
  /** Folder of the app. @default the repository (the reference system) */
  readonly appDir?: string;
}

/** One start of `dev`. */
interface DevSample {
  readonly cache: 'empty' | 'warm';
  /** Seconds from spawn to the "Ready" line. */
  readonly ready: number;
  /** Seconds the runtime reported for synth + emulator start (its "Emulator at" line). */
  readonly synthesized: number;
  /** When the app's synth ended, as the runtime reported it. */
  readonly synthOnly: number;
  /** When the emulator was ready, as the runtime reported it. */
  readonly emulatorOnly: number;
  /** Seconds from spawn to the process' first line (CLI start-up). */
  readonly firstLine: number;
}

/** `dev` ready times, empty and warm bundle cache, against the 10 s and 5 s budgets. */
export async function devSection(options: DevOptions = {}): Promise<SectionResult> {
  const samples = Math.max(1, options.samples ?? 3);
  const appDir = options.appDir ?? ROOT;
  const results: DevSample[] = [];
  for (let i = 0; i < samples; i += 1) {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dev-cache-'));
    try {
      results.push(await startOnce(appDir, cache, 'empty'));
      results.push(await startOnce(appDir, cache, 'warm'));
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  }
  const of = (cache: DevSample['cache']) => results.filter((r) => r.cache === cache);
  const row = (cache: DevSample['cache']) => {
    const list = of(cache);
    return [
      cache === 'empty' ? 'empty bundle cache' : 'warm bundle cache',
      `${fixed(median(list.map((r) => r.ready)), 1)} s`,
      `${fixed(median(list.map((r) => r.synthesized)), 1)} s`,
      `${fixed(median(list.map((r) => r.synthOnly)), 1)} s`,
      `${fixed(median(list.map((r) => r.emulatorOnly)), 1)} s`,
      `${fixed(median(list.map((r) => r.ready - r.synthesized)), 1)} s`,
      `${fixed(median(list.map((r) => r.firstLine)), 1)} s`,
      list.length,
    ];
  };
  const cold = median(of('empty').map((r) => r.ready));
  const warm = median(of('warm').map((r) => r.ready));
  return {
    id: 'dev',
    title: '`cdk-microservices dev` on the reference system: command to ready',
    headers: [
      'bundle cache',
      'ready',
      'synth + emulator',
      'synth done',
      'emulator up',
      'provision + serve',
      'CLI start-up',
      'samples',
    ],
    rows: [row('empty'), row('warm')],
    budgets: [
      {
        name: '`dev` ready, empty bundle cache',
        limit: `≤ ${COLD_BUDGET} s`,
        actual: `${fixed(cold, 1)} s`,
        ok: cold <= COLD_BUDGET,
      },
      {
        name: '`dev` ready, warm bundle cache',
        limit: `≤ ${WARM_BUDGET} s`,
        actual: `${fixed(warm, 1)} s`,
        ok: warm <= WARM_BUDGET,
      },
    ],
    notes: [
      'Each sample runs `node --import tsx local/cli/index.ts dev --port 0 --no-watch` (what `npm start` runs) in a fresh process in the repository and times it to its "Ready" line; medians.',
      `Empty: ${BUNDLE_CACHE_VARIABLE} names a new, empty folder (every function is bundled by esbuild); warm: the next start with the same folder (every bundle reused).`,
      'The app is synthesized by its cdk.json app command (`npx tsx bin/app.ts`, run as node with tsx\'s loader, without aws-cdk-lib\'s template schema validation; cdk-nag runs) while moto starts; "synth done" and "emulator up" are when each ended (seconds from the command), "synth + emulator" when both had, "provision + serve" the rest (provisioning, IAM enforcement set-up, gateway, demo users).',
      `Machine: ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(2)} when the section ended.`,
    ],
    data: { samples: results },
  };
}

/** Starts `dev` once; resolves when it is ready and stopped again. */
function startOnce(appDir: string, cache: string, label: DevSample['cache']): Promise<DevSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, 'dev', '--port', '0', '--no-watch'], {
      cwd: appDir,
      env: { ...process.env, [BUNDLE_CACHE_VARIABLE]: cache, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let firstLine: number | undefined;
    let synthesized = 0;
    let synthOnly = 0;
    let emulatorOnly = 0;
    let ready: number | undefined;
    let stopping = false;
    const timeout = setTimeout(() => child.kill('SIGKILL'), 180_000);
    const onData = (chunk: Buffer) => {
      firstLine ??= seconds();
      output += chunk.toString('utf8');
      const emulator = /\[(\d+\.\d)s\] Emulator at/.exec(output);
      if (emulator) synthesized = Number(emulator[1]);
      const parts = /\(ready at ([\d.]+)s; synthesized at ([\d.]+)s\)/.exec(output);
      if (parts) [emulatorOnly, synthOnly] = [Number(parts[1]), Number(parts[2])];
      if (ready === undefined && /\] Ready: \d+ routes on /.test(output)) ready = seconds();
      // Stopped once it has printed everything (routes, users, how to get a token).
      if (ready !== undefined && !stopping && /Ctrl-C stops everything/.test(output)) {
        stopping = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timeout);
      if (ready === undefined) {
        reject(new Error(`dev did not get ready (${label} cache):\n${output.slice(-3000)}`));
        return;
      }
      resolve({ cache: label, ready, synthesized, synthOnly, emulatorOnly, firstLine: firstLine ?? ready });
    });
  });
}

if (require.main === module) runAlone(devSection({ samples: samplesFromEnvironment() }));
