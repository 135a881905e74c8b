/** Reading a cloud assembly: its stacks in dependency order, their templates and their functions' assets. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from '../intrinsics';

/** A stack of the assembly, as its manifest describes it. */
export interface StackArtifact {
  readonly name: string;
  /** Template file, relative to the assembly folder. */
  readonly templateFile: string;
  /** Stacks this one depends on. */
  readonly dependencies: readonly string[];
  /** Asset manifest files (relative to the assembly folder) of the stack. */
  readonly assetManifests: readonly string[];
  /** The stack's region; undefined for an environment-agnostic stack (it deploys to the emulator's region). */
  readonly region?: string;
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly dependencies?: string[];
  readonly properties?: { readonly templateFile?: string; readonly file?: string };
}

/** Stack artifacts of the assembly in `assemblyDir`, dependencies first (manifest order otherwise). */
export function readStacks(assemblyDir: string): StackArtifact[] {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const artifacts = manifest.artifacts ?? {};
  const stacks = new Map<string, StackArtifact>();
  for (const [name, artifact] of Object.entries(artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const dependencies = artifact.dependencies ?? [];
    stacks.set(name, {
      name,
      templateFile: artifact.properties.templateFile,
      dependencies: dependencies.filter((d) => artifacts[d]?.type === 'aws:cloudformation:stack'),
      assetManifests: dependencies
        .map((d) => artifacts[d])
        .filter((d) => d?.type === 'cdk:asset-manifest' && d.properties?.file)
        .map((d) => d.properties?.file as string),
      // An environment-agnostic stack (`aws://unknown-account/unknown-region`) deploys to the emulator's region.
      region:
        /^aws:\/\/[^/]+\/([a-z0-9-]+)$/
          .exec(artifact.environment ?? '')?.[1]
          ?.replace(/^unknown-region$/, '') || undefined,
    });
  }
  const ordered: StackArtifact[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const stack = stacks.get(name);
    if (!stack) return;
    for (const dependency of stack.dependencies) visit(dependency);
    ordered.push(stack);
  };
  for (const name of stacks.keys()) visit(name);
  return ordered;
}

/** The template of a stack of the assembly. */
export function readTemplate(assemblyDir: string, stack: StackArtifact): Template {
  return JSON.parse(readFileSync(join(assemblyDir, stack.templateFile), 'utf8')) as Template;
}

/**
 * The folder of a function's bundled asset: the `aws:asset:path` metadata, else the asset an asset manifest
 * publishes under the function's S3 key, else `asset.{hash}` for an S3 key `{hash}.zip`. Undefined when none.
 */
export function assetDirOf(
  assemblyDir: string,
  stack: StackArtifact,
  s3Key: string | undefined,
  metadataPath: unknown,
): string | undefined {
  if (typeof metadataPath === 'string') return join(assemblyDir, metadataPath);
  if (!s3Key) return undefined;
  for (const file of stack.assetManifests) {
    const manifest = JSON.parse(readFileSync(join(assemblyDir, file), 'utf8')) as {
      files?: Record<
        string,
        { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }
      >;
    };
    for (const asset of Object.values(manifest.files ?? {})) {
      const published = Object.values(asset.destinations ?? {}).some((d) => d.objectKey === s3Key);
      if (published && asset.source?.path) return join(assemblyDir, asset.source.path);
    }
  }
  const hash = /^([0-9a-f]{64})\.zip$/.exec(s3Key)?.[1];
  return hash ? join(assemblyDir, `asset.${hash}`) : undefined;
}

/** Words for the per-stack progress line, in the order the line lists them. */
const PROGRESS_WORDS: Record<string, [string, string]> = {
  'AWS::DynamoDB::Table': ['table', 'tables'],
  'AWS::SQS::Queue': ['queue', 'queues'],
  'AWS::Events::EventBus': ['event bus', 'event buses'],
  'AWS::Events::Rule': ['rule', 'rules'],
  'AWS::Cognito::UserPool': ['user pool', 'user pools'],
  'AWS::Cognito::UserPoolClient': ['user pool client', 'user pool clients'],
  'AWS::Cognito::UserPoolResourceServer': ['resource server', 'resource servers'],
  'AWS::Cognito::UserPoolGroup': ['group', 'groups'],
  'AWS::SSM::Parameter': ['parameter', 'parameters'],
  'AWS::Lambda::Function': ['function', 'functions'],
  'AWS::ApiGateway::Method': ['route', 'routes'],
  'AWS::Lambda::EventSourceMapping': ['queue mapping', 'queue mappings'],
  'AWS::Pipes::Pipe': ['pipe', 'pipes'],
};

/** `1 table, 3 queues, ...`: what a template holds that the local runtime emulates, or `nothing to emulate`. */
export function progressSummary(template: Template): string {
  const counts = new Map<string, number>();
  for (const resource of Object.values(template.Resources)) {
    counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
  }
  const summary = Object.entries(PROGRESS_WORDS)
    .filter(([type]) => counts.has(type))
    .map(([type, [one, many]]) => {
      const count = counts.get(type) ?? 0;
      return `${count} ${count === 1 ? one : many}`;
    });
  return summary.length ? summary.join(', ') : 'nothing to emulate';
}
