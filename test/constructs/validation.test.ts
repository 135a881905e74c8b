import { App, CfnParameter, CfnResource, Fn, Lazy, Stack, Token } from 'aws-cdk-lib';
import type { EventContract } from '../../functions/shared/events/contract';
import {
  fail,
  invalid,
  nagResourceName,
  requireContract,
  requireIntegerInRange,
  requireMatch,
  show,
} from '../../lib/constructs/validation';

describe('show', () => {
  it('quotes strings and renders other values as JSON', () => {
    expect(show('abc')).toBe('"abc"');
    expect(show('with "quotes"')).toBe('"with \\"quotes\\""');
    expect(show(42)).toBe('42');
    expect(show(1.5)).toBe('1.5');
    expect(show(true)).toBe('true');
    expect(show(null)).toBe('null');
    expect(show(['a', 1])).toBe('["a",1]');
    expect(show({ a: 1 })).toBe('{"a":1}');
  });

  it('renders undefined as the word undefined', () => {
    expect(show(undefined)).toBe('undefined');
  });

  it('falls back to String() for values JSON cannot render', () => {
    expect(show(Symbol('x'))).toBe('Symbol(x)');
    expect(show(BigInt(7))).toBe('7');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(show(cyclic)).toBe('[object Object]');
  });

  it('renders NaN and Infinity as JSON does (null)', () => {
    expect(show(Number.NaN)).toBe('null');
    expect(show(Number.POSITIVE_INFINITY)).toBe('null');
  });
});

describe('invalid and fail', () => {
  it('invalid builds "<construct>: invalid <prop> <value>: <expectation>"', () => {
    expect(invalid('Microservice', 'serviceName', 'Bad', 'use lowercase')).toBe(
      'Microservice: invalid serviceName "Bad": use lowercase',
    );
    expect(invalid('Platform', 'retentionDays', 0, 'must be positive')).toBe(
      'Platform: invalid retentionDays 0: must be positive',
    );
    expect(invalid('X', 'p', undefined, 'is required')).toBe('X: invalid p undefined: is required');
  });

  it('fail throws an Error with exactly the message invalid builds', () => {
    expect(() => fail('EventSubscription', 'batchSize', 11, 'must be at most 10')).toThrow(
      new Error('EventSubscription: invalid batchSize 11: must be at most 10'),
    );
  });
});

describe('requireMatch', () => {
  it('accepts a value the pattern matches', () => {
    expect(() => requireMatch('C', 'name', 'orders', /^[a-z]+$/, 'use lowercase letters')).not.toThrow();
  });

  it('refuses a value the pattern does not match, naming construct, prop and value', () => {
    expect(() => requireMatch('C', 'name', 'Orders', /^[a-z]+$/, 'use lowercase letters')).toThrow(
      new Error('C: invalid name "Orders": use lowercase letters'),
    );
    expect(() => requireMatch('C', 'name', '', /^[a-z]+$/, 'use lowercase letters')).toThrow(
      new Error('C: invalid name "": use lowercase letters'),
    );
  });
});

describe('requireIntegerInRange', () => {
  it('accepts undefined (the prop is optional) and whole numbers at and between the bounds', () => {
    expect.hasAssertions();
    for (const value of [undefined, 1, 5, 10]) {
      expect(() => requireIntegerInRange('C', 'batchSize', value, 1, 10)).not.toThrow();
    }
  });

  it('refuses numbers outside the range, fractions and NaN with the exact message', () => {
    expect.hasAssertions();
    const cases: Array<[number, string]> = [
      [0, '0'],
      [11, '11'],
      [-1, '-1'],
      [2.5, '2.5'],
      [Number.NaN, 'null'],
      [Number.POSITIVE_INFINITY, 'null'],
    ];
    for (const [value, shown] of cases) {
      expect(() => requireIntegerInRange('C', 'batchSize', value, 1, 10)).toThrow(
        new Error(`C: invalid batchSize ${shown}: must be a whole number from 1 to 10`),
      );
    }
  });
});

