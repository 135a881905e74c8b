/**
 * AWS AppConfig (feature flags and settings): applications, environments, configuration profiles, hosted
 * configuration versions, deployment strategies and deployments get the ids AppConfig would give them and
 * become local runtime configuration. moto 5.2 has no AppConfig environments, deployments or AppConfig Data,
 * so nothing is created in the emulator: the runtime serves what each deployment deploys itself (see
 * local/appconfig-data.ts, which reads the resolved resources these values complete).
 */
import { createHash } from 'node:crypto';
import type { ResourceValues } from '../intrinsics';
import type { ProvisionState, ResourceProvisioner, ResourceRequest } from './state';

/** Provisions the `AWS::AppConfig::*` types the constructs create, as local configuration. */
export const appConfigProvisioner: ResourceProvisioner = {
  types: [
    'AWS::AppConfig::Application',
    'AWS::AppConfig::Environment',
    'AWS::AppConfig::ConfigurationProfile',
    'AWS::AppConfig::HostedConfigurationVersion',
    'AWS::AppConfig::DeploymentStrategy',
    'AWS::AppConfig::Deployment',
  ],
  provision: (state, request) => valuesOf(state, request),
};

function valuesOf(state: ProvisionState, request: ResourceRequest): ResourceValues {
  const { resource, props, context, logicalId } = request;
  // AppConfig ids are 7 lowercase letters and digits; derived from the resource, so a re-run keeps them.
  const id = appConfigId(`${context.stack.name}/${logicalId}`);
  const application = String(props.ApplicationId ?? '');
  switch (resource.Type) {
    case 'AWS::AppConfig::Application':
      return {
        ref: id,
        attributes: { ApplicationId: id, Arn: state.arn('appconfig', `application/${id}`) },
      };
    case 'AWS::AppConfig::Environment':
      return {
        ref: id,
        attributes: {
          EnvironmentId: id,
          Arn: state.arn('appconfig', `application/${application}/environment/${id}`),
        },
      };
    case 'AWS::AppConfig::ConfigurationProfile':
      return {
        ref: id,
        attributes: {
          ConfigurationProfileId: id,
          Arn: state.arn('appconfig', `application/${application}/configurationprofile/${id}`),
        },
      };
    case 'AWS::AppConfig::HostedConfigurationVersion': {
      // Versions count from 1 per profile; one template deploys one version of each profile.
      const version = '1';
      return { ref: version, attributes: { VersionNumber: version } };
    }
    case 'AWS::AppConfig::DeploymentStrategy':
      return { ref: id, attributes: { Id: id } };
    default:
      return { ref: '1', attributes: { DeploymentNumber: '1' } };
  }
}

function appConfigId(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(digest.subarray(0, 7), (byte) => alphabet[byte % alphabet.length]).join('');
}
