import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IPlatform } from '../lib';
import { cdkJsonContext } from '../lib/config/cdk-context';
import { PlatformReference } from '../lib';

/** Repository root. */
export const ROOT = path.join(__dirname, '..');

/** A handler file that exists, for constructs under test. */
export const HEALTH_HANDLER = path.join(ROOT, 'functions', 'users', 'handlers', 'health.ts');

/**
 * An app that skips asset bundling (construct tests assert on templates, not on bundles; the reference-app
 * test bundles for real).
 */
export function appWithoutBundling(): App {
  return new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
}

/** A service-like stack attached to the `Shop`/`test` platform through the registry. */
export function serviceStack(id = 'Shop-test-Svc'): { app: App; stack: Stack; platform: IPlatform } {
  const app = appWithoutBundling();
  const stack = new Stack(app, id);
  const platform = PlatformReference.fromRegistry(stack, 'Platform', { appName: 'Shop', envName: 'test' });
  return { app, stack, platform };
}

export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** Every resource of a given type in a template, as [logicalId, resource] pairs. */
export function resourcesOf(
  template: Template,
  type: string,
): Array<[string, { Properties?: Record<string, unknown> }]> {
  return Object.entries(template.findResources(type));
}
