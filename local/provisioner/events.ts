/**
 * EventBridge buses and rules. PutRule and PutTargets replace what a rule had, so a re-run updates a rule's
 * pattern and targets in place; targets the template no longer has are removed.
 */
import type { Target } from '@aws-sdk/client-eventbridge';
import {
  CreateEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { isAwsError } from '../aws-clients';
import type { ResourceValues } from '../intrinsics';
import type { Props, ProvisionState, ResourceProvisioner } from './state';
import { busName, jsonString } from './state';

/** Provisions `AWS::Events::EventBus`. */
export const eventBusProvisioner: ResourceProvisioner = {
  types: ['AWS::Events::EventBus'],
  provision: (state, { props }) => provisionEventBus(state, props),
};

/** Provisions `AWS::Events::Rule` with its targets. */
export const ruleProvisioner: ResourceProvisioner = {
  types: ['AWS::Events::Rule'],
  provision: (state, { props, physicalName }) => provisionRule(state, props, physicalName),
};

async function provisionEventBus(state: ProvisionState, props: Props): Promise<ResourceValues> {
  const { events } = state.clients;
  const name = String(props.Name);
  let arn: string | undefined;
  try {
    ({ EventBusArn: arn } = await events.send(
      new CreateEventBusCommand({
        Name: name,
        ...(props.Description ? { Description: String(props.Description) } : {}),
      }),
    ));
  } catch (error) {
    if (!isAwsError(error, 'ResourceAlreadyExistsException')) throw error;
    ({ Arn: arn } = await events.send(new DescribeEventBusCommand({ Name: name })));
  }
  return { ref: name, attributes: { Arn: arn ?? state.arn('events', `event-bus/${name}`), Name: name } };
}

async function provisionRule(
  state: ProvisionState,
  props: Props,
  physicalName: string,
): Promise<ResourceValues> {
  const { events } = state.clients;
  const name = String(props.Name ?? physicalName.slice(0, 64));
  const eventBusName = busName(String(props.EventBusName ?? 'default'));
  const { RuleArn } = await events.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: eventBusName,
      ...(props.EventPattern !== undefined ? { EventPattern: jsonString(props.EventPattern) } : {}),
      ...(props.ScheduleExpression !== undefined
        ? { ScheduleExpression: String(props.ScheduleExpression) }
        : {}),
      ...(props.Description !== undefined ? { Description: String(props.Description) } : {}),
      State: String(props.State ?? 'ENABLED') as 'ENABLED',
    }),
  );
  const targets = ((props.Targets as Props[] | undefined) ?? []).map(targetOf);
  // Targets an earlier run gave the rule that the template no longer has.
  const { Targets: existing = [] } = await events.send(
    new ListTargetsByRuleCommand({ Rule: name, EventBusName: eventBusName }),
  );
  const wanted = new Set(targets.map((target) => target.Id));
  const stale = existing.map((target) => target.Id).filter((id): id is string => !!id && !wanted.has(id));
  if (stale.length > 0) {
    await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: eventBusName, Ids: stale }));
    state.log(`  rule ${name}: ${stale.length} target(s) removed`);
  }
  if (targets.length > 0) {
    const { FailedEntryCount, FailedEntries } = await events.send(
      new PutTargetsCommand({ Rule: name, EventBusName: eventBusName, Targets: targets }),
    );
    if (FailedEntryCount) throw new Error(`PutTargets failed: ${JSON.stringify(FailedEntries)}`);
  }
  const ref = eventBusName === 'default' ? name : `${eventBusName}|${name}`;
  return { ref, attributes: { Arn: RuleArn ?? state.arn('events', `rule/${eventBusName}/${name}`) } };
}

/**
 * Deletes a rule an earlier run created (its targets first), given the rule's `Ref` (`name` on the default bus,
 * `bus|name` on another); a rule that is already gone is no error.
 */
export async function deleteRule(state: ProvisionState, ref: string): Promise<void> {
  const { events } = state.clients;
  const [eventBusName, name] = ref.includes('|') ? ref.split('|', 2) : ['default', ref];
  try {
    const { Targets = [] } = await events.send(
      new ListTargetsByRuleCommand({ Rule: name, EventBusName: eventBusName }),
    );
    const ids = Targets.map((target) => target.Id).filter((id): id is string => !!id);
    if (ids.length > 0)
      await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: eventBusName, Ids: ids }));
    await events.send(new DeleteRuleCommand({ Name: name, EventBusName: eventBusName }));
    state.log(`  rule ${name}: deleted (no longer in the assembly)`);
  } catch (error) {
    if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
  }
}

/** A rule target of the template as PutTargets takes it. */
function targetOf(target: Props): Target {
  const transformer = target.InputTransformer as Props | undefined;
  return {
    Id: String(target.Id),
    Arn: String(target.Arn),
    ...(target.Input !== undefined ? { Input: String(target.Input) } : {}),
    ...(target.InputPath !== undefined ? { InputPath: String(target.InputPath) } : {}),
    ...(transformer
      ? {
          InputTransformer: {
            InputTemplate: String(transformer.InputTemplate),
            ...(transformer.InputPathsMap
              ? { InputPathsMap: transformer.InputPathsMap as Record<string, string> }
              : {}),
          },
        }
      : {}),
    ...(target.DeadLetterConfig !== undefined
      ? { DeadLetterConfig: target.DeadLetterConfig as Target['DeadLetterConfig'] }
      : {}),
    ...(target.RetryPolicy !== undefined ? { RetryPolicy: target.RetryPolicy as Target['RetryPolicy'] } : {}),
    ...(target.SqsParameters !== undefined
      ? { SqsParameters: target.SqsParameters as Target['SqsParameters'] }
      : {}),
  };
}
