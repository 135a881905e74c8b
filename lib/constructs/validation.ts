import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
/**
 * Prop validation shared by the constructs: every failure names the construct, the prop and the bad value,
 * so a mistake fails `cdk synth` with a message that says exactly what to fix.
 */
export function fail(construct: string, prop: string, value: unknown, expectation: string): never {
  throw new Error(`${construct}: invalid ${prop} ${show(value)}: ${expectation}`);
}

/** Renders a value for an error message; CDK tokens are shown as such rather than as their placeholder. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function requireMatch(
  construct: string,
  prop: string,
  value: string,
  pattern: RegExp,
  expectation: string,
): void {
  if (!pattern.test(value)) fail(construct, prop, value, expectation);
}

export function requireIntegerInRange(
  construct: string,
  prop: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(construct, prop, value, `must be a whole number from ${min} to ${max}`);
  }
}

/**
 * How cdk-nag names a resource in an IAM finding id (`AwsSolutions-IAM5[Resource::<this>]`): the resolved
 * value with references written as `<LogicalId>` and attributes as `<LogicalId.Attr>`. Lets a construct
 * acknowledge exactly the wildcard resource it grants, whatever its logical ids and region end up being.
 */
export function nagResourceName(scope: IConstruct, value: string): string {
  const render = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (node && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if ('Ref' in obj) return `<${String(obj.Ref)}>`;
      if ('Fn::GetAtt' in obj) return `<${(obj['Fn::GetAtt'] as string[]).join('.')}>`;
      if ('Fn::Join' in obj) {
        const [separator, parts] = obj['Fn::Join'] as [string, unknown[]];
        return parts.map(render).join(separator);
      }
    }
    return JSON.stringify(node);
  };
  return render(Stack.of(scope).resolve(value));
}