describe('requireContract', () => {
  const good: EventContract = {
    type: 'OrderPlaced',
    version: 1,
    producer: 'orders',
  } as unknown as EventContract;
  const withChanges = (changes: Record<string, unknown>): EventContract =>
    ({ ...good, ...changes }) as unknown as EventContract;

  it('accepts a contract with a PascalCase type, a service-name producer and a version of at least 1', () => {
    expect(() => requireContract('Microservice', 'publishes[0]', good)).not.toThrow();
    expect(() =>
      requireContract(
        'Microservice',
        'publishes[0]',
        withChanges({ type: 'Ab', version: 7, producer: 'ab' }),
      ),
    ).not.toThrow();
  });

  it('refuses a string (the event name) where a contract belongs', () => {
    expect(() =>
      requireContract('Microservice', 'publishes[0]', 'OrderPlaced' as unknown as EventContract),
    ).toThrow(
      new Error(
        'Microservice: invalid publishes[0] "OrderPlaced": pass the event contract object (defineContract), not its name',
      ),
    );
    expect(() => requireContract('Microservice', 'publishes[0]', null as unknown as EventContract)).toThrow(
      new Error(
        'Microservice: invalid publishes[0] null: pass the event contract object (defineContract), not its name',
      ),
    );
  });

  it('refuses a type that is not a PascalCase event name of 2-64 characters', () => {
    expect.hasAssertions();
    const cases: Array<[unknown, string]> = [
      ['orderPlaced', '"orderPlaced"'],
      ['O', '"O"'],
      ['Order-Placed', '"Order-Placed"'],
      [`O${'a'.repeat(64)}`, `"O${'a'.repeat(64)}"`],
      [undefined, 'undefined'],
      [3, '3'],
    ];
    for (const [type, shown] of cases) {
      expect(() => requireContract('EventType', 'contract', withChanges({ type }))).toThrow(
        new Error(
          `EventType: invalid contract.type ${shown}: use a PascalCase event name such as OrderPlaced`,
        ),
      );
    }
  });

  it('refuses a producer that is not a service name', () => {
    expect.hasAssertions();
    const cases: Array<[unknown, string]> = [
      ['Orders', '"Orders"'],
      ['o', '"o"'],
      ['1orders', '"1orders"'],
      [`o${'a'.repeat(31)}`, `"o${'a'.repeat(31)}"`],
      [undefined, 'undefined'],
    ];
    for (const [producer, shown] of cases) {
      expect(() => requireContract('EventType', 'contract', withChanges({ producer }))).toThrow(
        new Error(
          `EventType: invalid contract.producer ${shown}: use the producing service name (a lowercase letter, then 1-30 lowercase letters, digits or hyphens)`,
        ),
      );
    }
  });

  it('refuses a version that is not a whole number of at least 1', () => {
    expect.hasAssertions();
    const cases: Array<[unknown, string]> = [
      [0, '0'],
      [1.5, '1.5'],
      ['1', '"1"'],
      [undefined, 'undefined'],
    ];
    for (const [version, shown] of cases) {
      expect(() => requireContract('EventType', 'contract', withChanges({ version }))).toThrow(
        new Error(`EventType: invalid contract.version ${shown}: must be a whole number of at least 1`),
      );
    }
  });

  it('reports the type first when several fields are wrong', () => {
    expect(() =>
      requireContract('EventType', 'contract', withChanges({ type: 'x', producer: 'X', version: 0 })),
    ).toThrow(
      new Error('EventType: invalid contract.type "x": use a PascalCase event name such as OrderPlaced'),
    );
  });
});

