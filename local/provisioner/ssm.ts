/**
 * SSM parameters (the service registry): written with overwrite, so a re-run gives them the template's values;
 * and read for the `AWS::SSM::Parameter::Value<...>` parameters of a template.
 */
import type { ParameterType } from '@aws-sdk/client-ssm';
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { isAwsError } from '../aws-clients';
import type { ResourceValues } from '../intrinsics';
import type { Props, ProvisionState, ResourceProvisioner } from './state';

/** Provisions `AWS::SSM::Parameter`. */
export const ssmProvisioner: ResourceProvisioner = {
  types: ['AWS::SSM::Parameter'],
  provision: (state, { props, physicalName }) => putParameter(state, props, physicalName),
};

async function putParameter(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const name = String(props.Name ?? `/${physicalName}`);
  const type = String(props.Type ?? 'String');
  const value = Array.isArray(props.Value) ? props.Value.join(',') : String(props.Value);
  await state.clients.ssm.send(
    new PutParameterCommand({
      Name: name,
      Value: value,
      Type: type as ParameterType,
      Overwrite: true,
      ...(props.Description !== undefined ? { Description: String(props.Description) } : {}),
      ...(props.AllowedPattern !== undefined ? { AllowedPattern: String(props.AllowedPattern) } : {}),
    }),
  );
  return { ref: name, attributes: { Type: type, Value: value } };
}

/**
 * The value of the SSM parameter `name`, which a template of `stackName` reads; fails, saying which stack
 * should have written it, when no stack provisioned before it did.
 */
export async function readParameter(state: ProvisionState, name: string, stackName: string): Promise<string> {
  try {
    const { Parameter } = await state.clients.ssm.send(new GetParameterCommand({ Name: name }));
    return Parameter?.Value ?? '';
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) {
      throw new Error(
        `${stackName} reads SSM parameter ${name}, which no stack provisioned before it has written ` +
          '(is the stack that writes it missing from the assembly, or not a dependency?)',
        { cause: error },
      );
    }
    throw error;
  }
}
