#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { loadEnvironmentConfig } from '../lib/config/environments';
import { addPipeline } from '../lib/stacks/pipeline-stack';
import { addSecurityChecks, createShopSystem } from '../lib/stacks/shop-system';

const app = new App();
const envName = String(app.node.tryGetContext('env') ?? 'dev');
// Optional deployment targets from context: `cdk deploy -c env=prod -c account=123456789012 -c region=eu-west-1`,
// and the external alarm topic: `-c externalAlarmTopicArn=arn:aws:sns:eu-west-1:123456789012:ops-alerts`.
const overrides: Record<string, unknown> = {};
for (const key of ['account', 'region', 'externalAlarmTopicArn']) {
  const value = app.node.tryGetContext(key);
  if (value !== undefined) overrides[key] = String(value);
}
createShopSystem(app, loadEnvironmentConfig(envName, overrides));
// The delivery pipeline (`Shop-Pipeline`), only when the `pipeline` context key is set (see README, "Pipeline").
addPipeline(app);
addSecurityChecks(app);
