/**
 * Secrets Manager secrets: created in the emulator with the template's name and description. A template holds
 * no secret value (the constructs generate one at deploy time): the secret gets a random value generated as
 * `GenerateSecretString` describes, which an operator (or a test) replaces with `PutSecretValue`. A re-run
 * keeps the secret and its value. The customer-managed key is not passed to the emulator (keys are not
 * emulated); IAM enforcement evaluates it (see local/iam/policy-model.ts).
 */
import { randomInt } from 'node:crypto';
import { CreateSecretCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { isAwsError } from '../aws-clients';
import type { ResourceValues } from '../intrinsics';
import type { Props, ProvisionState, ResourceProvisioner } from './state';

/** Provisions `AWS::SecretsManager::Secret`. */
export const secretsProvisioner: ResourceProvisioner = {
  types: ['AWS::SecretsManager::Secret'],
  provision: (state, { props, physicalName }) => createSecret(state, props, physicalName),
};

async function createSecret(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const name = String(props.Name ?? physicalName);
  const client = state.clients.secretsManager;
  let arn: string | undefined;
  try {
    const created = await client.send(
      new CreateSecretCommand({
        Name: name,
        ...(props.Description !== undefined ? { Description: String(props.Description) } : {}),
        SecretString:
          props.SecretString !== undefined
            ? String(props.SecretString)
            : generated((props.GenerateSecretString ?? {}) as Props),
      }),
    );
    arn = created.ARN;
  } catch (error) {
    if (!isAwsError(error, 'ResourceExistsException')) throw error;
    arn = (await client.send(new DescribeSecretCommand({ SecretId: name }))).ARN;
  }
  if (!arn) throw new Error(`the emulator gave secret ${name} no ARN`);
  return { ref: arn, attributes: { Id: arn } };
}

/** A random value as `GenerateSecretString` describes it (length, excluded characters and classes). */
export function generated(options: Props): string {
  const length = Number(options.PasswordLength ?? 32);
  const excluded = new Set(String(options.ExcludeCharacters ?? ''));
  const classes = [
    options.ExcludeLowercase === true ? '' : 'abcdefghijklmnopqrstuvwxyz',
    options.ExcludeUppercase === true ? '' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    options.ExcludeNumbers === true ? '' : '0123456789',
    options.ExcludePunctuation === true ? '' : '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
    options.IncludeSpace === true ? ' ' : '',
  ];
  const alphabet = [...classes.join('')].filter((c) => !excluded.has(c));
  if (alphabet.length === 0) throw new Error('GenerateSecretString excludes every character');
  const value = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
  if (options.SecretStringTemplate !== undefined && options.GenerateStringKey !== undefined) {
    const template = JSON.parse(String(options.SecretStringTemplate)) as Record<string, unknown>;
    return JSON.stringify({ ...template, [String(options.GenerateStringKey)]: value });
  }
  return value;
}
