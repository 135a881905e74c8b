import type { App } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/**
 * Runs the cdk-nag `AwsSolutions` and `Serverless` packs over every stack of the app at synth: a finding
 * fails `cdk synth` unless it is acknowledged next to the resource with a reason. The constructs of this
 * library pass both packs, acknowledging what they must (each with its reason), so an app that calls this
 * sees only the findings of its own resources.
 *
 * ```ts
 * const app = new App();
 * addSecurityChecks(app);
 * ```
 *
 * Needs the `cdk-nag` peer dependency.
 */
export function addSecurityChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}
