/**
 * CloudFormation intrinsic functions, resolved within one stack template against the physical values the local
 * provisioner recorded for the resources it created (or stood in for).
 */

/** A CloudFormation template, as far as the local runtime reads it. */
export interface Template {
  readonly Parameters?: Record<string, TemplateParameter>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, unknown>;
}

/** A template parameter. */
export interface TemplateParameter {
  readonly Type: string;
  readonly Default?: unknown;
  readonly Description?: string;
}

/** A template resource. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

/** What a resource resolves to: its `Ref` and its `Fn::GetAtt` attributes. */
export interface ResourceValues {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Answers attributes not in `attributes` (for resources the runtime only stands in for). */
  readonly otherAttribute?: (name: string) => unknown;
}

/** What a {@link TemplateResolver} resolves against. */
export interface ResolverOptions {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** Values of the template's parameters (see {@link loadParameters}). */
  readonly parameters: Readonly<Record<string, string>>;
  /** The values recorded for a resource of this stack, or undefined when it is not provisioned (yet). */
  readonly resource: (logicalId: string) => ResourceValues | undefined;
  /** Applied to every string `Fn::Join` and `Fn::Sub` produce (e.g. to point API URLs at the local gateway). */
  readonly rewrite?: (value: string) => string;
}

/** Thrown when a template uses something the resolver cannot evaluate. */
export class IntrinsicError extends Error {
  override readonly name = 'IntrinsicError';
}

/** Marks `AWS::NoValue`: the property (or list element) is removed. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

const URL_SUFFIX = 'amazonaws.com';

/** Resolves intrinsic functions, pseudo parameters, parameters and conditions of one stack template. */
export class TemplateResolver {
  private readonly conditionValues = new Map<string, boolean>();

  constructor(
    private readonly template: Template,
    private readonly options: ResolverOptions,
  ) {}

