import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The feature flags and context of `cdk.json`, for apps built outside the CLI (tests, `npm start`), so what
 * they synthesize is what `cdk synth` synthesizes.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const file = path.join(__dirname, '..', '..', 'cdk.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}
