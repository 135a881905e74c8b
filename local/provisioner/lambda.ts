/**
 * Lambda functions, versions, aliases and SQS event source mappings: nothing is created in the emulator, they
 * become the LocalSystem's functions (run from their bundled assets) and queue mappings.
 */
import type { ResourceValues } from '../intrinsics';
import { assetDirOf } from './assembly';
import type { Props, ProvisionState, ResourceProvisioner, ResourceRequest } from './state';

/** Provisions `AWS::Lambda::Function`, `Version`, `Alias` and `EventSourceMapping` (SQS sources). */
export const lambdaProvisioner: ResourceProvisioner = {
  types: [
    'AWS::Lambda::Function',
    'AWS::Lambda::Version',
    'AWS::Lambda::Alias',
    'AWS::Lambda::EventSourceMapping',
  ],
  provision: (state, request) => {
    const { resource, props, physicalName } = request;
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        return localFunction(state, request);
      case 'AWS::Lambda::Version': {
        const functionArn = state.functionArn(String(props.FunctionName));
        return { ref: `${functionArn}:1`, attributes: { Version: '1', FunctionArn: functionArn } };
      }
      case 'AWS::Lambda::Alias': {
        const functionArn = state.functionArn(String(props.FunctionName));
        return { ref: `${functionArn}:${String(props.Name)}`, attributes: {} };
      }
      default:
        queueMapping(state, props, physicalName);
        return { ref: physicalName, attributes: { Id: physicalName } };
    }
  },
};

function localFunction(state: ProvisionState, request: ResourceRequest): ResourceValues {
  const { context, logicalId, resource, props, physicalName } = request;
  const { stack } = context;
  const name = String(props.FunctionName ?? physicalName);
  const key = `${stack.name}/${logicalId}`;
  const code = (props.Code ?? {}) as { S3Key?: string; ZipFile?: string };
  const assetDir =
    assetDirOf(state.settings.assemblyDir, stack, code.S3Key, resource.Metadata?.['aws:asset:path']) ??
    (state.settings.requireAssets ? undefined : '');
  if (assetDir === undefined) {
    throw new Error(
      `function ${key} has no bundled asset (S3Key ${code.S3Key ?? '-'}${code.ZipFile ? ', inline code' : ''}); ` +
        'the local runtime runs bundled assets only',
    );
  }
  const variables = ((props.Environment as { Variables?: Props } | undefined)?.Variables ?? {}) as Props;
  const environment: Record<string, string> = {};
  for (const [variable, value] of Object.entries(variables)) {
    environment[variable] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  state.functions.set(key, {
    key,
    name,
    stackName: stack.name,
    logicalId,
    description: String(props.Description ?? ''),
    assetDir,
    handler: String(props.Handler ?? 'index.handler'),
    timeoutSeconds: Number(props.Timeout ?? 3),
    memoryMb: Number(props.MemorySize ?? 128),
    environment,
    ...(typeof props.Role === 'string' ? { roleArn: props.Role } : {}),
  });
  state.functionsByName.set(name, key);
  return { ref: name, attributes: { Arn: state.functionArn(name) } };
}

function queueMapping(state: ProvisionState, props: Props, physicalName: string): void {
  const sourceArn = String(props.EventSourceArn);
  const queue = state.queuesByArn.get(sourceArn);
  if (!queue) {
    state.log(`Warning: ${physicalName}: event source ${sourceArn} is not an SQS queue; not emulated`);
    state.countNotEmulated('AWS::Lambda::EventSourceMapping (non-SQS)');
    return;
  }
  const scaling = props.ScalingConfig as { MaximumConcurrency?: number } | undefined;
  const responseTypes = (props.FunctionResponseTypes as string[] | undefined) ?? [];
  state.queueMappings.push({
    queueUrl: queue.url,
    queueArn: queue.arn,
    functionKey: state.functionKey(String(props.FunctionName), physicalName),
    batchSize: Number(props.BatchSize ?? 10),
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    ...(scaling?.MaximumConcurrency !== undefined
      ? { maxConcurrency: Number(scaling.MaximumConcurrency) }
      : {}),
    visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
  });
}
