/**
 * The part of CloudWatch metric math that alarm expressions use, evaluated on one period's datapoints:
 * numbers, metric ids, `+ - * / ^`, comparisons (`== != < <= > >=`, giving 1 or 0), `AND`/`&&`, `OR`/`||`,
 * parentheses, lists `[a, b]` and the functions `FILL`, `IF`, `PERIOD`, `ABS`, `CEIL`, `FLOOR`, `MIN`, `MAX`,
 * `SUM`, `AVG` and `REMOVE_EMPTY`. A missing datapoint (no data in the period) propagates as `undefined`
 * until a `FILL` gives it a value. Anything else (SEARCH, ANOMALY_DETECTION_BAND, RATE, DIFF, ...) is refused
 * when the expression is parsed, and the alarm is listed as not evaluated locally.
 */

/** A value of an expression on one period: a datapoint, none, or a list (of metrics). */
export type MathValue = number | undefined | readonly (number | undefined)[];

/** A parsed expression. */
export type MathNode =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'word'; readonly word: string }
  | { readonly kind: 'list'; readonly items: readonly MathNode[] }
  | { readonly kind: 'negate'; readonly operand: MathNode }
  | { readonly kind: 'binary'; readonly operator: string; readonly left: MathNode; readonly right: MathNode }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly MathNode[] };

/** What an expression reads on the period evaluated. */
export interface MathContext {
  /** The datapoint of metric (or expression) `id` in the period; undefined when it has none. */
  value(id: string): MathValue;
  /** The period of `id`, seconds. */
  period(id: string): number;
}

/** The functions {@link evaluateMath} knows. */
const FUNCTIONS = new Set([
  'FILL',
  'IF',
  'PERIOD',
  'ABS',
  'CEIL',
  'FLOOR',
  'MIN',
  'MAX',
  'SUM',
  'AVG',
  'REMOVE_EMPTY',
]);
/** Words that stand for themselves as function arguments (`FILL(m1, REPEAT)`). */
const WORDS = new Set(['REPEAT', 'LINEAR']);

const TOKEN =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^()<>,[\]])|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))/y;

