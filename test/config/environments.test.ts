import { ENVIRONMENTS, loadEnvironmentConfig } from '../../lib/config/environments';

describe('environment configuration', () => {
  it.each(Object.keys(ENVIRONMENTS))('accepts the %s environment', (name) => {
    expect(loadEnvironmentConfig(name).envName).toBe(name);
  });

  it('retains data and enables threat protection in prod only', () => {
    expect(loadEnvironmentConfig('prod')).toMatchObject({
      retainData: true,
      threatProtection: true,
      allowPasswordAuth: false,
    });
    expect(loadEnvironmentConfig('dev')).toMatchObject({ retainData: false, threatProtection: false });
  });

  it('applies context overrides such as the target account and region', () => {
    expect(loadEnvironmentConfig('prod', { account: '123456789012', region: 'eu-west-1' })).toMatchObject({
      account: '123456789012',
      region: 'eu-west-1',
    });
  });

  it('fails for an unknown environment, listing the known ones', () => {
    expect(() => loadEnvironmentConfig('staging')).toThrow(
      'Unknown environment env="staging": use one of local, dev, prod',
    );
  });

  it('fails when the account is not 12 digits, naming the key and value', () => {
    expect(() => loadEnvironmentConfig('dev', { account: '1234' })).toThrow(
      /account = "1234": a 12-digit AWS account id/,
    );
  });

  it('fails when the region is malformed, naming the key and value', () => {
    expect(() => loadEnvironmentConfig('dev', { region: 'Europe' })).toThrow(
      /region = "Europe": an AWS region/,
    );
  });

  it('fails when the log retention is not a CloudWatch value, naming the nested key', () => {
    expect(() => loadEnvironmentConfig('dev', { logRetentionDays: 10 })).toThrow(
      /logRetentionDays = 10: one of 1, 3, 5/,
    );
  });

  it('fails when the burst limit is not a whole number of at least 1', () => {
    expect(() => loadEnvironmentConfig('dev', { apiThrottle: { rateLimit: 100, burstLimit: 0 } })).toThrow(
      /apiThrottle\.burstLimit = 0: Too small/,
    );
  });

  it('fails when an alarm e-mail address is malformed, naming the key and value', () => {
    expect(() => loadEnvironmentConfig('dev', { alarmEmails: ['ops.example.com'] })).toThrow(
      /alarmEmails\.0 = "ops.example.com"/,
    );
  });

  it('fails when the external alarm topic is not an SNS topic ARN, naming the key and value', () => {
    expect(() => loadEnvironmentConfig('dev', { externalAlarmTopicArn: 'ops-pager' })).toThrow(
      /externalAlarmTopicArn = "ops-pager": an SNS topic ARN/,
    );
  });

  it('accepts an external alarm topic ARN', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
    expect(loadEnvironmentConfig('prod', { externalAlarmTopicArn: arn }).externalAlarmTopicArn).toBe(arn);
  });

  it('fails when the SigV4 WAF rate limit is lower than the unsigned one, naming the key and value', () => {
    expect(() =>
      loadEnvironmentConfig('dev', { wafRateLimitPer5Minutes: 5000, wafSigV4RateLimitPer5Minutes: 4000 }),
    ).toThrow(/wafSigV4RateLimitPer5Minutes = 4000: at least wafRateLimitPer5Minutes/);
  });

  it('keeps the local WAF rate limits above what the local suites and the benchmark send from one address', () => {
    const local = loadEnvironmentConfig('local');
    expect(local.wafRateLimitPer5Minutes).toBeGreaterThanOrEqual(1_000_000);
    expect(local.wafSigV4RateLimitPer5Minutes).toBeGreaterThanOrEqual(1_000_000);
  });

  it('fails on unknown keys, which are usually typos', () => {
    expect(() => loadEnvironmentConfig('dev', { retainDta: true })).toThrow(
      /Invalid configuration for environment "dev"/,
    );
  });
});
