/**
 * What the local runtime needs to know about a cloud assembly before provisioning it next to others: the registry
 * entries it writes and reads (which orders several apps in one emulator), the platforms it contains, the
 * platforms it attaches to by name, and the OAuth scopes its routes require.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Template = {
  Resources?: Record<string, Resource>;
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
};

/** Registry names of platform entries: `/{app}/{env}/platform/{key}`. */
const PLATFORM_ENTRY = /^\/([^/]+)\/([^/]+)\/platform\/[^/]+$/;

/** A platform by name: `{appName}/{envName}` in the registry. */
export interface PlatformName {
  readonly appName: string;
  readonly envName: string;
}

/** A platform an assembly contains (it writes the platform's registry entries). */
export interface ProvidedPlatform extends PlatformName {
  /** Scope names its resource server declares (without the identifier prefix). */
  readonly scopes: readonly string[];
}

/** One scope a route requires, and the platform whose resource server it names. */
export interface RouteScope {
  readonly stackName: string;
  /** e.g. `POST /payments` */
  readonly route: string;
  /** Scope name without the resource-server prefix, e.g. `payments.write`. */
  readonly scope: string;
  /** The platform attached by name whose resource-server id prefixes the scope, when it is one. */
  readonly platform?: PlatformName;
}

/** Facts of one cloud assembly. */
export interface AssemblyFacts {
  readonly dir: string;
  /** Stack names. */
  readonly stacks: readonly string[];
  /** SSM parameter names the assembly creates. */
  readonly writes: ReadonlySet<string>;
  /** SSM parameter names its templates read at deploy time. */
  readonly reads: ReadonlySet<string>;
  readonly platforms: readonly ProvidedPlatform[];
  /** Platforms its stacks attach to by name (read `/{app}/{env}/platform/...`). */
  readonly references: readonly PlatformName[];
  readonly routeScopes: readonly RouteScope[];
}

/** `Shop/local` */
export function platformKey(name: PlatformName): string {
  return `${name.appName}/${name.envName}`;
}

/** Reads the facts of the cloud assembly in `dir`. */
export function assemblyFacts(dir: string): AssemblyFacts {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stacks: string[] = [];
  const writes = new Set<string>();
  const reads = new Set<string>();
  const platforms = new Map<string, ProvidedPlatform>();
  const references = new Map<string, PlatformName>();
  const routeScopes: RouteScope[] = [];
  for (const [name, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    stacks.push(name);
    const template = JSON.parse(
      fs.readFileSync(path.join(dir, artifact.properties.templateFile), 'utf8'),
    ) as Template;
    const resources = template.Resources ?? {};
    // Which platform a template parameter reads, by parameter logical id.
    const platformOfParameter = new Map<string, PlatformName>();
    for (const [id, parameter] of Object.entries(template.Parameters ?? {})) {
      if (!String(parameter.Type ?? '').startsWith('AWS::SSM::Parameter::Value')) continue;
      if (typeof parameter.Default !== 'string' || !parameter.Default.startsWith('/')) continue;
      if (parameter.Default.startsWith('/cdk-bootstrap/')) continue;
      reads.add(parameter.Default);
      const match = PLATFORM_ENTRY.exec(parameter.Default);
      if (match) {
        const platform = { appName: match[1], envName: match[2] };
        platformOfParameter.set(id, platform);
        references.set(platformKey(platform), platform);
      }
    }
    const declaredScopes: string[] = [];
    let provided: PlatformName | undefined;
    for (const resource of Object.values(resources)) {
      const props = resource.Properties ?? {};
      if (resource.Type === 'AWS::SSM::Parameter' && typeof props.Name === 'string') {
        writes.add(props.Name);
        const match = PLATFORM_ENTRY.exec(props.Name);
        if (match) provided = { appName: match[1], envName: match[2] };
      }
      if (resource.Type === 'AWS::Cognito::UserPoolResourceServer') {
        for (const scope of (props.Scopes ?? []) as { ScopeName?: unknown }[]) {
          if (typeof scope.ScopeName === 'string') declaredScopes.push(scope.ScopeName);
        }
      }
    }
    if (provided) {
      const key = platformKey(provided);
      const before = platforms.get(key)?.scopes ?? [];
      platforms.set(key, { ...provided, scopes: [...before, ...declaredScopes] });
    }
    routeScopes.push(...scopesOfRoutes(name, resources, platformOfParameter));
  }
  for (const key of platforms.keys()) references.delete(key);
  return {
    dir,
    stacks,
    writes,
    reads,
    platforms: [...platforms.values()],
    references: [...references.values()],
    routeScopes,
  };
}

function scopesOfRoutes(
  stackName: string,
  resources: Record<string, Resource>,
  platformOfParameter: ReadonlyMap<string, PlatformName>,
): RouteScope[] {
  const pathOf = (ref: unknown): string => {
    const id = (ref as { Ref?: string } | undefined)?.Ref;
    const resource = id ? resources[id] : undefined;
    if (!resource || resource.Type !== 'AWS::ApiGateway::Resource') return '';
    const props = resource.Properties as { ParentId: unknown; PathPart: string };
    return `${pathOf(props.ParentId)}/${props.PathPart}`;
  };
  const found: RouteScope[] = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::ApiGateway::Method') continue;
    const props = resource.Properties as {
      HttpMethod?: string;
      ResourceId?: unknown;
      AuthorizationScopes?: unknown[];
    };
    const route = `${String(props.HttpMethod)} ${pathOf(props.ResourceId) || '/'}`;
    for (const scope of props.AuthorizationScopes ?? []) {
      if (typeof scope === 'string') {
        const slash = scope.indexOf('/');
        found.push({ stackName, route, scope: slash >= 0 ? scope.slice(slash + 1) : scope });
        continue;
      }
      // `{resource-server-id}/{name}`: Fn::Join of the platform's registry entry and the name.
      const parts = (scope as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [];
      const last = parts[parts.length - 1];
      if (typeof last !== 'string') continue;
      const ref = parts.find((p): p is { Ref: string } => typeof (p as { Ref?: unknown })?.Ref === 'string');
      const platform = ref ? platformOfParameter.get(ref.Ref) : undefined;
      found.push({ stackName, route, scope: last.replace(/^\//, ''), ...(platform ? { platform } : {}) });
    }
  }
  return found;
}

/**
 * The order to provision assemblies in one emulator: an assembly that writes registry entries another reads
 * comes first (the platform before its services, a called service before its caller); otherwise the given order.
 */
export function provisioningOrder<T extends AssemblyFacts>(assemblies: readonly T[]): T[] {
  const ordered: T[] = [];
  const visiting = new Set<T>();
  const visit = (assembly: T) => {
    if (ordered.includes(assembly) || visiting.has(assembly)) return;
    visiting.add(assembly);
    for (const other of assemblies) {
      if (other !== assembly && [...assembly.reads].some((name) => other.writes.has(name))) visit(other);
    }
    visiting.delete(assembly);
    ordered.push(assembly);
  };
  for (const assembly of assemblies) visit(assembly);
  return ordered;
}
