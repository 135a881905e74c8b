/**
 * A composite alarm's rule (`AlarmRule`): `ALARM(x)`, `OK(x)` and `INSUFFICIENT_DATA(x)` of other alarms (by
 * ARN or name, quoted or not), `TRUE`, `FALSE`, `NOT`, `AND`, `OR` and parentheses, parsed once and evaluated on
 * the states of its alarms.
 */

/** An alarm's state, as CloudWatch names it. */
export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A parsed rule. */
export type RuleNode =
  | { readonly kind: 'constant'; readonly value: boolean }
  | { readonly kind: 'state'; readonly state: AlarmStateValue; readonly alarm: string }
  | { readonly kind: 'not'; readonly operand: RuleNode }
  | { readonly kind: 'and' | 'or'; readonly left: RuleNode; readonly right: RuleNode };

const STATES = new Set<string>(['ALARM', 'OK', 'INSUFFICIENT_DATA']);
const TOKEN = /\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([()])|([^\s()"']+))/y;

/** Parses an `AlarmRule`; throws naming what it cannot read. */
export function parseRule(rule: string): RuleNode {
  const tokens: { text: string; quoted: boolean }[] = [];
  let position = 0;
  while (position < rule.length && !/^\s*$/.test(rule.slice(position))) {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(rule);
    if (!match) throw new Error(`cannot read "${rule.slice(position).trim()}"`);
    tokens.push(
      match[1] !== undefined
        ? { text: match[1].slice(1, -1).replace(/\\(.)/g, '$1'), quoted: true }
        : { text: match[2] ?? match[3], quoted: false },
    );
    position = TOKEN.lastIndex;
  }
  let index = 0;
  const word = () => (tokens[index] && !tokens[index].quoted ? tokens[index].text.toUpperCase() : undefined);
  const take = (expected?: string) => {
    const token = tokens[index];
    if (!token || (expected !== undefined && (token.quoted || token.text !== expected)))
      throw new Error(`expected ${expected ?? 'more'} in the rule "${rule}"`);
    index++;
    return token;
  };
  const or = (): RuleNode => {
    let left = and();
    while (word() === 'OR') {
      take();
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): RuleNode => {
    let left = unary();
    while (word() === 'AND') {
      take();
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): RuleNode => {
    const upper = word();
    if (upper === 'NOT') {
      take();
      return { kind: 'not', operand: unary() };
    }
    if (upper === '(') {
      take('(');
      const inner = or();
      take(')');
      return inner;
    }
    if (upper === 'TRUE' || upper === 'FALSE') {
      take();
      return { kind: 'constant', value: upper === 'TRUE' };
    }
    if (upper && STATES.has(upper)) {
      take();
      take('(');
      const alarm = take().text;
      take(')');
      return { kind: 'state', state: upper as AlarmStateValue, alarm };
    }
    throw new Error(`unexpected "${tokens[index]?.text ?? 'end'}" in the rule "${rule}"`);
  };
  const node = or();
  if (index < tokens.length) throw new Error(`unexpected "${tokens[index].text}" in the rule "${rule}"`);
  return node;
}

/** The alarms (ARNs or names, as written) a rule refers to. */
export function alarmsOf(node: RuleNode): string[] {
  switch (node.kind) {
    case 'constant':
      return [];
    case 'state':
      return [node.alarm];
    case 'not':
      return alarmsOf(node.operand);
    default:
      return [...alarmsOf(node.left), ...alarmsOf(node.right)];
  }
}

/** Whether a rule holds, given each referred alarm's state. */
export function evaluateRule(node: RuleNode, stateOf: (alarm: string) => AlarmStateValue): boolean {
  switch (node.kind) {
    case 'constant':
      return node.value;
    case 'state':
      return stateOf(node.alarm) === node.state;
    case 'not':
      return !evaluateRule(node.operand, stateOf);
    case 'and':
      return evaluateRule(node.left, stateOf) && evaluateRule(node.right, stateOf);
    case 'or':
      return evaluateRule(node.left, stateOf) || evaluateRule(node.right, stateOf);
  }
}
