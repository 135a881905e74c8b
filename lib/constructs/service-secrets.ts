import type { RemovalPolicy } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { secretVariableOf } from '../../functions/shared/config';
import { fail, requireMatch } from './validation';

/** A secret of a service, declared in {@link ServiceConfigurationOptions.secrets}. */
export interface ServiceSecretDefinition {
  /**
   * Name of the secret within the service, e.g. `payment-api-key`; handlers read it with `secret(name)`.
   * Lowercase letters, digits and hyphens, starting with a letter, up to 64 characters.
   */
  readonly name: string;
  /**
   * What the secret is, for the operator who sets its value.
   * @default - `Secret {name} of service {serviceName}`
   */
  readonly description?: string;
  /**
   * Ids of the functions of the service that read the secret (route ids such as `post-orders`, subscription
   * ids). Every other function gets neither its ARN nor access.
   * @default - every function of the service
   */
  readonly readers?: string[];
}

/** Properties of {@link ServiceSecrets}. */
export interface ServiceSecretsProps {
  /** Service name (secrets are named `{appName}/{envName}/{serviceName}/{name}`). */
  readonly serviceName: string;
  /** Application name of the platform. */
  readonly appName: string;
  /** Environment name of the platform. */
  readonly envName: string;
  /** The secrets. */
  readonly secrets: ServiceSecretDefinition[];
  /** Customer-managed key the secrets are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /** What happens to the secrets when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

const SECRET_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The secrets of one service in Secrets Manager, each encrypted with the service's customer-managed key. The
 * template holds no value: each secret starts with a generated placeholder that an operator replaces
 * (`aws secretsmanager put-secret-value`). Functions get only the ARN ({@link environmentFor}) and read access
 * ({@link grantReadTo}) to the secrets they read.
 */
export class ServiceSecrets extends Construct {
  /** The secrets by name. */
  public readonly secrets: Record<string, secretsmanager.Secret> = {};
  private readonly definitions: readonly ServiceSecretDefinition[];

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    this.definitions = props.secrets;
    props.secrets.forEach((definition, i) => {
      const where = `configuration.secrets[${i}]`;
      requireMatch(
        'Microservice',
        `${where}.name`,
        definition.name,
        SECRET_NAME,
        'lowercase letters, digits and hyphens, starting with a letter, up to 64 characters',
      );
      if (this.secrets[definition.name]) {
        fail('Microservice', `${where}.name`, definition.name, 'is declared twice');
      }
      if (definition.readers && definition.readers.length === 0) {
        fail(
          'Microservice',
          `${where}.readers`,
          definition.readers,
          'name at least one function, or omit it',
        );
      }
      const secret = new secretsmanager.Secret(this, definition.name, {
        secretName: `${props.appName}/${props.envName}/${props.serviceName}/${definition.name}`,
        description: definition.description ?? `Secret ${definition.name} of service ${props.serviceName}`,
        encryptionKey: props.encryptionKey,
        // A random placeholder: the real value is set by an operator, never in the template.
        generateSecretString: { passwordLength: 32, excludePunctuation: true },
        removalPolicy: props.removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The value is a credential issued by a third party and set by an operator; rotating it needs that ' +
          "party's API, so rotation is the operator's (a rotation function can be added with addRotationSchedule)",
      });
      this.secrets[definition.name] = secret;
    });
  }

  /** Names of the secrets `functionId` reads (all, for a secret without `readers`). */
  public namesReadBy(functionId: string): string[] {
    return this.definitions
      .filter((d) => d.readers === undefined || d.readers.includes(functionId))
      .map((d) => d.name);
  }

  /** The `SECRET_ARN_...` variables of the secrets `functionId` reads: ARNs only, never a value. */
  public environmentFor(functionId: string): Record<string, string> {
    return Object.fromEntries(
      this.namesReadBy(functionId).map((name) => [secretVariableOf(name), this.secrets[name].secretArn]),
    );
  }

  /** Grants `grantee` read access to the secrets `functionId` reads (and decryption with their key). */
  public grantReadTo(grantee: iam.IGrantable, functionId: string): iam.Grant[] {
    return this.namesReadBy(functionId).map((name) => this.secrets[name].grantRead(grantee));
  }

  /** Problems with `readers` naming no function of the service (checked when the app synthesizes). */
  public unknownReaders(functionIds: ReadonlySet<string>): string[] {
    return this.definitions.flatMap((d, i) =>
      (d.readers ?? [])
        .filter((reader) => !functionIds.has(reader))
        .map(
          (reader) =>
            `Microservice: invalid configuration.secrets[${i}].readers ${JSON.stringify(reader)}: no function ` +
            `of the service has that id (it has ${[...functionIds].sort().join(', ') || 'none'})`,
        ),
    );
  }
}