/** Parses an expression; throws (naming what is not supported) for what {@link evaluateMath} cannot evaluate. */
export function parseMath(expression: string): MathNode {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < expression.length) {
    if (/^\s*$/.test(expression.slice(position))) break;
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(expression);
    if (!match) throw new Error(`cannot read "${expression.slice(position).trim()}"`);
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4]);
    position = TOKEN.lastIndex;
  }
  let index = 0;
  const peek = () => tokens[index];
  const take = (expected?: string): string => {
    const token = tokens[index];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw new Error(`expected ${expected ?? 'more'} at "${tokens.slice(index).join(' ')}"`);
    index++;
    return token;
  };
  const binary = (operators: readonly string[], next: () => MathNode) => (): MathNode => {
    let left = next();
    while (operators.includes(peek()?.toUpperCase() ?? '')) {
      const operator = normalizeOperator(take());
      left = { kind: 'binary', operator, left, right: next() };
    }
    return left;
  };
  const primary = (): MathNode => {
    const token = take();
    if (token === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (token === '[') {
      const items: MathNode[] = [];
      if (peek() !== ']') {
        items.push(or());
        while (peek() === ',') {
          take(',');
          items.push(or());
        }
      }
      take(']');
      return { kind: 'list', items };
    }
    if (token === '-') return { kind: 'negate', operand: power() };
    if (/^[\d.]/.test(token)) return { kind: 'number', value: Number(token) };
    if (/^['"]/.test(token)) throw new Error(`strings (${token}) are not evaluated locally`);
    if (!/^[A-Za-z_]/.test(token)) throw new Error(`unexpected "${token}"`);
    if (peek() === '(') {
      const name = token.toUpperCase();
      if (!FUNCTIONS.has(name)) throw new Error(`the metric math function ${name} is not evaluated locally`);
      take('(');
      const args: MathNode[] = [];
      if (peek() !== ')') {
        args.push(or());
        while (peek() === ',') {
          take(',');
          args.push(or());
        }
      }
      take(')');
      return { kind: 'call', name, args };
    }
    if (WORDS.has(token.toUpperCase())) return { kind: 'word', word: token.toUpperCase() };
    return { kind: 'id', id: token };
  };
  const power = (): MathNode => {
    const base = primary();
    if (peek() !== '^') return base;
    take('^');
    return { kind: 'binary', operator: '^', left: base, right: power() };
  };
  const product = binary(['*', '/'], power);
  const sum = binary(['+', '-'], product);
  const comparison = binary(['==', '!=', '<', '<=', '>', '>='], sum);
  const and = binary(['AND', '&&'], comparison);
  const or = binary(['OR', '||'], and);
  const node = or();
  if (index < tokens.length) throw new Error(`unexpected "${tokens.slice(index).join(' ')}"`);
  return node;
}

function normalizeOperator(token: string): string {
  const upper = token.toUpperCase();
  return upper === '&&' ? 'AND' : upper === '||' ? 'OR' : upper;
}

/** The metric and expression ids an expression reads. */
export function idsOf(node: MathNode): Set<string> {
  const ids = new Set<string>();
  const visit = (n: MathNode): void => {
    switch (n.kind) {
      case 'id':
        ids.add(n.id);
        break;
      case 'list':
        n.items.forEach(visit);
        break;
      case 'negate':
        visit(n.operand);
        break;
      case 'binary':
        visit(n.left);
        visit(n.right);
        break;
      case 'call':
        n.args.forEach(visit);
        break;
      default:
        break;
    }
  };
  visit(node);
  return ids;
}

/** The value of a parsed expression on one period. */
export function evaluateMath(node: MathNode, context: MathContext): MathValue {
  switch (node.kind) {
    case 'number':
      return node.value;
    case 'id':
      return context.value(node.id);
    case 'word':
      throw new Error(`${node.word} is only an argument of FILL`);
    case 'list':
      return node.items.flatMap((item) => listOf(evaluateMath(item, context)));
    case 'negate':
      return map(evaluateMath(node.operand, context), (v) => -v);
    case 'binary':
      return combine(node.operator, evaluateMath(node.left, context), evaluateMath(node.right, context));
    case 'call':
      return call(node, context);
  }
}

function call(node: Extract<MathNode, { kind: 'call' }>, context: MathContext): MathValue {
  const [first, second, third] = node.args;
  const arg = (n: MathNode | undefined) => (n ? evaluateMath(n, context) : undefined);
  switch (node.name) {
    case 'FILL': {
      if (!first || !second) throw new Error('FILL takes a metric and a value');
      // REPEAT and LINEAR fill from neighbouring datapoints: one period is evaluated at a time, so a gap stays one.
      if (second.kind === 'word') return arg(first);
      const filler = scalarOf(arg(second));
      return map(arg(first), (v) => v, filler);
    }
    case 'IF': {
      const condition = arg(first);
      if (Array.isArray(condition)) throw new Error('IF takes a single series as its condition');
      if (condition === undefined) return undefined;
      return condition !== 0 ? arg(second) : third ? arg(third) : undefined;
    }
    case 'PERIOD': {
      if (first?.kind !== 'id') throw new Error('PERIOD takes a metric id');
      return context.period(first.id);
    }
    case 'ABS':
      return map(arg(first), Math.abs);
    case 'CEIL':
      return map(arg(first), Math.ceil);
    case 'FLOOR':
      return map(arg(first), Math.floor);
    case 'REMOVE_EMPTY':
      return listOf(arg(first)).filter((v) => v !== undefined);
    case 'MIN':
    case 'MAX':
    case 'SUM':
    case 'AVG': {
      const values = listOf(arg(first)).filter((v): v is number => v !== undefined);
      if (values.length === 0) return undefined;
      if (node.name === 'MIN') return Math.min(...values);
      if (node.name === 'MAX') return Math.max(...values);
      const total = values.reduce((a, b) => a + b, 0);
      return node.name === 'SUM' ? total : total / values.length;
    }
    default:
      throw new Error(`the metric math function ${node.name} is not evaluated locally`);
  }
}

function listOf(value: MathValue): (number | undefined)[] {
  return Array.isArray(value) ? [...(value as (number | undefined)[])] : [value as number | undefined];
}

function scalarOf(value: MathValue): number | undefined {
  if (Array.isArray(value)) throw new Error('a list where a number was expected');
  return value as number | undefined;
}

/** `f` applied to a datapoint or to each of a list; a missing datapoint stays missing (or becomes `filler`). */
function map(value: MathValue, f: (v: number) => number, filler?: number): MathValue {
  const one = (v: number | undefined) =>
    v === undefined ? (filler === undefined ? undefined : f(filler)) : f(v);
  return Array.isArray(value) ? (value as (number | undefined)[]).map(one) : one(value as number | undefined);
}

function combine(operator: string, left: MathValue, right: MathValue): MathValue {
  if (Array.isArray(left) || Array.isArray(right)) {
    const l = listOf(left);
    const r = listOf(right);
    const length = Math.max(l.length, r.length);
    return Array.from({ length }, (_, i) =>
      apply(operator, l[l.length === 1 ? 0 : i], r[r.length === 1 ? 0 : i]),
    );
  }
  return apply(operator, left as number | undefined, right as number | undefined);
}

function apply(operator: string, left: number | undefined, right: number | undefined): number | undefined {
  if (left === undefined || right === undefined) return undefined;
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      // CloudWatch drops a datapoint divided by zero.
      return right === 0 ? undefined : left / right;
    case '^':
      return left ** right;
    case '==':
      return left === right ? 1 : 0;
    case '!=':
      return left !== right ? 1 : 0;
    case '<':
      return left < right ? 1 : 0;
    case '<=':
      return left <= right ? 1 : 0;
    case '>':
      return left > right ? 1 : 0;
    case '>=':
      return left >= right ? 1 : 0;
    case 'AND':
      return left !== 0 && right !== 0 ? 1 : 0;
    case 'OR':
      return left !== 0 || right !== 0 ? 1 : 0;
    default:
      throw new Error(`operator ${operator} is not evaluated locally`);
  }
}
