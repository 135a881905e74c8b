import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { cx_api } from 'aws-cdk-lib';
import { App, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { cdkJsonContext } from '../../lib/config/cdk-context';
import { loadEnvironmentConfig } from '../../lib/config/environments';
import { addSecurityChecks, createShopSystem } from '../../lib/stacks/shop-system';

export interface SynthResult {
  readonly app: App;
  readonly assembly: cx_api.CloudAssembly;
  readonly outdir: string;
}

/**
 * Synthesizes the reference system for one environment exactly as `cdk synth -c env=<name>` does
 * (cdk-nag packs included; a finding that is not acknowledged makes this throw).
 */
export function synthReferenceSystem(envName: string, options: { bundle: boolean }): SynthResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-${envName}-`));
  const context: Record<string, unknown> = { ...cdkJsonContext(), env: envName };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ outdir, context });
  createShopSystem(app, loadEnvironmentConfig(envName));
  addSecurityChecks(app);
  return { app, assembly: app.synth(), outdir };
}

/** Every acknowledgement recorded with `Validations.of(x).acknowledge(...)` in a construct tree. */
export function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const found: Array<{ path: string; id: string; reason: string }> = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      // Recorded as { "<namespace>::<rule id>": "<reason>" }.
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id, reason: String(reason) });
      }
    }
  }
  return found;
}
