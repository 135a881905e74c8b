import { clearCaches } from '@aws-lambda-powertools/parameters';
import {
  AppConfigDataClient,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import * as z from 'zod/mini';
import {
  CONFIG_VARIABLES,
  ConfigurationError,
  featureFlag,
  secret,
  secretVariableOf,
  setting,
} from '../../../functions/shared/config';

const appConfig = mockClient(AppConfigDataClient);
const secrets = mockClient(SecretsManagerClient);

const FLAGS = { 'express-checkout': { enabled: true }, 'gift-wrap': { enabled: false } };
const SETTINGS = { maxLinesPerOrder: 10, currency: 'EUR' };
const SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:Shop/prod/orders/payment-api-key-AbCdEf';

function serve(profiles: Record<string, unknown>): void {
  appConfig
    .on(StartConfigurationSessionCommand)
    .callsFake(async (input: { ConfigurationProfileIdentifier: string }) => ({
      InitialConfigurationToken: `token-${input.ConfigurationProfileIdentifier}`,
    }));
  appConfig.on(GetLatestConfigurationCommand).callsFake(async (input: { ConfigurationToken: string }) => {
    const profile = input.ConfigurationToken.replace(/^token-/, '');
    return {
      Configuration: new TextEncoder().encode(JSON.stringify(profiles[profile])),
      NextPollConfigurationToken: input.ConfigurationToken,
    };
  });
}

const saved = { ...process.env };
beforeEach(() => {
  appConfig.reset();
  secrets.reset();
  clearCaches();
  process.env[CONFIG_VARIABLES.APPLICATION] = 'app1234';
  process.env[CONFIG_VARIABLES.ENVIRONMENT] = 'env5678';
  process.env[CONFIG_VARIABLES.FLAGS_PROFILE] = 'flags01';
  process.env[CONFIG_VARIABLES.SETTINGS_PROFILE] = 'sets002';
  process.env[CONFIG_VARIABLES.MAX_AGE] = '30';
  process.env[secretVariableOf('payment-api-key')] = SECRET_ARN;
  serve({ flags01: FLAGS, sets002: SETTINGS });
});
afterEach(() => {
  process.env = { ...saved };
  jest.restoreAllMocks();
});

describe('featureFlag', () => {
  it("reads a flag's state from the service's feature flags profile", async () => {
    await expect(featureFlag('express-checkout')).resolves.toBe(true);
    await expect(featureFlag('gift-wrap')).resolves.toBe(false);
    expect(appConfig.commandCalls(StartConfigurationSessionCommand)[0].args[0].input).toEqual({
      ApplicationIdentifier: 'app1234',
      EnvironmentIdentifier: 'env5678',
      ConfigurationProfileIdentifier: 'flags01',
    });
  });

  it('fetches the profile once within the maximum age, and again after it', async () => {
    // Only the clock is faked (Powertools dates its cache entries), so the SDK's own timers still run.
    jest.useFakeTimers({
      now: 1_000_000,
      doNotFake: [
        'nextTick',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
    try {
      await featureFlag('express-checkout');
      await featureFlag('gift-wrap');
      jest.setSystemTime(1_000_000 + 29_000);
      await featureFlag('express-checkout');
      expect(appConfig.commandCalls(GetLatestConfigurationCommand)).toHaveLength(1);
      jest.setSystemTime(1_000_000 + 31_000);
      await featureFlag('express-checkout');
      expect(appConfig.commandCalls(GetLatestConfigurationCommand)).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('fetches again when forced', async () => {
    await featureFlag('express-checkout');
    await featureFlag('express-checkout', { forceFetch: true });
    expect(appConfig.commandCalls(GetLatestConfigurationCommand)).toHaveLength(2);
  });

  it('fails with the declared flags when the flag is not one of them', async () => {
    await expect(featureFlag('dark-mode')).rejects.toThrow(
      new ConfigurationError(
        'featureFlag("dark-mode"): no such flag; the service declares express-checkout, gift-wrap',
      ),
    );
  });

  it('fails naming what to declare when the function has no feature flags', async () => {
    delete process.env[CONFIG_VARIABLES.FLAGS_PROFILE];
    const failure = featureFlag('express-checkout');
    await expect(failure).rejects.toBeInstanceOf(ConfigurationError);
    await expect(failure).rejects.toThrow(
      'featureFlag("express-checkout"): CONFIG_FLAGS_PROFILE_ID not set; declare configuration.featureFlags ' +
        "on the service's Microservice",
    );
    expect(appConfig.calls()).toHaveLength(0);
  });
});

describe('setting', () => {
  it('reads a setting and checks it against a schema', async () => {
    await expect(setting('maxLinesPerOrder', z.number().check(z.int(), z.minimum(1)))).resolves.toBe(10);
    await expect(setting('currency')).resolves.toBe('EUR');
    expect(appConfig.commandCalls(GetLatestConfigurationCommand)).toHaveLength(1);
  });

  it('fails when the value does not match the schema', async () => {
    await expect(setting('currency', z.number())).rejects.toThrow(
      /^setting\("currency"\) = "EUR" does not match its schema: /,
    );
  });

  it('fails with the declared settings when the setting is not one of them', async () => {
    await expect(setting('maxLines')).rejects.toThrow(
      'setting("maxLines"): no such setting; the service declares currency, maxLinesPerOrder',
    );
  });

  it('fails when the profile is not a JSON object', async () => {
    appConfig.reset();
    serve({ flags01: FLAGS, sets002: [1, 2] });
    await expect(setting('currency')).rejects.toThrow(
      'setting("currency"): configuration profile sets002 is not a JSON object',
    );
  });

  it('fails naming every missing variable', async () => {
    delete process.env[CONFIG_VARIABLES.APPLICATION];
    delete process.env[CONFIG_VARIABLES.SETTINGS_PROFILE];
    await expect(setting('currency')).rejects.toThrow(
      'setting("currency"): CONFIG_APPLICATION_ID, CONFIG_SETTINGS_PROFILE_ID not set; declare configuration.settings',
    );
  });
});

describe('secret', () => {
  it('reads the secret by the ARN in its variable, once within the maximum age', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: 's3cr3t' });
    await expect(secret('payment-api-key')).resolves.toBe('s3cr3t');
    await expect(secret('payment-api-key')).resolves.toBe('s3cr3t');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fails naming the variable when the function was not given the secret', async () => {
    await expect(secret('signing-key')).rejects.toThrow(
      'secret("signing-key"): SECRET_ARN_SIGNING_KEY is not set; declare the secret',
    );
    expect(secrets.calls()).toHaveLength(0);
  });

  it('fails when the secret has no string value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(secret('payment-api-key')).rejects.toThrow(
      'secret("payment-api-key"): the secret has no string value',
    );
  });

  it('names variables after the secret', () => {
    expect(secretVariableOf('payment-api-key')).toBe('SECRET_ARN_PAYMENT_API_KEY');
  });
});
