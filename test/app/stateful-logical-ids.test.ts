import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  FoundStatefulResource,
  StatefulRecording,
  StatefulResourcesByStack,
} from '../../scripts/record-stateful-ids';
import { RECORDING_FILE, synthStatefulResources } from '../../scripts/record-stateful-ids';
import { ROOT } from '../helpers';

// The contract of issue 13: no stateful resource of `dev` or `prod` moves. The recording is written only by
// `npx tsx scripts/record-stateful-ids.ts`; this test reads it and never rewrites it.
const recording = JSON.parse(fs.readFileSync(path.join(ROOT, RECORDING_FILE), 'utf8')) as StatefulRecording;

const key = (r: { logicalId: string; type: string }) => `${r.logicalId} (${r.type})`;

/** Every difference between the recorded and the synthesized stateful resources of one environment. */
function differences(
  envName: string,
  recorded: StatefulResourcesByStack,
  synthesized: StatefulResourcesByStack<FoundStatefulResource>,
): string[] {
  const found: string[] = [];
  const stacks = [...new Set([...Object.keys(recorded), ...Object.keys(synthesized)])].sort();
  for (const stack of stacks) {
    const before = recorded[stack];
    const after = synthesized[stack];
    if (!after) {
      found.push(`${envName} ${stack}: the stack is gone (${before.length} stateful resources recorded)`);
      continue;
    }
    if (!before) {
      found.push(`${envName} ${stack}: a stack that is not recorded (${after.length} stateful resources)`);
      continue;
    }
    const now = new Set(after.map(key));
    const then = new Set(before.map(key));
    const gone = before.filter((r) => !now.has(key(r)));
    const added = after.filter((r) => !then.has(key(r)));
    for (const r of gone) {
      found.push(
        `${envName} ${stack}: ${key(r)} is recorded but no longer in the template (moved or removed)`,
      );
    }
    for (const r of added) {
      const at = r.path ? `, construct ${r.path}` : '';
      const was = gone.filter((g) => g.type === r.type).map((g) => g.logicalId);
      const moved = was.length > 0 ? `; moved from ${was.join(' or ')}?` : '';
      found.push(`${envName} ${stack}: ${key(r)} is in the template but not recorded (new${at})${moved}`);
    }
  }
  return found;
}

const ADVICE = [
  'A stateful resource whose logical ID changed is REPLACED by CloudFormation: a new one is created and the old',
  'one deleted (a replaced table, queue or archive loses its data, a replaced key its ciphertexts, a replaced user',
  'pool its users; a named parameter or Cloud Map entry collides with its old self and fails the deployment).',
  'Keep the recorded logical ID: `(resource.node.defaultChild as CfnResource).overrideLogicalId("<old id>")`, or',
  "move it with CDK's refactoring support (`cdk refactor`), and say so in CHANGELOG.md.",
  'If a stateful resource was intentionally added or removed, re-record with `npx tsx scripts/record-stateful-ids.ts`',
  'and say so in CHANGELOG.md: the recording is the contract and this test never rewrites it.',
].join('\n');

describe('stateful resources keep their logical IDs (recorded in test/app/stateful-logical-ids.json)', () => {
  it('records dev and prod, each with stateful resources', () => {
    expect(Object.keys(recording).sort()).toEqual(['dev', 'prod']);
    for (const stacks of Object.values(recording)) {
      expect(Object.values(stacks).flat().length).toBeGreaterThan(0);
    }
  });

  it.each(['dev', 'prod'])(
    'env=%s: every recorded stateful resource is in place, and none is unrecorded',
    (env) => {
      const found = differences(env, recording[env] ?? {}, synthStatefulResources(env));
      if (found.length > 0) {
        throw new Error(
          `${found.length} stateful resource(s) of env=${env} differ from the recording:\n` +
            `${found.map((f) => `  - ${f}`).join('\n')}\n\n${ADVICE}`,
        );
      }
    },
  );
});