describe('nagResourceName', () => {
  const stack = (): Stack =>
    new Stack(new App(), 'Nag', { env: { account: '111111111111', region: 'eu-west-1' } });

  it('returns a plain string unchanged', () => {
    expect(nagResourceName(stack(), 'arn:aws:s3:::bucket/*')).toBe('arn:aws:s3:::bucket/*');
  });

  it('writes a Ref as <LogicalId> and a GetAtt as <LogicalId.Attr>', () => {
    const s = stack();
    const res = new CfnResource(s, 'Queue', { type: 'AWS::SQS::Queue' });
    expect(nagResourceName(s, res.ref)).toBe('<Queue>');
    expect(nagResourceName(s, res.getAtt('Arn').toString())).toBe('<Queue.Arn>');
  });

  it('joins the rendered parts of an Fn::Join, resolving pseudo parameters as references', () => {
    const s = new Stack(new App(), 'Agnostic');
    const res = new CfnResource(s, 'Table', { type: 'AWS::DynamoDB::Table' });
    expect(nagResourceName(s, `${res.getAtt('Arn').toString()}/index/*`)).toBe('<Table.Arn>/index/*');
    expect(nagResourceName(s, `arn:${s.partition}:logs:${s.region}:${s.account}:log-group:x:*`)).toBe(
      'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:x:*',
    );
  });

  it('uses concrete values for a stack with an explicit environment', () => {
    const s = stack();
    expect(nagResourceName(s, `arn:aws:logs:${s.region}:${s.account}:*`)).toBe(
      'arn:aws:logs:eu-west-1:111111111111:*',
    );
  });

  it('renders any other intrinsic as its JSON', () => {
    const s = stack();
    expect(nagResourceName(s, Fn.sub('arn:${AWS::Partition}:s3:::b'))).toBe(
      '{"Fn::Sub":"arn:${AWS::Partition}:s3:::b"}',
    );
    expect(nagResourceName(s, Token.asString({ 'Fn::ImportValue': 'Exp' }))).toBe(
      '{"Fn::ImportValue":"Exp"}',
    );
  });
});

describe('CDK tokens (values known only at deploy time)', () => {
  const stack = () => new Stack(new App(), 'Tokens');

  it('show names a token instead of printing its placeholder', () => {
    const s = stack();
    expect(show(new CfnParameter(s, 'Env').valueAsString)).toBe('(a token, resolved at deploy time)');
    expect(show(`/Shop/${new CfnParameter(s, 'Part').valueAsString}/x`)).toBe(
      '(a token, resolved at deploy time)',
    );
    expect(show(Lazy.number({ produce: () => 256 }))).toBe('(a token, resolved at deploy time)');
  });

  it('requireMatch lets a string token (or a string containing one) through: CloudFormation checks it', () => {
    const s = stack();
    const env = new CfnParameter(s, 'Env').valueAsString;
    expect(() =>
      requireMatch('Platform', 'envName', env, /^[a-z][a-z0-9-]{0,15}$/, 'lowercase'),
    ).not.toThrow();
    expect(() => requireMatch('Platform', 'envName', `x${env}`, /^[a-z]+$/, 'lowercase')).not.toThrow();
    // A literal is still checked.
    expect(() => requireMatch('Platform', 'envName', 'Dev', /^[a-z]+$/, 'lowercase')).toThrow(
      'Platform: invalid envName "Dev": lowercase',
    );
  });

  it('requireIntegerInRange lets a number token through and still refuses a literal out of range', () => {
    const s = stack();
    const memory = new CfnParameter(s, 'Memory', { type: 'Number' }).valueAsNumber;
    expect(() => requireIntegerInRange('ServiceFunction', 'memorySize', memory, 128, 10240)).not.toThrow();
    expect(() =>
      requireIntegerInRange('ServiceFunction', 'memorySize', Lazy.number({ produce: () => 256 }), 128, 10240),
    ).not.toThrow();
    expect(() => requireIntegerInRange('ServiceFunction', 'memorySize', 64, 128, 10240)).toThrow(
      'ServiceFunction: invalid memorySize 64: must be a whole number from 128 to 10240',
    );
  });
});