  /** `value` with every intrinsic function replaced by its value (`AWS::NoValue` properties removed). */
  resolve(value: unknown, where = ''): unknown {
    const resolved = this.eval(value, where);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves `value` and requires a string (numbers and booleans are turned into strings). */
  resolveString(value: unknown, where = ''): string {
    const resolved = this.resolve(value, where);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new IntrinsicError(`${this.at(where)}: expected a string, got ${JSON.stringify(resolved)}`);
  }

  /** Whether the named condition of the template holds. */
  condition(name: string): boolean {
    const known = this.conditionValues.get(name);
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new IntrinsicError(`${this.options.stackName}: no condition ${name}`);
    const value = this.evalCondition(definition, `Conditions.${name}`);
    this.conditionValues.set(name, value);
    return value;
  }

  private at(where: string): string {
    return where ? `${this.options.stackName} ${where}` : this.options.stackName;
  }

  private eval(value: unknown, where: string): unknown {
    if (Array.isArray(value)) {
      return value.map((item, i) => this.eval(item, `${where}[${i}]`)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0];
      if (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition') {
        if (key === 'Condition' && typeof argument !== 'string') return this.evalObject(entries, where);
        return this.intrinsic(key, argument, where);
      }
    }
    return this.evalObject(entries, where);
  }

  private evalObject(entries: [string, unknown][], where: string): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.eval(item, where ? `${where}.${key}` : key);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private intrinsic(name: string, argument: unknown, where: string): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(argument), where);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument)
          ? [String(argument[0]), String(this.eval(argument[1], where))]
          : splitOnce(String(argument), '.');
        return this.getAtt(logicalId, attribute, where);
      }
      case 'Fn::Join': {
        const [separator, items] = expectArray(argument, 2, name, this.at(where));
        const list = this.eval(items, where);
        if (!Array.isArray(list)) throw new IntrinsicError(`${this.at(where)}: Fn::Join needs a list`);
        return this.rewrite(list.map((item) => this.scalar(item, name, where)).join(String(separator)));
      }
      case 'Fn::Sub':
        return this.rewrite(this.sub(argument, where));
      case 'Fn::Select': {
        const [index, items] = expectArray(argument, 2, name, this.at(where));
        const list = this.eval(items, where);
        const i = Number(this.eval(index, where));
        if (!Array.isArray(list) || !Number.isInteger(i) || i < 0 || i >= list.length) {
          throw new IntrinsicError(`${this.at(where)}: Fn::Select ${i} out of ${JSON.stringify(list)}`);
        }
        return list[i];
      }
      case 'Fn::Split': {
        const [separator, source] = expectArray(argument, 2, name, this.at(where));
        return this.scalar(this.eval(source, where), name, where).split(String(separator));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = expectArray(argument, 3, name, this.at(where));
        return this.eval(this.condition(String(condition)) ? whenTrue : whenFalse, where);
      }
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Condition':
        return this.evalCondition({ [name]: argument }, where);
      case 'Fn::Base64':
        return Buffer.from(this.scalar(this.eval(argument, where), name, where)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.options.region}${zone}`);
      case 'Fn::ToJsonString':
        return JSON.stringify(this.eval(argument, where));
      default:
        throw new IntrinsicError(`${this.at(where)}: the local runtime cannot evaluate ${name}`);
    }
  }

  private evalCondition(definition: unknown, where: string): boolean {
    if (typeof definition === 'boolean') return definition;
    if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
      throw new IntrinsicError(`${this.at(where)}: not a condition: ${JSON.stringify(definition)}`);
    }
    const [[name, argument]] = Object.entries(definition as Record<string, unknown>);
    switch (name) {
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::Equals': {
        const [left, right] = expectArray(argument, 2, name, this.at(where));
        return JSON.stringify(this.eval(left, where)) === JSON.stringify(this.eval(right, where));
      }
      case 'Fn::Not':
        return !this.evalCondition(expectArray(argument, 1, name, this.at(where))[0], where);
      case 'Fn::And':
        return (argument as unknown[]).every((item) => this.evalCondition(item, where));
      case 'Fn::Or':
        return (argument as unknown[]).some((item) => this.evalCondition(item, where));
      default:
        throw new IntrinsicError(`${this.at(where)}: the local runtime cannot evaluate condition ${name}`);
    }
  }

  private ref(name: string, where: string): unknown {
    const { options } = this;
    switch (name) {
      case 'AWS::Region':
        return options.region;
      case 'AWS::AccountId':
        return options.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return URL_SUFFIX;
      case 'AWS::StackName':
        return options.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${options.region}:${options.accountId}:stack/${options.stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    if (this.template.Parameters?.[name]) {
      const value = options.parameters[name];
      if (value === undefined) throw new IntrinsicError(`${this.at(where)}: parameter ${name} has no value`);
      return value;
    }
    return this.values(name, where).ref;
  }

  private getAtt(logicalId: string, attribute: string, where: string): unknown {
    const values = this.values(logicalId, where);
    if (attribute in values.attributes) return values.attributes[attribute];
    const other = values.otherAttribute?.(attribute);
    if (other !== undefined) return other;
    throw new IntrinsicError(`${this.at(where)}: ${logicalId} has no attribute ${attribute} locally`);
  }

  private values(logicalId: string, where: string): ResourceValues {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new IntrinsicError(`${this.at(where)}: no resource or parameter ${logicalId}`);
    const values = this.options.resource(logicalId);
    if (!values) {
      throw new IntrinsicError(`${this.at(where)}: ${logicalId} (${resource.Type}) is not provisioned yet`);
    }
    return values;
  }

  private sub(argument: unknown, where: string): string {
    const [text, variables] = Array.isArray(argument) ? [argument[0], argument[1]] : [argument, {}];
    if (typeof text !== 'string') throw new IntrinsicError(`${this.at(where)}: Fn::Sub needs a string`);
    const locals = (variables ?? {}) as Record<string, unknown>;
    return text.replace(/\$\{([^}]*)\}/g, (_match, expression: string) => {
      if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
      const name = expression.trim();
      if (name in locals) return this.scalar(this.eval(locals[name], where), 'Fn::Sub', where);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) {
        return this.scalar(this.getAtt(name.slice(0, dot), name.slice(dot + 1), where), 'Fn::Sub', where);
      }
      return this.scalar(this.ref(name, where), 'Fn::Sub', where);
    });
  }

  private scalar(value: unknown, fn: string, where: string): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new IntrinsicError(`${this.at(where)}: ${fn} needs strings, got ${JSON.stringify(value)}`);
  }

  private rewrite(value: string): string {
    return this.options.rewrite ? this.options.rewrite(value) : value;
  }
}

/**
 * Values of the template parameters that the template uses: `AWS::SSM::Parameter::Value<String>` parameters are
 * read from the emulator's SSM (the name is the Default), other parameters take their Default.
 */
export async function loadParameters(
  template: Template,
  readSsmParameter: (name: string) => Promise<string>,
): Promise<Record<string, string>> {
  const used = referencedNames({
    Resources: template.Resources,
    Conditions: template.Conditions,
    Outputs: {},
  });
  const values: Record<string, string> = {};
  for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
    if (!used.has(name)) continue;
    if (/^AWS::SSM::Parameter::Value<.*>$/.test(parameter.Type)) {
      if (typeof parameter.Default !== 'string')
        throw new IntrinsicError(`Parameter ${name} names no SSM parameter`);
      values[name] = await readSsmParameter(parameter.Default);
    } else if (parameter.Default !== undefined) {
      values[name] = Array.isArray(parameter.Default)
        ? parameter.Default.join(',')
        : String(parameter.Default);
    } else {
      throw new IntrinsicError(
        `Parameter ${name} (${parameter.Type}) has no default; the local runtime needs one`,
      );
    }
  }
  return values;
}

/** Logical ids a value refers to with `Ref`, `Fn::GetAtt` or `${...}` of `Fn::Sub` (parameters included). */
export function referencedNames(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedNames(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof item === 'string') found.add(item);
      else if (key === 'Fn::GetAtt') {
        found.add(Array.isArray(item) ? String(item[0]) : splitOnce(String(item), '.')[0]);
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(item) ? item[0] : item;
        if (typeof text === 'string') {
          for (const [, expression] of text.matchAll(/\$\{([^}!][^}]*)\}/g))
            found.add(expression.split('.')[0]);
        }
        if (Array.isArray(item)) referencedNames(item[1], found);
      } else referencedNames(item, found);
    }
  }
  return found;
}

/**
 * The template's resources in an order where every resource comes after the resources it refers to (Ref,
 * GetAtt, Sub) or depends on (DependsOn); template order otherwise. Throws on a cycle.
 */
export function topologicalOrder(template: Template): string[] {
  const ids = Object.keys(template.Resources);
  const dependencies = new Map<string, Set<string>>();
  for (const id of ids) {
    const resource = template.Resources[id];
    const names = referencedNames(resource.Properties ?? {});
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    for (const name of dependsOn) names.add(name);
    dependencies.set(id, new Set([...names].filter((name) => name !== id && name in template.Resources)));
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    const current = state.get(id);
    if (current === 'done') return;
    if (current === 'visiting') throw new IntrinsicError(`Dependency cycle: ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const dependency of dependencies.get(id) ?? []) visit(dependency, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of ids) visit(id, []);
  return order;
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}

function expectArray(argument: unknown, length: number, fn: string, where: string): unknown[] {
  if (!Array.isArray(argument) || argument.length < length) {
    throw new IntrinsicError(`${where}: ${fn} needs a list of ${length}, got ${JSON.stringify(argument)}`);
  }
  return argument;
}
