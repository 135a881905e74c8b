import * as path from 'node:path';
import type { AssemblyFacts } from './assembly-facts';
import { platformKey } from './assembly-facts';
import type { StandInPlatform } from './platform';

/**
 * Stand-ins for the platforms the assemblies `facts` describe attach to by name and none of them contains, each
 * with the scopes their routes require, synthesized under `outdir` as `standin-{app}-{env}` (what `dev` and `check`
 * provision first, so that the registry entries the assemblies read exist). None when every platform is there.
 */
export async function synthesizeStandIns(
  facts: readonly AssemblyFacts[],
  outdir: string,
  context: Readonly<Record<string, unknown>> = {},
): Promise<StandInPlatform[]> {
  const provided = new Set(facts.flatMap((f) => f.platforms.map((p) => platformKey(p))));
  const missing = new Map(
    facts
      .flatMap((f) => f.references)
      .filter((r) => !provided.has(platformKey(r)))
      .map((r) => [platformKey(r), r] as const),
  );
  if (missing.size === 0) return [];
  // Loaded only when needed: the stand-in synthesizes the package's Platform construct in this process.
  const { synthesizeStandInPlatform } = await import('./platform');
  const routeScopes = facts.flatMap((f) => f.routeScopes);
  return [...missing].map(([key, name]) =>
    synthesizeStandInPlatform(
      name,
      routeScopes.filter((s) => s.platform && platformKey(s.platform) === key),
      path.join(outdir, `standin-${name.appName}-${name.envName}`),
      context,
    ),
  );
}
