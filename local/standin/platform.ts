/**
 * The stand-in platform: when an app attaches to a platform by name (`PlatformReference.fromRegistry`) and no app
 * run together with it contains that platform, the local runtime synthesizes the package's own {@link Platform}
 * under that name — user pool, resource server with the scopes the app's routes require, groups, bus, key, registry
 * entries — and provisions it first, so the app's templates find every registry entry they read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import { DataProtection } from '../../lib/constructs/data-protection';
import { Platform } from '../../lib/constructs/platform';
import type { PlatformName, RouteScope } from './assembly-facts';
import { platformKey } from './assembly-facts';

/** Cognito custom scope names: printable ASCII without space, `"`, `/` or `\` (what a platform can declare). */
const SCOPE_NAME = /^[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]{1,256}$/;

/** A stand-in platform, synthesized. */
export interface StandInPlatform extends PlatformName {
  /** Where its cloud assembly is. */
  readonly assemblyDir: string;
  /** Scope names its resource server declares (every valid scope the app's routes require). */
  readonly scopes: readonly string[];
  /** Scope names every signed-in user receives. */
  readonly defaultScopes: readonly string[];
  /** Groups and the scopes they add. */
  readonly groups: ReadonlyArray<{ readonly name: string; readonly scopes: readonly string[] }>;
  /** Route scopes no platform could declare (not a valid Cognito scope name), one line each. */
  readonly problems: readonly string[];
}

/** Scopes named like `*.admin` or `admin*` are given to the `admins` group only; the rest to every user. */
function isAdminScope(scope: string): boolean {
  return /(^|[.:_-])admin([.:_-]|$)/i.test(scope);
}

/**
 * Synthesizes, in this process, a stand-in for the platform `name` into `outdir`: the package's `Platform` with the
 * scopes `routeScopes` require (those of `*.admin` form for the `admins` group, the others for every user), the
 * groups `customers` and `admins`, password sign-in allowed (for `token`), and data not retained.
 */
export function synthesizeStandInPlatform(
  name: PlatformName,
  routeScopes: readonly RouteScope[],
  outdir: string,
  context: Readonly<Record<string, unknown>> = {},
): StandInPlatform {
  const problems: string[] = [];
  const scopes: string[] = [];
  for (const { scope, route, stackName } of routeScopes) {
    if (!SCOPE_NAME.test(scope)) {
      problems.push(
        `${stackName}: ${route} requires the scope "${scope}", which no platform can declare (a Cognito scope name is 1-256 printable characters without spaces, quotes, / or \\): no token can carry it`,
      );
      continue;
    }
    if (!scopes.includes(scope)) scopes.push(scope);
  }
  scopes.sort();
  const defaultScopes = scopes.filter((s) => !isAdminScope(s));
  const adminScopes = scopes.filter(isAdminScope);
  const groups = [
    { name: 'admins', description: 'Stand-in: operators', scopes: adminScopes },
    { name: 'customers', description: 'Stand-in: signed-in users', scopes: [] as string[] },
  ];

  fs.rmSync(outdir, { recursive: true, force: true });
  // aws-cdk-lib remembers staged assets for the life of the process: a second synth into a folder that was
  // replaced meanwhile (an infrastructure reload) must stage the trigger's bundle again.
  AssetStaging.clearAssetHashCache();
  // The package's own Platform, known to be valid: aws-cdk-lib's template schema validation (seconds) is skipped.
  const app = new App({
    outdir,
    context: { ...context, env: name.envName },
    builtinCloudFormationValidation: false,
  });
  const stackName = `${name.appName}-${name.envName}-Platform`;
  const stack = new Stack(app, stackName, {
    stackName,
    description: `Stand-in platform ${platformKey(name)} provisioned by cdk-microservices dev`,
  });
  new Platform(stack, 'Platform', {
    appName: name.appName,
    envName: name.envName,
    scopes: scopes.map((s) => ({
      name: s,
      description: `Required by a route (stand-in for ${platformKey(name)})`,
    })),
    defaultScopes,
    groups,
    allowPasswordAuth: true,
    dataProtection: DataProtection.DESTROY,
    configureApiGatewayAccount: false,
  });
  app.synth();
  return {
    ...name,
    assemblyDir: path.resolve(outdir),
    scopes,
    defaultScopes,
    groups: groups.map((g) => ({ name: g.name, scopes: g.scopes })),
    problems,
  };
}
